import { cannedReplies, replyLanguage } from '../conversation/canned-replies.ts';
import type { DeclineReason, Responder, ResponderReply, ResponderRequest } from '../conversation/ports.ts';
import { logger } from '../logger.ts';
import type { Faq } from '../tenants/client-schemas.ts';
import { type GreetingKind, greetingKind } from '../text/greetings.ts';
import { isPromptInjection, looksLikeMath } from './faq/guards.ts';
import { detectLanguage } from './faq/language.ts';
import type { Lang } from './faq/lexicon.ts';
import { type Analysis, analyze, scoreFaqs } from './faq/matcher.ts';
import { declineMessage, greetingMessage, hoursMessage } from './faq/messages.ts';

/**
 * The offline FAQ responder: the embedded default when no OpenAI key is configured and the fallback
 * when OpenAI fails. It answers only with the tenant's own FAQ answers (never invented or translated
 * text), greets, and otherwise declines in the customer's language. Deterministic and dependency-free.
 */

export { detectLanguage } from './faq/language.ts';
export type { Lang } from './faq/lexicon.ts';
export { declineMessage } from './faq/messages.ts';

/** Chosen on test/fixtures/faq-eval.json with `npx tsx scripts/faq-accuracy.ts`. */
export const DEFAULT_FAQ_THRESHOLD = 0.45;

export interface MatchOptions {
  /** Minimum confidence to answer with a FAQ (default DEFAULT_FAQ_THRESHOLD). */
  threshold?: number;
  /** Language assumed when the message does not tell (the tenant's). */
  fallbackLanguage?: Lang;
}

export interface FaqMatch {
  faq?: Faq;
  index?: number;
  confidence: number;
  language: Lang;
}

export type FaqIntent = 'faq' | 'greeting' | 'hours' | 'decline';
export type { DeclineReason } from '../conversation/ports.ts';

export interface FaqClassification extends FaqMatch {
  intent: FaqIntent;
  greeting?: GreetingKind;
  declineReason?: DeclineReason;
}

interface BestMatch extends FaqMatch {
  analysis?: Analysis;
  declineReason?: DeclineReason;
}

/**
 * Only the start of a message is scored: a question fits in it, and the fuzzy matching grows with
 * length × FAQ size (a 65k-character message against a large tenant would take minutes).
 */
export const MAX_ANALYSED_CHARS = 600;

function headOf(text: string): string {
  if (text.length <= MAX_ANALYSED_CHARS) return text;
  const cut = text.lastIndexOf(' ', MAX_ANALYSED_CHARS);
  return text.slice(0, cut > MAX_ANALYSED_CHARS / 2 ? cut : MAX_ANALYSED_CHARS);
}

function bestMatch(faqs: readonly Faq[], fullQuestion: string, options: MatchOptions): BestMatch {
  const question = headOf(fullQuestion);
  const language = detectLanguage(question, options.fallbackLanguage ?? 'es');
  // Injections are looked for in the whole message (cheap, linear): one hidden at the end counts.
  if (isPromptInjection(fullQuestion)) return { language, confidence: 0, declineReason: 'injection' };
  if (looksLikeMath(question)) return { language, confidence: 0, declineReason: 'off-topic' };
  const analysis = analyze(question);
  let best: { index: number; score: number } | undefined;
  for (const candidate of scoreFaqs(faqs, analysis)) {
    if (best === undefined || candidate.score > best.score) best = candidate;
  }
  const confidence = Math.round((best?.score ?? 0) * 1000) / 1000;
  const faq = best === undefined ? undefined : faqs[best.index];
  if (best !== undefined && faq !== undefined && confidence >= (options.threshold ?? DEFAULT_FAQ_THRESHOLD)) {
    return { language, confidence, faq, index: best.index, analysis };
  }
  return {
    language,
    confidence,
    analysis,
    declineReason: analysis.offTopic ? 'off-topic' : 'low-confidence',
  };
}

/** The best FAQ for a question, when its confidence reaches the threshold. Pure. */
export function matchFaq(faqs: readonly Faq[], question: string, options: MatchOptions = {}): FaqMatch {
  const { language, confidence, faq, index } = bestMatch(faqs, question, options);
  return faq === undefined || index === undefined
    ? { confidence, language }
    : { faq, index, confidence, language };
}

/**
 * What the offline responder does with a message: answer a FAQ, greet, give the configured hours,
 * or decline. Prompt injections are declined before anything else. Pure.
 */
export function classifyMessage(
  faqs: readonly Faq[],
  text: string,
  options: MatchOptions & { businessHours?: string } = {},
): FaqClassification {
  if (!isPromptInjection(text)) {
    const greeting = greetingKind(text);
    if (greeting !== undefined) {
      return {
        intent: 'greeting',
        greeting,
        confidence: 1,
        language: detectLanguage(text, options.fallbackLanguage ?? 'es'),
      };
    }
  }
  const match = bestMatch(faqs, text, options);
  if (match.faq !== undefined && match.index !== undefined) {
    return {
      intent: 'faq',
      faq: match.faq,
      index: match.index,
      confidence: match.confidence,
      language: match.language,
    };
  }
  const asksHours =
    match.analysis !== undefined && !match.analysis.offTopic && match.analysis.concepts.has('hours');
  if (asksHours && options.businessHours !== undefined && options.businessHours.trim() !== '') {
    return { intent: 'hours', confidence: match.confidence, language: match.language };
  }
  return {
    intent: 'decline',
    confidence: match.confidence,
    language: match.language,
    ...(match.declineReason === undefined ? {} : { declineReason: match.declineReason }),
  };
}

export function createFaqResponder(options: { threshold?: number } = {}): Responder {
  return {
    async reply({ tenant, text }: ResponderRequest): Promise<ResponderReply> {
      // A picture without a caption (the model that could see it failed, or there is none): the
      // offline responder reads text only, and says so.
      if (!text.trim()) {
        return {
          text: cannedReplies.textOnly[replyLanguage(tenant.language)],
          source: 'faq',
          confidence: 0,
          declined: 'media-only',
        };
      }
      const fallbackLanguage: Lang = tenant.language === 'en' ? 'en' : 'es';
      const result = classifyMessage(tenant.faqs, text, {
        fallbackLanguage,
        ...(options.threshold === undefined ? {} : { threshold: options.threshold }),
        ...(tenant.business_hours === undefined ? {} : { businessHours: tenant.business_hours }),
      });
      logger.debug('faq responder', {
        tenantId: tenant.id,
        intent: result.intent,
        faqIndex: result.index,
        confidence: result.confidence,
        language: result.language,
        declineReason: result.declineReason,
      });
      const reply = (replyText: string, declined?: DeclineReason): ResponderReply => ({
        text: replyText,
        source: 'faq',
        confidence: result.confidence,
        ...(declined ? { declined } : {}),
      });
      switch (result.intent) {
        case 'faq':
          return reply(result.faq?.a ?? declineMessage(result.language, tenant.name));
        case 'greeting':
          return reply(greetingMessage(result.greeting ?? 'hello', result.language, tenant.name));
        case 'hours':
          return reply(hoursMessage(result.language, tenant.name, tenant.business_hours ?? ''));
        case 'decline':
          return reply(
            declineMessage(result.language, tenant.name),
            result.declineReason ?? 'low-confidence',
          );
      }
    },
  };
}
