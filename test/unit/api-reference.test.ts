import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { renderApiReference, undocumentedRoutes } from '../../lib/docs/api-reference.ts';

describe('docs/api.md', () => {
  it('documents every route of the topology', () => {
    expect(undocumentedRoutes()).toEqual([]);
  });

  it('documents the body GET /admin/stats answers with, from the schema its test parses answers with', () => {
    const section = renderApiReference().split('## `GET /admin/stats`')[1]!.split('\n## ')[0]!;
    expect(section).toContain('Response (200):');
    for (const field of ['window_hours', 'since', 'until', 'totals', 'by_responder', 'fallback_rate']) {
      expect(section).toContain(`"${field}"`);
    }
  });

  it('is up to date with the zod schemas (run `npm run docs:api` after changing them)', () => {
    const onDisk = readFileSync(new URL('../../docs/api.md', import.meta.url), 'utf8');
    expect(onDisk).toBe(renderApiReference());
  });
});
