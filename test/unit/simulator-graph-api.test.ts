import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type StandaloneSimulator, startStandaloneSimulator } from '../../infra/local/whatsapp-simulator.ts';
import { APP_SECRET, PHONE_NUMBER_ID, TOKEN } from './simulator-helpers.ts';

/** The Graph API stand-in (simulator/graph-api.ts and its endpoints), over HTTP like the product calls it. */

let sim: StandaloneSimulator;

beforeAll(async () => {
  sim = await startStandaloneSimulator({ appSecret: APP_SECRET });
});

afterEach(() => sim.simulator.reset());

afterAll(async () => {
  await sim.stop();
});

const graphPost = (body: unknown, headers: Record<string, string> = { authorization: `Bearer ${TOKEN}` }) =>
  fetch(`${sim.graphBaseUrl}/v26.0/${PHONE_NUMBER_ID}/messages`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });

const validText = {
  messaging_product: 'whatsapp',
  recipient_type: 'individual',
  to: '34600111222',
  type: 'text',
  text: { body: 'Hola' },
};

describe('the Graph stand-in', () => {
  it('answers a valid send like Meta', async () => {
    const response = await graphPost(validText);
    expect(response.status).toBe(200);
    const body = await response.json();
    expect(body).toMatchObject({
      messaging_product: 'whatsapp',
      contacts: [{ input: '34600111222', wa_id: '34600111222' }],
      messages: [{ id: expect.stringMatching(/^wamid\.SIM/) }],
    });
    expect(sim.simulator.sent).toMatchObject([{ to: '34600111222', text: 'Hola', tokenSuffix: '1234' }]);
  });

  it('answers a send to a user id with its user id', async () => {
    const response = await graphPost({ ...validText, to: undefined, recipient: 'ES.1349120865530274' });
    expect(await response.json()).toMatchObject({
      contacts: [{ input: 'ES.1349120865530274', user_id: 'ES.1349120865530274' }],
    });
  });

  it.each([
    ['without messaging_product', { ...validText, messaging_product: undefined }],
    ['without to or recipient', { ...validText, to: undefined }],
    ['without text body', { ...validText, text: {} }],
    ['with a text over 4096 characters', { ...validText, text: { body: 'a'.repeat(4097) } }],
    ['with a bad context', { ...validText, context: { message_id: 7 } }],
    [
      'with a bad typing indicator',
      { messaging_product: 'whatsapp', status: 'read', message_id: 'w', typing_indicator: { type: 'x' } },
    ],
    ['that is not JSON', '{nope'],
    ['that is empty', ''],
  ])('rejects a body %s with Graph error 100', async (_name, body) => {
    const response = await graphPost(body);
    expect(response.status).toBe(400);
    const { error } = (await response.json()) as { error: Record<string, unknown> };
    expect(error).toMatchObject({ type: 'OAuthException', code: 100 });
    expect(typeof error.message).toBe('string');
    expect(typeof error.fbtrace_id).toBe('string');
    expect(error.error_data).toMatchObject({ messaging_product: 'whatsapp' });
    expect(sim.simulator.sent).toHaveLength(0);
  });

  it('requires a bearer token (401, code 190)', async () => {
    const response = await graphPost(validText, {});
    expect(response.status).toBe(401);
    expect(await response.json()).toMatchObject({ error: { code: 190, type: 'OAuthException' } });
  });

  it('answers unknown paths with a Graph error', async () => {
    const response = await fetch(`${sim.graphBaseUrl}/nope`, {
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ error: { code: 2500 } });
  });

  it('records read receipts with the typing indicator', async () => {
    const response = await graphPost({
      messaging_product: 'whatsapp',
      status: 'read',
      message_id: 'wamid.A',
      typing_indicator: { type: 'text' },
    });
    expect(await response.json()).toEqual({ success: true });
    expect(sim.simulator.reads).toMatchObject([{ messageId: 'wamid.A', typing: true, tokenSuffix: '1234' }]);
  });

  it('fails the next N calls with the injected fault, then recovers', async () => {
    sim.simulator.failNext(2, { httpStatus: 429, code: 130429, subcode: 7, retryAfterSeconds: 3 });
    const first = await graphPost(validText);
    expect(first.status).toBe(429);
    expect(first.headers.get('retry-after')).toBe('3');
    expect(await first.json()).toMatchObject({ error: { code: 130429, error_subcode: 7 } });
    expect((await graphPost(validText)).status).toBe(429);
    expect((await graphPost(validText)).status).toBe(200);
    expect(sim.simulator.sent).toHaveLength(1);
    expect(sim.simulator.graphCalls.map((call) => call.status)).toEqual([429, 429, 200]);
  });

  it('filters faults by phone_number_id', async () => {
    sim.simulator.failNext(1, { httpStatus: 400, code: 131048, phoneNumberId: 'other' });
    expect((await graphPost(validText)).status).toBe(200);
    const response = await fetch(`${sim.graphBaseUrl}/v26.0/other/messages`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify(validText),
    });
    expect(response.status).toBe(400);
  });

  it('filters faults by operation: a media fault leaves sends alone', async () => {
    sim.simulator.failNext(1, { httpStatus: 500, code: 1, operation: 'media' });
    expect((await graphPost(validText)).status).toBe(200);
    const id = sim.simulator.addMedia({ mimeType: 'image/png', data: Buffer.from('png') });
    const lookup = await fetch(`${sim.graphBaseUrl}/v26.0/${id}`, {
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    expect(lookup.status).toBe(500);
    expect(sim.simulator.graphCalls.map((call) => [call.operation, call.status])).toEqual([
      ['send', 200],
      ['media', 500],
    ]);
  });

  it('refuses a fault count that is not a positive integer', () => {
    expect(() => sim.simulator.failNext(0, { httpStatus: 500, code: 1 })).toThrow(RangeError);
  });

  it('forgets faults and records on reset', async () => {
    sim.simulator.failNext(3, { httpStatus: 500, code: 1 });
    sim.simulator.reset();
    expect((await graphPost(validText)).status).toBe(200);
  });

  it('answers a media lookup and serves the media with the token', async () => {
    const id = sim.simulator.addMedia({ mimeType: 'image/jpeg', data: Buffer.from('jpeg-bytes') });
    const lookup = await fetch(`${sim.graphBaseUrl}/v26.0/${id}`, {
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    const info = (await lookup.json()) as { url: string; mime_type: string; file_size: number; id: string };
    expect(info).toMatchObject({ mime_type: 'image/jpeg', file_size: 10, id, messaging_product: 'whatsapp' });
    const download = await fetch(info.url, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(download.headers.get('content-type')).toBe('image/jpeg');
    expect(Buffer.from(await download.arrayBuffer()).toString()).toBe('jpeg-bytes');
    expect((await fetch(info.url)).status).toBe(401);
    const missing = await fetch(`${sim.graphBaseUrl}/v26.0/123`, {
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    expect(missing.status).toBe(400);
  });

  it('waitForSent resolves on a later message and times out otherwise', async () => {
    const waiting = sim.simulator.waitForSent((m) => m.text === 'later', 2000);
    await graphPost({ ...validText, text: { body: 'later' } });
    expect((await waiting).text).toBe('later');
    await expect(sim.simulator.waitForSent((m) => m.text === 'never', 50)).rejects.toThrow(/within 50 ms/);
  });

  it('answers a malformed path with a 400', async () => {
    const malformed = await fetch(`${sim.url}/graph/v26.0/%E0%A4%A/messages`, { method: 'POST', body: '{}' });
    expect(malformed.status).toBe(400);
  });
});
