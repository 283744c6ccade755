/**
 * Prints the offline FAQ responder's accuracy on test/fixtures/faq-eval.json, by kind, and its
 * failures. `npx tsx scripts/faq-accuracy.ts [--threshold 0.4] [--sweep]`
 */
import { readFile } from 'node:fs/promises';
import { evaluateFaqResponder, faqEvalDatasetSchema } from '../lib/responders/faq-eval.ts';
import { DEFAULT_FAQ_THRESHOLD } from '../lib/responders/faq-responder.ts';

const args = process.argv.slice(2);
const thresholdArg = args.indexOf('--threshold');
const threshold = thresholdArg >= 0 ? Number(args[thresholdArg + 1]) : DEFAULT_FAQ_THRESHOLD;
const dataset = faqEvalDatasetSchema.parse(
  JSON.parse(await readFile(new URL('../test/fixtures/faq-eval.json', import.meta.url), 'utf8')),
);

const pct = (value: number) => `${(value * 100).toFixed(1)}%`;

if (args.includes('--sweep')) {
  console.log('threshold  overall  faq     decline  injection');
  for (let t = 0.2; t <= 0.701; t += 0.025) {
    const r = evaluateFaqResponder(dataset, { threshold: t });
    console.log(
      `${t.toFixed(3).padEnd(10)} ${pct(r.accuracy).padEnd(8)} ${pct(r.byKind.faq.accuracy).padEnd(7)} ${pct(r.byKind.decline.accuracy).padEnd(8)} ${pct(r.byKind.injection.accuracy)}`,
    );
  }
}

const report = evaluateFaqResponder(dataset, { threshold });
console.log(`\nOffline FAQ responder, threshold ${threshold}`);
console.table({
  overall: { total: report.total, correct: report.correct, accuracy: pct(report.accuracy) },
  ...Object.fromEntries(
    Object.entries(report.byKind).map(([kind, s]) => [
      kind,
      { total: s.total, correct: s.correct, accuracy: pct(s.accuracy) },
    ]),
  ),
});
if (report.failures.length > 0) {
  console.log('Failures:');
  console.table(
    report.failures.map((f) => ({
      tenant: f.tenant,
      kind: f.kind,
      question: f.question,
      expected: f.expected,
      got: f.got,
      confidence: f.confidence,
    })),
  );
}
