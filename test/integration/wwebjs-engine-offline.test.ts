import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EngineEvents } from '../../lib/qr/session-engine.ts';
import { WwebjsEngine } from '../../lib/qr/wwebjs-engine.ts';
import { MemorySnapshotStore } from '../fakes/memory-snapshot-store.ts';

/**
 * The real whatsapp-web.js 1.34.7 Client in Debian's Chromium, offline: its web version cache serves
 * an offline copy of WhatsApp Web's page (test/fixtures/wwebjs-offline) at https://web.whatsapp.com/,
 * and every host name fails to resolve, so nothing leaves the machine. The page holds an unpaired
 * socket with one QR ref: the client must emit exactly one QR, and stop without a leftover Chromium.
 */
const CHROMIUM = '/usr/bin/chromium';
const FIXTURE_CACHE = path.resolve('test/fixtures/wwebjs-offline');

let dataDir: string;
let engine: WwebjsEngine | undefined;

/** The processes whose command line names `needle` (Chromium's carry `--user-data-dir=…`). */
async function processesMentioning(needle: string): Promise<number[]> {
  const pids: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const cmdline = await readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '');
    if (cmdline.includes(needle)) pids.push(Number(entry));
  }
  return pids;
}

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `Chromium is not installed at ${CHROMIUM}: run \`apt-get install -y chromium\` (the real whatsapp-web.js client needs Debian's chromium; puppeteer's download is never used)`,
    );
  }
  dataDir = await mkdtemp(path.join(tmpdir(), 'wwebjs-offline-'));
});

afterAll(async () => {
  await engine?.stop({ save: false }); // a failed assertion leaves no Chromium behind
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

describe('WwebjsEngine with the real whatsapp-web.js client, offline', () => {
  it('given no saved session, when it starts against the offline page, then it emits exactly one QR and stops with no Chromium left', async () => {
    const snapshots = new MemorySnapshotStore();
    engine = new WwebjsEngine('tenant-offline', {
      snapshots,
      chromiumPath: CHROMIUM,
      dataDir,
      webVersion: 'offline-fixture',
      webVersionCache: { type: 'local', path: FIXTURE_CACHE, strict: true },
      puppeteerArgs: ['--host-resolver-rules=MAP * ~NOTFOUND'],
    });
    const qrs: EngineEvents['qr'][] = [];
    const ended: EngineEvents['disconnected'][] = [];
    engine.on('qr', (event) => qrs.push(event));
    engine.on('disconnected', (event) => ended.push(event));

    await engine.start();

    expect(ended).toEqual([]);
    expect(engine.state()).toBe('qr');
    expect(qrs).toHaveLength(1);
    // ref, noise key, identity key, ADV secret, platform: as whatsapp-web.js builds it
    expect(qrs[0]?.qr).toBe('offline-ref,AQID,BAUG,offline-adv-secret,Chrome');
    expect(qrs[0]?.expiresAt.getTime()).toBeGreaterThan(Date.now());
    const profile = engine.profileDir;
    expect((await processesMentioning(profile)).length).toBeGreaterThan(0);

    await engine.stop({ save: false });

    expect(engine.state()).toBe('stopped');
    expect(qrs).toHaveLength(1);
    expect(ended).toEqual([]);
    expect(snapshots.calls).toEqual(['load tenant-offline']);
    expect(await processesMentioning(profile)).toEqual([]);
  }, 90_000);
});
