import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { demoClient } from '../../infra/local/stack.ts';

/** Meta's example webhook bodies (a copy of shared/fixtures/meta-webhooks.json, so the repository stands alone). */
const fixturePath = join(import.meta.dirname, '../fixtures/meta-webhooks.json');

const all = JSON.parse(readFileSync(fixturePath, 'utf8')) as { examples: Record<string, unknown> };

/** A deep copy of one example body, to change freely. */
export function metaExample(name: string): Record<string, any> {
  const example = all.examples[name];
  if (!example) throw new Error(`no fixture ${name}`);
  return structuredClone(example) as Record<string, any>;
}

/** Serializes like Meta: JSON with every non-ASCII character escaped as \uXXXX. */
export function metaJson(body: unknown): string {
  return JSON.stringify(body).replace(
    /[\u007f-\uffff]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

/** The demo tenant's FAQs (seed 003), as the local stack seeds them. */
export const laPlazaFaqs = demoClient.faqs;
