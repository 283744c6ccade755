import { createHash } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { MEDIA_URL_TTL_MS } from '../../infra/local/simulator/graph-media.ts';
import { type StandaloneSimulator, startStandaloneSimulator } from '../../infra/local/whatsapp-simulator.ts';
import { APP_SECRET, TOKEN } from './simulator-helpers.ts';

/**
 * The Graph stand-in serves media the way Meta does: `GET /{version}/{media-id}` with the bearer
 * token gives a URL that lives 5 minutes, fetched with the same token; a late fetch answers 404 and
 * a new lookup gives a new URL. The clock is the simulator's (`now`), so nothing here waits.
 */

let sim: StandaloneSimulator;
let clock = Date.parse('2026-12-03T10:00:00Z');
const bytes = Buffer.from('OggS voice note bytes');

beforeAll(async () => {
  sim = await startStandaloneSimulator({ appSecret: APP_SECRET, now: () => clock });
});

afterEach(() => {
  sim.simulator.reset();
});

afterAll(async () => {
  await sim.stop();
});

const withToken = { authorization: `Bearer ${TOKEN}` };

async function lookUp(mediaId: string) {
  const response = await fetch(`${sim.graphBaseUrl}/v26.0/${mediaId}`, { headers: withToken });
  expect(response.status).toBe(200);
  return (await response.json()) as { url: string; sha256: string; file_size: number; mime_type: string };
}

const download = (url: string, headers: Record<string, string> = withToken) => fetch(url, { headers });

describe('media served like Meta', () => {
  it('answers the lookup and the download only with the bearer token: 401 and code 190 without', async () => {
    const mediaId = sim.simulator.addMedia({ mimeType: 'audio/ogg', data: bytes });
    const anonymousLookup = await fetch(`${sim.graphBaseUrl}/v26.0/${mediaId}`);
    expect(anonymousLookup.status).toBe(401);
    expect(await anonymousLookup.json()).toMatchObject({ error: { code: 190, type: 'OAuthException' } });
    const basic = await fetch(`${sim.graphBaseUrl}/v26.0/${mediaId}`, {
      headers: { authorization: 'Basic dXNlcjpwYXNz' },
    });
    expect(basic.status).toBe(401);

    const info = await lookUp(mediaId);
    expect(info).toMatchObject({ mime_type: 'audio/ogg', file_size: bytes.length });
    expect(info.sha256).toBe(createHash('sha256').update(bytes).digest('hex'));
    const anonymousDownload = await download(info.url, {});
    expect(anonymousDownload.status).toBe(401);
    expect(await anonymousDownload.json()).toMatchObject({ error: { code: 190 } });
    const served = await download(info.url);
    expect(served.status).toBe(200);
    expect(Buffer.from(await served.arrayBuffer())).toEqual(bytes);
    expect(sim.simulator.graphCalls.map((call) => [call.operation, call.status])).toEqual([
      ['media', 401],
      ['media', 401],
      ['media', 200],
      ['media_download', 401],
      ['media_download', 200],
    ]);
  });

  it('serves a URL until 5 minutes after the lookup; then 404, and a new lookup gives a working URL', async () => {
    const mediaId = sim.simulator.addMedia({ mimeType: 'audio/ogg', data: bytes });
    const first = await lookUp(mediaId);
    const lookedUpAt = clock;
    // The URL says when it expires, like Meta's `ext`.
    expect(new URL(first.url).searchParams.get('ext')).toBe(String((lookedUpAt + MEDIA_URL_TTL_MS) / 1000));
    clock = lookedUpAt + MEDIA_URL_TTL_MS - 1000;
    expect((await download(first.url)).status).toBe(200);
    clock = lookedUpAt + MEDIA_URL_TTL_MS;
    const late = await download(first.url);
    expect(late.status).toBe(404);
    expect(await late.json()).toMatchObject({ error: { code: 100 } });

    const second = await lookUp(mediaId);
    expect(second.url).not.toBe(first.url);
    const fresh = await download(second.url);
    expect(fresh.status).toBe(200);
    expect(Buffer.from(await fresh.arrayBuffer())).toEqual(bytes);
    expect((await download(first.url)).status).toBe(404);
  });

  it('serves nothing at a URL it did not give out: made-up hash, another media id, no hash', async () => {
    const mediaId = sim.simulator.addMedia({ mimeType: 'image/png', data: Buffer.from('png') });
    const otherId = sim.simulator.addMedia({ mimeType: 'image/png', data: Buffer.from('other') });
    const { url } = await lookUp(mediaId);
    const forged = new URL(url);
    forged.searchParams.set('hash', 'made-up');
    expect((await download(forged.href)).status).toBe(404);
    const swapped = new URL(url);
    swapped.searchParams.set('mid', otherId);
    expect((await download(swapped.href)).status).toBe(404);
    expect((await download(`${sim.graphBaseUrl}/media-download?mid=${mediaId}`)).status).toBe(404);
    expect((await download(url)).status).toBe(200);
  });

  it('forgets its URLs on reset', async () => {
    const mediaId = sim.simulator.addMedia({ id: '777', mimeType: 'image/png', data: Buffer.from('png') });
    const { url } = await lookUp(mediaId);
    sim.simulator.reset();
    sim.simulator.addMedia({ id: '777', mimeType: 'image/png', data: Buffer.from('png') });
    expect((await download(url)).status).toBe(404);
  });
});
