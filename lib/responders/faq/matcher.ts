import { createHash } from 'node:crypto';
import type { Faq } from '../../tenants/client-schemas.ts';
import { tokenize } from '../../text/normalize.ts';
import { CONCEPT_WEIGHTS, type ConceptHit, findConcepts, isOffTopicHit } from './concepts.ts';
import { STOPWORDS } from './lexicon.ts';
import { similarStems, stem } from './word-similarity.ts';

/**
 * Scores a customer's question against a tenant's FAQs. The question is cut into meaningful units
 * (content words, and stopwords that carry a concept such as "donde"). Each unit weighs by how rare
 * its evidence is among the tenant's FAQs (a word none of them knows still weighs, so a question that
 * is mostly about something else scores low), and each FAQ supports it through:
 * - a bilingual concept of the unit found in the FAQ's question (full) or answer (ANSWER_WEIGHT),
 *   which is what lets "where are you located?" meet "¿Dónde estáis?";
 * - the unit's stem found in the FAQ's question or answer, typos tolerated through edit distance and
 *   character trigrams.
 * A FAQ's score is the weighted share of supported units. Off-topic words (weather, football,
 * poems...) are units no FAQ supports, with OFF_TOPIC_WEIGHT.
 */

const ANSWER_WEIGHT = 0.6;
/** Weight of a question word or concept none of the tenant's FAQs mention, relative to a rare one. */
const UNKNOWN_WEIGHT = 0.5;
/** Weight of an off-topic word, relative to an unknown one. */
const OFF_TOPIC_WEIGHT = 2;

export interface Analysis {
  tokens: string[];
  /** Indices of content tokens (not stopwords, not bare numbers). */
  content: number[];
  stems: Map<number, string>;
  hits: ConceptHit[];
  concepts: Set<string>;
  offTopic: boolean;
  /** How many off-topic entries the text has ("partido", "weather"...). */
  offTopicUnits: number;
}

const isStopword = (token: string) => STOPWORDS.es.has(token) || STOPWORDS.en.has(token);
/** An amount of money ("12€", "£45", "30 euros") makes a text about prices even without the word. */
const MONEY = /[€£$]\s*\d|\d\s*[€£$]|\d\s*(eur|euros|usd|dolares|dollars|libras|pounds)\b/i;

export function analyze(text: string): Analysis {
  const tokens = tokenize(text);
  const content: number[] = [];
  const stems = new Map<number, string>();
  tokens.forEach((token, index) => {
    if (isStopword(token) || /^\d+$/.test(token) || token.length < 2) return;
    content.push(index);
    stems.set(index, stem(token));
  });
  const allHits = findConcepts(tokens, isStopword);
  const hits = allHits.filter((hit) => !isOffTopicHit(hit));
  const concepts = new Set(hits.map((hit) => hit.concept));
  if (MONEY.test(text)) concepts.add('price');
  const offTopicUnits = allHits.filter(isOffTopicHit).length;
  return { tokens, content, stems, hits, concepts, offTopic: offTopicUnits > 0, offTopicUnits };
}

/**
 * The units of a question: its content tokens, plus the stopwords that carry a concept no content
 * token carries ("donde" in "donde estais", but not "cuanto" in "cuanto cuesta").
 */
function units(question: Analysis): Array<{ stem?: string; concepts: string[] }> {
  const conceptsAt = (i: number) =>
    question.hits.filter((hit) => hit.tokens.includes(i)).map((hit) => hit.concept);
  const result: Array<{ stem?: string; concepts: string[] }> = question.content.map((i) => {
    const s = question.stems.get(i);
    return s === undefined ? { concepts: conceptsAt(i) } : { stem: s, concepts: conceptsAt(i) };
  });
  const carried = new Set(result.flatMap((unit) => unit.concepts));
  for (const hit of question.hits) {
    if (carried.has(hit.concept)) continue;
    carried.add(hit.concept);
    result.push({ concepts: [hit.concept] });
  }
  return result;
}

interface IndexedFaq {
  questionConcepts: Set<string>;
  answerConcepts: Set<string>;
  questionStems: string[];
  answerStems: string[];
}

interface FaqIndex {
  faqs: IndexedFaq[];
  conceptDf: Map<string, number>;
  stemDf: Map<string, number>;
  vocabulary: string[];
  size: number;
}

/**
 * Indexes by FAQ content (requests carry fresh arrays loaded from storage), least recently used out.
 * Each warm Lambda keeps the few tenants it serves.
 */
const INDEX_CACHE_SIZE = 64;
const indexCache = new Map<string, FaqIndex>();

function cacheKey(faqs: readonly Faq[]): string {
  const hash = createHash('sha256');
  for (const faq of faqs) hash.update(faq.q).update('\u0000').update(faq.a).update('\u0001');
  return hash.digest('base64');
}

