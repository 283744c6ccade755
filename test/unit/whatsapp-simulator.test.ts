import { createServer, get as httpGet } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  createWhatsAppSimulator,
  deriveUserId,
  type StandaloneSimulator,
  startStandaloneSimulator,
} from '../../infra/local/whatsapp-simulator.ts';
import { verifyWebhookSignature } from '../../lib/webhook/signature.ts';
import { createGraphClient } from '../../lib/whatsapp/graph-client.ts';
import {
  APP_SECRET,
  PHONE_NUMBER_ID,
  startWebhookRecorder,
  TOKEN,
  type WebhookRecorder,
} from './simulator-helpers.ts';

/**
 * The simulator as a whole: the customer's messages delivered to the webhook, the chat page's API
 * (signing, token, Host and origin checks) and the round trip through the Graph stand-in. The parts
 * alone: simulator-inbound-payloads, simulator-graph-api and simulator-chat-page tests.
 */

let webhook: WebhookRecorder;
let webhookUrl: string;
let deliveries: WebhookRecorder['deliveries'];
let sim: StandaloneSimulator;

beforeAll(async () => {
  webhook = await startWebhookRecorder();
  webhookUrl = webhook.url;
  deliveries = webhook.deliveries;
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
  webhook.onDelivery = undefined;
});

afterAll(async () => {
  await sim.stop();
  await webhook.stop();
});

/** The chat page's API, called like the page does: with the per-run token it embeds. */
const chatApi = (path: string, init: RequestInit = {}) =>
  fetch(`${sim.url}${path}`, {
    ...init,
    headers: { 'x-simulator-token': sim.simulator.apiToken, ...(init.headers as Record<string, string>) },
  });

describe('the customer side', () => {
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

describe('the chat page and its API', () => {
  it('lists the businesses', async () => {
    const response = await chatApi('/simulator/api/businesses');
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
    const response = await chatApi('/simulator/api/messages', {
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
    const response = await chatApi(`/simulator/api/conversation?phone_number_id=${PHONE_NUMBER_ID}`);
    expect(response.status).toBe(400);
  });

  it('says when no webhook is configured', async () => {
    sim.simulator.webhookUrl = undefined;
    const response = await chatApi('/simulator/api/messages', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ phone_number_id: PHONE_NUMBER_ID, from: '34600111222', text: 'hola' }),
    });
    expect(response.status).toBe(503);
  });

  it('shows the bot typing from its read receipt with typing indicator until it answers', async () => {
    // Given a bot that only marks read with the typing indicator
    const graph = createGraphClient({ baseUrl: sim.graphBaseUrl, backoffMs: 1 });
    webhook.onDelivery = async (body) => {
      const value = (
        body.entry as Array<{ changes: Array<{ value: { messages: Array<{ id: string }> } }> }>
      )[0]?.changes[0]?.value;
      await graph.markRead({
        phoneNumberId: PHONE_NUMBER_ID,
        accessToken: TOKEN,
        messageId: value!.messages[0]!.id,
        typing: true,
      });
    };
    const conversation = async () =>
      (await (
        await chatApi(`/simulator/api/conversation?phone_number_id=${PHONE_NUMBER_ID}&contact=34600111222`)
      ).json()) as { messages: Array<Record<string, unknown>>; typing: boolean };
    // When the customer writes
    await sim.simulator.sendAsCustomer({ phoneNumberId: PHONE_NUMBER_ID, from: '34600111222', text: 'hola' });
    // Then the page shows the bot typing, and no longer once it has answered
    expect(await conversation()).toMatchObject({ typing: true, messages: [{ direction: 'in', read: true }] });
    await graph.sendText({
      phoneNumberId: PHONE_NUMBER_ID,
      accessToken: TOKEN,
      to: { wa_id: '34600111222' },
      text: 'Hola, ¿en qué puedo ayudarte?',
    });
    expect(await conversation()).toMatchObject({ typing: false, messages: [{}, { direction: 'out' }] });
  });

  it('round-trips: a customer writes, the bot answers through Graph, the conversation shows both in order', async () => {
    // Given a bot that marks read with typing and replies to the user id, in context
    const graph = createGraphClient({ baseUrl: sim.graphBaseUrl, backoffMs: 1 });
    webhook.onDelivery = async (body) => {
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
    const posted = await chatApi('/simulator/api/messages', {
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
    const conversation = await chatApi(
      `/simulator/api/conversation?phone_number_id=${PHONE_NUMBER_ID}&contact=34600111222`,
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
    const body = JSON.stringify({ phone_number_id: PHONE_NUMBER_ID, from: '34600111222', text: 'hola' });
    const crossSite = await chatApi('/simulator/api/messages', {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: 'https://evil.example' },
      body,
    });
    expect(crossSite.status).toBe(403);
    const form = await chatApi('/simulator/api/messages', {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body,
    });
    expect(form.status).toBe(403);
    expect(deliveries).toHaveLength(0);
    const malformed = await fetch(`${sim.url}/graph/v26.0/%E0%A4%A/messages`, { method: 'POST', body: '{}' });
    expect(malformed.status).toBe(400);
  });

  it('refuses the chat API without this run\u2019s token (curl), and delivers nothing', async () => {
    const body = JSON.stringify({ phone_number_id: PHONE_NUMBER_ID, from: '34600111222', text: 'hola' });
    const post = (headers: Record<string, string>) =>
      fetch(`${sim.url}/simulator/api/messages`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body,
      });
    expect((await post({})).status).toBe(401);
    expect((await post({ 'x-simulator-token': 'guessed' })).status).toBe(401);
    const other = await startStandaloneSimulator({ appSecret: APP_SECRET, webhookUrl });
    try {
      expect((await post({ 'x-simulator-token': other.simulator.apiToken })).status).toBe(401);
    } finally {
      await other.stop();
    }
    const tenants = await fetch(`${sim.url}/simulator/api/businesses`);
    expect(tenants.status).toBe(401);
    expect(await tenants.text()).not.toContain('Casa Lucía');
    expect(deliveries).toHaveLength(0);
  });

  it('answers loopback Host names only, so a DNS-rebinding page cannot use it', async () => {
    const { port } = new URL(sim.url);
    const get = (path: string, headers: Record<string, string>) =>
      new Promise<number>((resolve, reject) => {
        httpGet({ host: '127.0.0.1', port, path, headers }, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        }).on('error', reject);
      });
    const rebinding = { host: `evil.example:${port}`, origin: `http://evil.example:${port}` };
    expect(await get('/simulator', rebinding)).toBe(403);
    expect(
      await get('/simulator/api/businesses', { ...rebinding, 'x-simulator-token': sim.simulator.apiToken }),
    ).toBe(403);
    expect(await get('/simulator', { host: `localhost:${port}` })).toBe(200);
    expect(await get('/simulator', { host: `[::1]:${port}` })).toBe(200);
  });
});
