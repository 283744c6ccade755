import { CONCEPTS, type Lang, OFF_TOPIC } from './lexicon.ts';
import { editDistance } from './word-similarity.ts';

/** One lexicon entry, compiled: its words (each exact or a prefix) and where it came from. */
interface Matcher {
  concept: string;
  lang: Lang | undefined;
  words: ReadonlyArray<{ text: string; prefix: boolean }>;
}

export interface ConceptHit {
  concept: string;
  lang: Lang | undefined;
  /** Indices of the tokens the entry covered. */
  tokens: number[];
}

const OFF_TOPIC_CONCEPT = 'off-topic';

function compile(concept: string, lang: Lang | undefined, entries: readonly string[] | undefined): Matcher[] {
  return (entries ?? []).map((entry) => ({
    concept,
    lang,
    words: entry
      .split(' ')
      .map((word) =>
        word.endsWith('*') ? { text: word.slice(0, -1), prefix: true } : { text: word, prefix: false },
      ),
  }));
}

const MATCHERS: readonly Matcher[] = [
  ...CONCEPTS.flatMap((def) => [
    ...compile(def.id, 'es', def.es),
    ...compile(def.id, 'en', def.en),
    ...compile(def.id, undefined, def.both),
  ]),
  ...compile(OFF_TOPIC_CONCEPT, undefined, OFF_TOPIC),
];

/** Matchers by the first letter of their first word: a token only meets the entries it could match. */
const BY_FIRST_LETTER = new Map<string, Matcher[]>();
for (const matcher of MATCHERS) {
  const letter = matcher.words[0]?.text[0] ?? '';
  BY_FIRST_LETTER.set(letter, [...(BY_FIRST_LETTER.get(letter) ?? []), matcher]);
}
const candidates = (token: string): readonly Matcher[] => BY_FIRST_LETTER.get(token[0] ?? '') ?? [];

export const CONCEPT_WEIGHTS: ReadonlyMap<string, number> = new Map(
  CONCEPTS.map((def) => [def.id, def.weight ?? 1]),
);

function wordMatches(token: string, word: { text: string; prefix: boolean }): boolean {
  return word.prefix ? token.startsWith(word.text) : token === word.text;
}

/** A typo of a long lexicon word (6+ letters): one edit away, same first two letters ("direcion" ~ "direccion"). */
function fuzzyWordMatches(token: string, word: { text: string; prefix: boolean }): boolean {
  const { text } = word;
  if (text.length < 6 || token.length < 5 || token.slice(0, 2) !== text.slice(0, 2)) return false;
  if (!word.prefix) return Math.abs(token.length - text.length) <= 1 && editDistance(token, text) <= 1;
  if (token.length < text.length - 1) return false;
  return [text.length - 1, text.length, text.length + 1].some(
    (n) => editDistance(token.slice(0, n), text) <= 1,
  );
}

/**
 * Finds lexicon entries in a token list. Exact entries win; a long content token no entry covers
 * may still match a single-word entry up to one typo. `ignore` lists tokens never matched fuzzily
 * (stopwords).
 */
export function findConcepts(tokens: readonly string[], ignore: (token: string) => boolean): ConceptHit[] {
  const hits: ConceptHit[] = [];
  const covered = new Set<number>();
  for (let i = 0; i < tokens.length; i++) {
    for (const matcher of candidates(tokens[i] ?? '')) {
      const { words } = matcher;
      if (i + words.length > tokens.length) continue;
      let all = true;
      for (let k = 0; k < words.length && all; k++) {
        const word = words[k];
        const token = tokens[i + k];
        all = word !== undefined && token !== undefined && wordMatches(token, word);
      }
      if (!all) continue;
      const indices = words.map((_, k) => i + k);
      hits.push({ concept: matcher.concept, lang: matcher.lang, tokens: indices });
      for (const index of indices) covered.add(index);
    }
  }
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i];
    if (token === undefined || covered.has(i) || ignore(token)) continue;
    for (const matcher of candidates(token)) {
      const word = matcher.words[0];
      if (matcher.words.length !== 1 || word === undefined || matcher.concept === OFF_TOPIC_CONCEPT) continue;
      if (fuzzyWordMatches(token, word))
        hits.push({ concept: matcher.concept, lang: matcher.lang, tokens: [i] });
    }
  }
  return hits;
}

export function isOffTopicHit(hit: ConceptHit): boolean {
  return hit.concept === OFF_TOPIC_CONCEPT;
}
