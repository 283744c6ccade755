import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  buildInboundPayload,
  createWhatsAppSimulator,
  deriveUserId,
  type StandaloneSimulator,
  serializeLikeMeta,
  startStandaloneSimulator,
} from '../../infra/local/whatsapp-simulator.ts';
import { verifyWebhookSignature } from '../../lib/webhook/signature.ts';
import { createGraphClient } from '../../lib/whatsapp/graph-client.ts';

const APP_SECRET = 'simulator-app-secret';
const PHONE_NUMBER_ID = '631261586727899';
const TOKEN = 'EAAGsimulatorTOKEN1234';
const fixtures = JSON.parse(readFileSync(new URL('../fixtures/meta-webhooks.json', import.meta.url), 'utf8'))
  .examples as Record<string, Record<string, unknown>>;

interface Delivery {
  raw: Buffer;
  headers: IncomingMessage['headers'];
}

/** A stand-in for the product's webhook: records deliveries and, like the bot, may answer through Graph. */
let webhook: Server;
let webhookUrl: string;
const deliveries: Delivery[] = [];
let onDelivery: ((body: Record<string, unknown>) => Promise<void>) | undefined;
let sim: StandaloneSimulator;

beforeAll(async () => {
  webhook = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks);
    deliveries.push({ raw, headers: req.headers });
    if (!verifyWebhookSignature(raw, req.headers['x-hub-signature-256'] as string | undefined, APP_SECRET)) {
      res.writeHead(401).end();
      return;
    }
    await onDelivery?.(JSON.parse(raw.toString('utf8')));
    res.writeHead(200).end('EVENT_RECEIVED');
  });
  await new Promise<void>((resolve) => webhook.listen(0, '127.0.0.1', resolve));
  webhookUrl = `http://127.0.0.1:${(webhook.address() as AddressInfo).port}/webhook`;
  sim = await startStandaloneSimulator({
    appSecret: APP_SECRET,
    webhookUrl,
    listBusinesses: async () => [{ phoneNumberId: PHONE_NUMBER_ID, name: 'Casa Lucía' }],
  });
});

afterEach(() => {
  sim.simulator.reset();
  sim.simulator.webhookUrl = webhookUrl;
  deliveries.length = 0;
  onDelivery = undefined;
});

afterAll(async () => {
  await sim.stop();
  webhook.closeAllConnections();
  await new Promise((resolve) => webhook.close(resolve));
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

describe('the customer side', () => {
  it('builds the same Meta shape as the fixtures', () => {
    // Given the fields of the fixtures' "text" example
    const payload = buildInboundPayload({
      wabaId: '102290129340398',
      phoneNumberId: PHONE_NUMBER_ID,
      displayPhoneNumber: '34666777888',
      from: '34600111222',
      userId: 'ES.1349120865530274',
      name: 'Lucía',
      text: '¿A qué hora abrís el sábado?',
      messageId: 'wamid.HBgLMzQ2MDAxMTEyMjIVAgASGBQzQUI1RjQ4QTlCNUY1MjdGQTdGMgA=',
      timestamp: 1795560000,
    });
    // Then the body is the fixture, key order included
    expect(payload).toEqual(fixtures.text);
    expect(JSON.stringify(payload)).toBe(JSON.stringify(fixtures.text));
  });

  it('builds a username-only customer (no phone) like the fixtures', () => {
    const payload = buildInboundPayload({
      wabaId: '102290129340398',
      phoneNumberId: PHONE_NUMBER_ID,
      displayPhoneNumber: '34666777888',
      userId: 'ES.8812736450019283',
      text: '¿Hacéis reservas?',
      messageId: 'wamid.X',
    });
    const value = (payload.entry as Array<{ changes: Array<{ value: Record<string, unknown[]> }> }>)[0]
      ?.changes[0]?.value;
    expect(value?.contacts?.[0]).toEqual({ profile: { name: 'Cliente' }, user_id: 'ES.8812736450019283' });
    expect(value?.messages?.[0]).toMatchObject({ from_user_id: 'ES.8812736450019283', type: 'text' });
    expect(value?.messages?.[0]).not.toHaveProperty('from');
  });

  it('requires a phone or a user id', () => {
    expect(() => buildInboundPayload({ phoneNumberId: PHONE_NUMBER_ID, text: 'hola' })).toThrow();
  });

  it('serializes like Meta: ASCII only, non-ASCII as \\uXXXX, same JSON value', () => {
    const body = { text: '¿Qué tal? 👋', plain: 'abc~' };
    const raw = serializeLikeMeta(body);
    expect(raw).toBe('{"text":"\\u00bfQu\\u00e9 tal? \\ud83d\\udc4b","plain":"abc~"}');
    expect(JSON.parse(raw)).toEqual(body);
  });

  it('delivers a signed, Meta-serialized webhook and reports the status and message id', async () => {
    const result = await sim.simulator.sendAsCustomer({
      phoneNumberId: PHONE_NUMBER_ID,
      from: '34600111222',
      name: 'Lucía',
      text: '¿A qué hora abrís?',
    });
    expect(result.status).toBe(200);
    expect(result.messageId).toMatch(/^wamid\.SIM/);
    const [delivery] = deliveries;
    expect(delivery).toBeDefined();
    const raw = delivery!.raw;
    expect(raw.every((byte) => byte < 0x80)).toBe(true);
    expect(raw.toString('utf8')).toContain('\\u00bfA qu\\u00e9 hora abr\\u00eds?');
    expect(delivery!.headers['content-type']).toBe('application/json');
    expect(verifyWebhookSignature(raw, delivery!.headers['x-hub-signature-256'] as string, APP_SECRET)).toBe(
      true,
    );
    const body = JSON.parse(raw.toString('utf8'));
    expect(body.entry[0].changes[0].value.messages[0]).toMatchObject({
      id: result.messageId,
      from: '34600111222',
      text: { body: '¿A qué hora abrís?' },
    });
    expect(sim.simulator.inbound).toMatchObject([{ id: result.messageId, webhookStatus: 200 }]);
  });

  it('reports the webhook rejection when signed with another secret', async () => {
    const other = await startStandaloneSimulator({ appSecret: 'wrong-secret', webhookUrl });
    try {
      const result = await other.simulator.sendAsCustomer({
        phoneNumberId: PHONE_NUMBER_ID,
        from: '34600111222',
        text: 'hola',
      });
      expect(result.status).toBe(401);
    } finally {
      await other.stop();
    }
  });
});

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
    expect(Buffer.from(await download.arrayBuffer()).toString()).toBe('jpeg-bytes');
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
});

