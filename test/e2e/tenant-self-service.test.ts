import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { SIMULATOR_TOKEN_HEADER } from '../../infra/local/simulator-token.ts';
import { type LocalStack, startLocalStack } from '../../infra/local/stack.ts';
import { uniqueName } from '../support/emulators.ts';
import { laPlazaFaqs } from '../support/fixtures.ts';

/**
 * A newcomer's way in, through the local stack over HTTP as it runs out of the box (its built-in
 * WhatsApp simulator, the SES emulator's inbox): the operator creates the business with an e-mail,
 * the invitation lands in the inbox, its link is exchanged once for the tenant's first key, and with
 * that key the business reads and edits itself, tests its connection (against the simulator's Graph
 * reads, which refuse a token Meta would not take), and manages its keys; each key type stays on its
 * own routes.
 */

const OPERATOR_KEY = 'self-service-operator-key';
const PHONE_NUMBER_ID = '771000100';
const EMAIL = 'duena@laplaza.example';
const WRONG_TOKEN = 'wrong-token-123';
const TERRACE = { q: '¿Tenéis terraza?', a: 'Sí, tenemos terraza con diez mesas al sol.' };

interface StoredEmail {
  from: string;
  destination: { to: string[] };
  subject: string;
  body: { html?: string; text?: string };
}

let stack: LocalStack;

beforeAll(async () => {
  stack = await startLocalStack({
    port: 0,
    dynamoEndpoint: inject('dynamoEndpoint'),
    sqsEndpoint: inject('sqsEndpoint'),
    namePrefix: uniqueName('self'),
    withSes: true,
    seedDemo: false,
    retryDelaySeconds: 1,
    // The built-in simulator and the platform token it is given; answers from the FAQs (no OpenAI).
    env: { OPERATOR_API_KEY: OPERATOR_KEY, OPENAI_API_KEY: '' },
  });
});

afterAll(async () => {
  await stack?.stop();
});

