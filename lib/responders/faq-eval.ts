import * as z from 'zod';
import { faqSchema } from '../tenants/client-schemas.ts';
import { analyze } from './faq/matcher.ts';
import { classifyMessage, type FaqIntent } from './faq-responder.ts';

/**
 * Accuracy of the offline FAQ responder on a labelled set (test/fixtures/faq-eval.json). A case
 * expects a FAQ index, a decline or a greeting; its kind (faq, decline, injection, greeting) groups
 * the numbers. Run `npx tsx scripts/faq-accuracy.ts` for the table.
 */

export const faqEvalDatasetSchema = z.object({
  tenants: z.array(
    z.object({
      id: z.string(),
      name: z.string(),
      language: z.enum(['es', 'en']),
      business_hours: z.string().optional(),
      faqs: z.array(faqSchema).min(1),
    }),
  ),
  cases: z.array(
    z.object({
      tenant: z.string(),
      question: z.string(),
      expected: z.union([z.number().int().nonnegative(), z.literal('decline'), z.literal('greeting')]),
      kind: z.enum(['faq', 'decline', 'injection', 'greeting']).optional(),
      note: z.string().optional(),
    }),
  ),
});

export type FaqEvalDataset = z.infer<typeof faqEvalDatasetSchema>;
export type FaqEvalCase = FaqEvalDataset['cases'][number];
export type FaqEvalKind = 'faq' | 'decline' | 'injection' | 'greeting';

export interface KindAccuracy {
  total: number;
  correct: number;
  accuracy: number;
}

export interface FaqEvalFailure {
  tenant: string;
  question: string;
  kind: FaqEvalKind;
  expected: FaqEvalCase['expected'];
  got: FaqIntent | number;
  confidence: number;
  note?: string;
}

export interface FaqEvalReport extends KindAccuracy {
  threshold: number | undefined;
  byKind: Record<FaqEvalKind, KindAccuracy>;
  failures: FaqEvalFailure[];
}

export function caseKind(testCase: FaqEvalCase): FaqEvalKind {
  if (testCase.kind !== undefined) return testCase.kind;
  if (typeof testCase.expected === 'number') return 'faq';
  return testCase.expected;
}

const ratio = (correct: number, total: number) =>
  total === 0 ? 1 : Math.round((correct / total) * 1000) / 1000;

export function evaluateFaqResponder(
  dataset: FaqEvalDataset,
  options: { threshold?: number } = {},
): FaqEvalReport {
  const tenants = new Map(dataset.tenants.map((tenant) => [tenant.id, tenant]));
  const byKind: Record<FaqEvalKind, KindAccuracy> = {
    faq: { total: 0, correct: 0, accuracy: 1 },
    decline: { total: 0, correct: 0, accuracy: 1 },
    injection: { total: 0, correct: 0, accuracy: 1 },
    greeting: { total: 0, correct: 0, accuracy: 1 },
  };
  const failures: FaqEvalFailure[] = [];
  let correct = 0;
  for (const testCase of dataset.cases) {
    const tenant = tenants.get(testCase.tenant);
    if (tenant === undefined) throw new Error(`faq eval: unknown tenant ${testCase.tenant}`);
    const result = classifyMessage(tenant.faqs, testCase.question, {
      fallbackLanguage: tenant.language,
      ...(options.threshold === undefined ? {} : { threshold: options.threshold }),
      ...(tenant.business_hours === undefined ? {} : { businessHours: tenant.business_hours }),
    });
    const { expected } = testCase;
    let ok: boolean;
    if (typeof expected === 'number') {
      const expectedFaq = tenant.faqs[expected];
      // Answering with the configured business hours is right when the expected FAQ is the hours one.
      ok =
        (result.intent === 'faq' && result.index === expected) ||
        (result.intent === 'hours' &&
          expectedFaq !== undefined &&
          analyze(expectedFaq.q).concepts.has('hours'));
    } else {
      ok = result.intent === expected;
    }
    const kind = caseKind(testCase);
    byKind[kind].total++;
    if (ok) {
      byKind[kind].correct++;
      correct++;
    } else {
      failures.push({
        tenant: testCase.tenant,
        question: testCase.question,
        kind,
        expected,
        got: result.intent === 'faq' && result.index !== undefined ? result.index : result.intent,
        confidence: result.confidence,
        ...(testCase.note === undefined ? {} : { note: testCase.note }),
      });
    }
  }
  for (const stats of Object.values(byKind)) stats.accuracy = ratio(stats.correct, stats.total);
  const total = dataset.cases.length;
  return { total, correct, accuracy: ratio(correct, total), threshold: options.threshold, byKind, failures };
}