function buildIndex(faqs: readonly Faq[]): FaqIndex {
  const key = cacheKey(faqs);
  const cached = indexCache.get(key);
  if (cached) {
    indexCache.delete(key);
    indexCache.set(key, cached);
    return cached;
  }
  const conceptDf = new Map<string, number>();
  const stemDf = new Map<string, number>();
  const indexed = faqs.map((faq) => {
    const q = analyze(faq.q);
    const a = analyze(faq.a);
    const questionStems = [...new Set(q.stems.values())];
    const answerStems = [...new Set(a.stems.values())].filter((s) => !questionStems.includes(s));
    const answerConcepts = new Set([...a.concepts].filter((c) => !q.concepts.has(c)));
    for (const concept of new Set([...q.concepts, ...answerConcepts])) {
      conceptDf.set(concept, (conceptDf.get(concept) ?? 0) + 1);
    }
    for (const s of new Set([...questionStems, ...answerStems])) stemDf.set(s, (stemDf.get(s) ?? 0) + 1);
    return { questionConcepts: q.concepts, answerConcepts, questionStems, answerStems };
  });
  const index: FaqIndex = {
    faqs: indexed,
    conceptDf,
    stemDf,
    vocabulary: [...stemDf.keys()],
    size: faqs.length,
  };
  indexCache.set(key, index);
  if (indexCache.size > INDEX_CACHE_SIZE) {
    const oldest = indexCache.keys().next().value;
    if (oldest !== undefined) indexCache.delete(oldest);
  }
  return index;
}

/** Rarity weight: a word in one FAQ of eight weighs about three times one that is in all of them. */
function idf(df: number, size: number): number {
  return df > 0 ? Math.log(1 + size / df) : UNKNOWN_WEIGHT * Math.log(1 + size);
}

function stemWeight(index: FaqIndex, s: string): number {
  let df = index.stemDf.get(s) ?? 0;
  if (df === 0) {
    for (const known of index.vocabulary) {
      if (similarStems(s, known)) df = Math.max(df, index.stemDf.get(known) ?? 0);
    }
  }
  return idf(df, index.size);
}

const containsStem = (stems: readonly string[], s: string) => stems.some((known) => similarStems(s, known));

export interface FaqScore {
  index: number;
  score: number;
}

/** Scores every FAQ (same order as `faqs`), in [0, 1]. */
export function scoreFaqs(faqs: readonly Faq[], question: Analysis): FaqScore[] {
  if (faqs.length === 0) return [];
  const index = buildIndex(faqs);
  // Each unit brings evidence (its stem, its concepts) the tenant's FAQs know, each with a rarity
  // weight; a unit weighs as much as its strongest evidence, or the unknown weight when it has none.
  const weighted = units(question).map((unit) => {
    const concepts = unit.concepts
      .filter((concept) => index.conceptDf.has(concept))
      .map((concept) => ({
        concept,
        weight: (CONCEPT_WEIGHTS.get(concept) ?? 1) * idf(index.conceptDf.get(concept) ?? 0, index.size),
      }));
    const stemKnown = unit.stem !== undefined && stemWeight(index, unit.stem) !== idf(0, index.size);
    const stemW = stemKnown && unit.stem !== undefined ? stemWeight(index, unit.stem) : 0;
    // A word the lexicon knows weighs what its concept weighs (so "cuesta" counts as much as "precio",
    // however rare the exact word is); other known words weigh by their own rarity.
    const conceptW = Math.max(0, ...concepts.map((c) => c.weight));
    const weight = conceptW > 0 ? conceptW : stemW > 0 ? stemW : idf(0, index.size);
    return { stem: stemKnown ? unit.stem : undefined, stemW: Math.min(stemW, weight), concepts, weight };
  });
  const offTopicWeight = question.offTopicUnits * OFF_TOPIC_WEIGHT * idf(0, index.size);
  const total = weighted.reduce((sum, w) => sum + w.weight, offTopicWeight);

  return index.faqs.map((faq, i) => {
    let supported = 0;
    for (const { stem: s, stemW, concepts } of weighted) {
      let support = 0;
      for (const { concept, weight } of concepts) {
        if (faq.questionConcepts.has(concept)) support = Math.max(support, weight);
        else if (faq.answerConcepts.has(concept)) support = Math.max(support, ANSWER_WEIGHT * weight);
      }
      if (s !== undefined) {
        if (containsStem(faq.questionStems, s)) support = Math.max(support, stemW);
        else if (containsStem(faq.answerStems, s)) support = Math.max(support, ANSWER_WEIGHT * stemW);
      }
      supported += support;
    }
    const score = total > 0 ? supported / total : 0;
    return { index: i, score: Math.min(1, Math.max(0, score)) };
  });
}