async function call(key: string, method: string, path: string, body?: unknown) {
  const res = await fetch(`${stack.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const raw = await res.text();
  return { status: res.status, body: (raw ? JSON.parse(raw) : undefined) as any, raw };
}

const operator = (method: string, path: string, body?: unknown) => call(OPERATOR_KEY, method, path, body);

async function accept(token: string) {
  const res = await fetch(`${stack.url}/invitations/accept`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ token }),
  });
  return { status: res.status, body: (await res.json()) as any };
}

async function emailsTo(address: string): Promise<StoredEmail[]> {
  const res = await fetch(`${stack.sesUrl}/store`);
  expect(res.status).toBe(200);
  const { emails } = (await res.json()) as { emails: StoredEmail[] };
  return emails.filter((email) => email.destination.to.includes(address));
}

async function eventually<T>(probe: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const start = Date.now();
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() - start > timeoutMs) throw new Error('timed out waiting');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** The chat page's API, as the page calls it: with this run's simulator token. */
async function chat(method: string, path: string, body?: unknown) {
  const res = await fetch(`${stack.url}/simulator/api${path}`, {
    method,
    headers: {
      [SIMULATOR_TOKEN_HEADER]: stack.simulator!.apiToken,
      'content-type': 'application/json',
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, body: (await res.json()) as any };
}

describe('a business onboards itself through its invitation', () => {
  // The steps build on each other: one business, from invitation to key rotation.
  let clientId: string;
  let slug: string;
  let token: string;
  let firstKey: { key_id: string; api_key: string };
  let secondKey: { key_id: string; api_key: string };
  const tenant = (method: string, path: string, body?: unknown) => call(firstKey.api_key, method, path, body);

  it('is invited in Spanish by e-mail when the operator creates it with an address', async () => {
    const created = await operator('POST', '/clients', {
      name: 'Restaurante La Plaza',
      phone_number: '+34666777001',
      phone_number_id: PHONE_NUMBER_ID,
      faqs: laPlazaFaqs,
      email: EMAIL,
      language: 'es',
    });
    expect(created.status).toBe(201);
    clientId = created.body.id;

    const [email, ...more] = await emailsTo(EMAIL);
    expect(more).toEqual([]);
    expect(email!.subject).toBe('Restaurante La Plaza: tu asistente de WhatsApp te espera');
    const base = stack.env.PUBLIC_BASE_URL!.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    const link = new RegExp(`${base}/client/([A-Za-z0-9]+)\\?invite=(wti_[A-Za-z0-9_]+)`).exec(
      email!.body.text ?? '',
    );
    expect(link, email!.body.text).not.toBeNull();
    slug = link![1]!;
    token = decodeURIComponent(link![2]!);

    const client = await operator('GET', `/clients/${clientId}`);
    expect(client.body.slug).toBe(slug);
    expect(client.body.invitation).toMatchObject({ status: 'sent', to: EMAIL });
  });

  it('exchanges the invitation once for its first API key', async () => {
    const accepted = await accept(token);
    expect(accepted.status).toBe(201);
    expect(accepted.body).toMatchObject({
      client_id: clientId,
      key_id: expect.any(String),
      api_key: expect.stringMatching(/^wta_live_/),
    });
    firstKey = accepted.body;
    const again = await accept(token);
    expect(again.status).toBe(410);
    expect(JSON.stringify(again.body)).not.toContain(firstKey.api_key);
  });

  it('reads itself with its key, landing page included', async () => {
    const own = await tenant('GET', '/tenant');
    expect(own.status).toBe(200);
    expect(own.body).toMatchObject({
      id: clientId,
      slug,
      landing_url: `${stack.env.PUBLIC_BASE_URL}/client/${slug}`,
      phone_number_id: PHONE_NUMBER_ID,
    });
  });

  it('edits its FAQs, and a customer writing on WhatsApp gets the new answer', async () => {
    const before = (await tenant('GET', '/tenant')).body.assistant_version;
    const patched = await tenant('PATCH', '/tenant', { faqs: [...laPlazaFaqs, TERRACE] });
    expect(patched.status).toBe(200);
    expect(patched.body.assistant_version).toBe(before + 1);

    const from = '34611222333';
    const sent = await chat('POST', '/messages', {
      phone_number_id: PHONE_NUMBER_ID,
      from,
      name: 'Ana',
      text: TERRACE.q,
    });
    expect(sent.status).toBe(200);
    expect(sent.body.webhook_status).toBe(200);
    const reply = await eventually(async () => {
      const { body } = await chat(
        'GET',
        `/conversation?${new URLSearchParams({ phone_number_id: PHONE_NUMBER_ID, contact: from })}`,
      );
      return (body.messages as Array<{ direction: string; text: string }>).find(
        (message) => message.direction === 'out' && message.text.includes(TERRACE.a),
      );
    });
    expect(reply.text).toContain(TERRACE.a);
  });

  it('tests its connection: ok with the platform token the stack sends with', async () => {
    const result = await tenant('POST', '/tenant/test-connection');
    expect(result.status).toBe(200);
    expect(result.body.ok).toBe(true);
    expect(result.body.checks).toEqual([
      { name: 'token', ok: true, detail: expect.stringContaining('valid') },
      { name: 'phone_number', ok: true, detail: expect.stringContaining('AVAILABLE') },
    ]);
  });

  it('given a wrong token of its own, then the test fails on it without ever showing it', async () => {
    const patched = await tenant('PATCH', '/tenant', { whatsapp_access_token: WRONG_TOKEN });
    expect(patched.status).toBe(200);
    expect(patched.body.has_whatsapp_access_token).toBe(true);
    expect(patched.raw).not.toContain(WRONG_TOKEN);

    const result = await tenant('POST', '/tenant/test-connection');
    expect(result.status).toBe(200);
    expect(result.body.ok, result.raw).toBe(false);
    expect(result.body.checks).toEqual([
      { name: 'token', ok: false, detail: expect.stringMatching(/expired or revoked/) },
      { name: 'phone_number', ok: false, detail: expect.stringMatching(/expired or revoked/) },
    ]);
    expect(result.raw).not.toContain(WRONG_TOKEN);
    expect((await tenant('GET', '/tenant')).raw).not.toContain(WRONG_TOKEN);
  });

  it('holds at most two keys, and a revoked one stops working while the other goes on', async () => {
    const second = await tenant('POST', '/tenant/api-keys');
    expect(second.status).toBe(201);
    expect(second.body.api_key).toMatch(/^wta_live_/);
    expect(second.body.key_id).not.toBe(firstKey.key_id);
    secondKey = second.body;
    expect((await tenant('POST', '/tenant/api-keys')).status).toBe(409);

    const listed = await call(secondKey.api_key, 'GET', '/tenant/api-keys');
    expect(listed.body.api_keys.map((key: { key_id: string }) => key.key_id).sort()).toEqual(
      [firstKey.key_id, secondKey.key_id].sort(),
    );
    expect(listed.raw).not.toContain(firstKey.api_key);

    const revoked = await call(secondKey.api_key, 'DELETE', `/tenant/api-keys/${firstKey.key_id}`);
    expect(revoked.status).toBe(200);
    expect(revoked.body).toEqual({ key_id: firstKey.key_id, revoked: true });
    expect((await tenant('GET', '/tenant')).status).toBe(401);
    const own = await call(secondKey.api_key, 'GET', '/tenant');
    expect(own.status).toBe(200);
    expect(own.body.id).toBe(clientId);
  });

  it('keeps each key on its own routes: a tenant key on /clients and the operator key on /tenant are 403', async () => {
    expect((await call(secondKey.api_key, 'GET', '/clients')).status).toBe(403);
    expect((await call(secondKey.api_key, 'GET', `/clients/${clientId}`)).status).toBe(403);
    expect((await operator('GET', '/tenant')).status).toBe(403);
  });
});
