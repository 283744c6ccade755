import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { renderApiReference, undocumentedRoutes } from '../../lib/docs/api-reference.ts';

describe('docs/api.md', () => {
  it('documents every route of the topology', () => {
    expect(undocumentedRoutes()).toEqual([]);
  });

  it('is up to date with the zod schemas (run `npm run docs:api` after changing them)', () => {
    const onDisk = readFileSync(new URL('../../docs/api.md', import.meta.url), 'utf8');
    expect(onDisk).toBe(renderApiReference());
  });
});