describe('the chat page and its API', () => {
  it('serves one self-contained page under a strict CSP', async () => {
    const response = await fetch(`${sim.url}/simulator`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/html/);
    const csp = response.headers.get('content-security-policy') ?? '';
    const nonce = /script-src 'nonce-([^']+)'/.exec(csp)?.[1];
    expect(nonce).toBeTruthy();
    const html = await response.text();
    expect(html).toContain(`<script nonce="${nonce}">`);
    expect(html).not.toMatch(/(src|href)=["']?https?:/);
    expect(html).not.toContain('innerHTML');
  });

  it('lists the businesses', async () => {
    const response = await fetch(`${sim.url}/simulator/api/businesses`);
    expect(await response.json()).toEqual({
      businesses: [{ phone_number_id: PHONE_NUMBER_ID, name: 'Casa Lucía' }],
    });
  });

  it.each([
    ['no text', { phone_number_id: PHONE_NUMBER_ID, from: '34600111222' }, /text/],
    [
      'a blank text',
      { phone_number_id: PHONE_NUMBER_ID, from: '34600111222', text: '  ' },
      /text must not be empty/,
    ],
    ['a bad phone', { phone_number_id: PHONE_NUMBER_ID, from: '+34 600', text: 'hola' }, /from/],
    ['no customer', { phone_number_id: PHONE_NUMBER_ID, text: 'hola' }, /from or user_id/],
    ['an unknown field', { phone_number_id: PHONE_NUMBER_ID, from: '34600111222', text: 'hola', x: 1 }, /x/],
  ])('rejects a message with %s (400 with a reason)', async (_name, body, reason) => {
    const response = await fetch(`${sim.url}/simulator/api/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    expect(response.status).toBe(400);
    const json = (await response.json()) as { error: string; message: string };
    expect(json.error).toBe('validation_error');
    expect(json.message).toMatch(reason);
    expect(deliveries).toHaveLength(0);
  });

  it('rejects a conversation query without contact', async () => {
    const response = await fetch(`${sim.url}/simulator/api/conversation?phone_number_id=${PHONE_NUMBER_ID}`);
    expect(response.status).toBe(400);
  });

  it('says when no webhook is configured', async () => {
    sim.simulator.webhookUrl = undefined;
    const response = await fetch(`${sim.url}/simulator/api/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ phone_number_id: PHONE_NUMBER_ID, from: '34600111222', text: 'hola' }),
    });
    expect(response.status).toBe(503);
  });

  it('round-trips: a customer writes, the bot answers through Graph, the conversation shows both in order', async () => {
    // Given a bot that marks read with typing and replies to the user id, in context
    const graph = createGraphClient({ baseUrl: sim.graphBaseUrl, backoffMs: 1 });
    onDelivery = async (body) => {
      const value = (
        body.entry as Array<{ changes: Array<{ value: Record<string, Array<Record<string, unknown>>> }> }>
      )[0]?.changes[0]?.value;
      const message = value?.messages?.[0] as { id: string; from_user_id: string; text: { body: string } };
      await graph.markRead({
        phoneNumberId: PHONE_NUMBER_ID,
        accessToken: TOKEN,
        messageId: message.id,
        typing: true,
      });
      await graph.sendText({
        phoneNumberId: PHONE_NUMBER_ID,
        accessToken: TOKEN,
        to: { user_id: message.from_user_id },
        text: `Eco: ${message.text.body}`,
        replyTo: message.id,
      });
    };
    // When the person writes on the page
    const posted = await fetch(`${sim.url}/simulator/api/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        phone_number_id: PHONE_NUMBER_ID,
        from: '34600111222',
        name: 'Lucía',
        text: 'Hola <b>',
      }),
    });
    expect(posted.status).toBe(200);
    const { message_id: messageId, webhook_status: status } = (await posted.json()) as Record<
      string,
      unknown
    >;
    expect(status).toBe(200);
    // Then the delivery carried a BSUID-shaped user id and the reply went to it
    expect(sim.simulator.sent[0]).toMatchObject({
      recipient: deriveUserId('34600111222'),
      context: { message_id: messageId },
    });
    expect(deriveUserId('34600111222')).toMatch(/^ES\.\d{16}$/);
    // And the page sees both messages, in order, the customer's one read
    const conversation = await fetch(
      `${sim.url}/simulator/api/conversation?phone_number_id=${PHONE_NUMBER_ID}&contact=34600111222`,
    );
    const { messages, typing } = (await conversation.json()) as {
      messages: Array<Record<string, unknown>>;
      typing: boolean;
    };
    expect(messages).toMatchObject([
      { direction: 'in', id: messageId, text: 'Hola <b>', read: true, webhookStatus: 200 },
      { direction: 'out', text: 'Eco: Hola <b>' },
    ]);
    expect(typing).toBe(false);
  });

  it('leaves other paths to the host server', async () => {
    // Given the simulator mounted on a host server that answers 418 itself
    const simulator = createWhatsAppSimulator({ appSecret: APP_SECRET });
    const host = createServer(async (req, res) => {
      if (!(await simulator.handle(req, res))) res.writeHead(418).end();
    });
    await new Promise<void>((resolve) => host.listen(0, '127.0.0.1', resolve));
    try {
      const base = `http://127.0.0.1:${(host.address() as AddressInfo).port}`;
      expect((await fetch(`${base}/webhook`)).status).toBe(418);
      expect((await fetch(`${base}/graphql`)).status).toBe(418);
      expect((await fetch(`${base}/simulator`)).status).toBe(200);
      expect((await fetch(`${base}/graph/v26.0/1/messages`, { method: 'POST' })).status).toBe(401);
    } finally {
      host.closeAllConnections();
      await new Promise((resolve) => host.close(resolve));
    }
  });
});

describe('the chat API is not callable from other sites', () => {
  it('refuses a cross-origin or non-JSON post (it signs with the App Secret), and a malformed Graph path is a 400', async () => {
    const { startStandaloneSimulator } = await import('../../infra/local/whatsapp-simulator.ts');
    const sim = await startStandaloneSimulator({ appSecret: 'x', webhookUrl: 'http://127.0.0.1:9/webhook' });
    try {
      const body = JSON.stringify({ phone_number_id: '631261586727899', from: '34600111222', text: 'hola' });
      const crossSite = await fetch(`${sim.url}/simulator/api/messages`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', origin: 'https://evil.example' },
        body,
      });
      expect(crossSite.status).toBe(403);
      const form = await fetch(`${sim.url}/simulator/api/messages`, {
        method: 'POST',
        headers: { 'content-type': 'text/plain' },
        body,
      });
      expect(form.status).toBe(403);
      expect(sim.simulator.inbound).toHaveLength(0);
      const malformed = await fetch(`${sim.url}/graph/v26.0/%E0%A4%A/messages`, {
        method: 'POST',
        body: '{}',
      });
      expect(malformed.status).toBe(400);
    } finally {
      await sim.stop();
    }
  });
});
