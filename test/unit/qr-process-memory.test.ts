import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { processTreeRssBytes } from '../../lib/qr/process-memory.ts';

function fakeProc(tree: Record<number, { rssKb: number; children: number[] }>): string {
  const root = mkdtempSync(join(tmpdir(), 'proc-'));
  for (const [pid, { rssKb, children }] of Object.entries(tree)) {
    mkdirSync(join(root, pid, 'task', pid), { recursive: true });
    writeFileSync(join(root, pid, 'status'), `Name:\tchromium\nVmRSS:\t  ${rssKb} kB\nThreads:\t4\n`);
    writeFileSync(join(root, pid, 'task', pid, 'children'), children.join(' '));
  }
  return root;
}

describe('the resident memory of a process tree', () => {
  it('adds up the browser and every process under it', async () => {
    const proc = fakeProc({
      10: { rssKb: 100_000, children: [11, 12] },
      11: { rssKb: 200_000, children: [13] },
      12: { rssKb: 50_000, children: [] },
      13: { rssKb: 1_000, children: [] },
    });
    expect(await processTreeRssBytes(10, proc)).toBe(351_000 * 1024);
    expect(await processTreeRssBytes(11, proc)).toBe(201_000 * 1024);
  });

  it('is undefined for a process that is gone, and counts a child that vanished as nothing', async () => {
    const proc = fakeProc({ 20: { rssKb: 4, children: [21] } });
    expect(await processTreeRssBytes(99, proc)).toBeUndefined();
    expect(await processTreeRssBytes(20, proc)).toBe(4 * 1024);
  });

  it('reads this very process on Linux', async () => {
    expect(await processTreeRssBytes(process.pid)).toBeGreaterThan(10 * 2 ** 20);
  });
});
