import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type LocalStack, startLocalStack } from '../../infra/local/stack.ts';
import { uniqueName } from '../support/emulators.ts';
import { laPlazaFaqs } from '../support/fixtures.ts';

/**
 * QR mode end to end through the local stack, as an outside script drives it: the operator creates a
 * QR tenant, the simulator's phone routes scan its QR and play its customers, the runner puts their
 * messages on the inbound queue, the assistant answers through the command queue, the runner sends.
 * GRAPH_API_BASE_URL points away from the built-in Graph stand-in: the phone routes are still served.
 */
let stack: LocalStack;

beforeAll(async () => {
  stack = await startLocalStack({
    port: 0,
    dynamoEndpoint: inject('dynamoEndpoint'),
    sqsEndpoint: inject('sqsEndpoint'),
    namePrefix: uniqueName('e2eqr'),
    withSes: false,
    seedDemo: false,
    retryDelaySeconds: 1,
    env: {
      META_APP_SECRET: 'e2e-app-secret',
      META_VERIFY_TOKEN: 'e2e-verify',
      OPERATOR_API_KEY: 'e2e-operator-key',
      GRAPH_API_BASE_URL: 'https://graph.example.invalid',
      WHATSAPP_ACCESS_TOKEN: 'platform-wa-token-PLAT',
    },
  });
});

afterAll(async () => {
  await stack?.stop();
});

async function call(method: string, path: string, body?: unknown, auth = true) {
  const res = await fetch(`${stack.url}${path}`, {
    method,
    headers: {
      ...(auth ? { authorization: 'Bearer e2e-operator-key' } : {}),
      'content-type': 'application/json',
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

const phone = (path: string, body?: unknown) =>
  call(body === undefined ? 'GET' : 'POST', `/simulator/phone/${path}`, body, false);

async function eventually<T>(
  read: () => Promise<T | undefined>,
  what: string,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

const qrOf = async (id: string, state: string) => {
  const { body } = await call('GET', `/clients/${id}`);
  return body?.qr?.state === state ? body.qr : undefined;
};

const sentBy = async (number: string) =>
  (await phone(`sent?phone_number=${number}`)).body as Array<{ to: string; text: string }>;

describe('a QR tenant on the local stack', () => {
  let id: string;
  const NUMBER = '34622000111';

  it('is created without a phone_number_id, shows a QR, and links when the phone scans it (an old QR is refused)', async () => {
    const created = await call('POST', '/clients', {
      name: 'Bar QR',
      phone_number: '+34622000111',
      channel: 'qr',
      faqs: laPlazaFaqs,
      language: 'es',
      bot_enabled: true,
    });
    expect(created.status).toBe(201);
    id = created.body.id;
    expect(created.body.phone_number_id).toBe(`qr:${id}`);

    const shown = await eventually(() => qrOf(id, 'qr'), 'the QR');
    expect(shown.qr).toEqual(expect.any(String));
    expect(Date.parse(shown.qr_expires_at)).toBeGreaterThan(Date.now());
    expect((await phone('scan', { qr: 'sim-qr@not-shown', phone_number: NUMBER })).status).toBe(404);
    expect((await phone('scan', { qr: shown.qr, phone_number: NUMBER })).status).toBe(200);
    const connected = await eventually(() => qrOf(id, 'connected'), 'connected');
    expect(connected.phone_number).toBe(NUMBER);
    // The client's connection and its public status follow the session.
    const client = (await call('GET', `/clients/${id}`)).body;
    expect(client.connection).toMatchObject({ state: 'connected', detail: `linked by QR as ${NUMBER}` });
    expect((await call('GET', `/client/${client.slug}/status`, undefined, false)).body.connected).toBe(true);
    const listed = (await call('GET', '/clients')).body.clients.find((c: { id: string }) => c.id === id);
    expect(listed.connection.state).toBe('connected');
  });

  it('answers a customer from the FAQs through the linked phone, once although WhatsApp delivers twice', async () => {
    const whatsapp = stack.qr.whatsapp!;
    whatsapp.receive(NUMBER, '34699111222', '¿Cuál es el horario?', { id: 'sim_dup_1' });
    whatsapp.receive(NUMBER, '34699111222', '¿Cuál es el horario?', { id: 'sim_dup_1' });
    const sent = await eventually(async () => {
      const list = await sentBy(NUMBER);
      return list.length > 0 ? list : undefined;
    }, 'the answer');
    expect(sent[0]).toMatchObject({ to: '34699111222', text: expect.stringMatching(/lunes a viernes/) });
    await stack.drained(10_000);
    await new Promise((resolve) => setTimeout(resolve, 1_500)); // the duplicate's command would be sent by now
    expect((await sentBy(NUMBER)).filter((m) => m.to === '34699111222')).toHaveLength(sent.length);

    expect(
      (await phone('receive', { phone_number: NUMBER, from: '34699111333', text: '¿Tenéis terraza?' }))
        .status,
    ).toBe(202);
    await eventually(
      async () => ((await sentBy(NUMBER)).some((m) => m.to === '34699111333') ? true : undefined),
      'the second answer',
    );
  });

  it('comes back without a new QR after the runner task restarts', async () => {
    const before = (await call('GET', `/clients/${id}`)).body.qr.updated_at;
    await stack.qr.runner.shutdown();
    stack.qr.runner.start();
    await eventually(async () => {
      const { body } = await call('GET', `/clients/${id}`);
      return body.qr.state === 'connected' && body.qr.updated_at > before ? body.qr : undefined;
    }, 'connected again');
    expect(stack.qr.whatsapp!.currentQr(id)).toBeUndefined();
    expect((await phone('receive', { phone_number: NUMBER, from: '34699111444', text: 'hola' })).status).toBe(
      202,
    );
    await eventually(
      async () => ((await sentBy(NUMBER)).some((m) => m.to === '34699111444') ? true : undefined),
      'an answer after the restart',
    );
  });

  it('is logged out when the phone unlinks it, and a new QR comes on request', async () => {
    expect((await phone('logout', { phone_number: NUMBER })).status).toBe(200);
    await eventually(() => qrOf(id, 'logged_out'), 'logged_out');
    expect((await call('GET', `/clients/${id}`)).body.connection).toMatchObject({
      state: 'qr_not_linked',
      detail: 'the QR session is logged_out',
    });
    expect((await phone('receive', { phone_number: NUMBER, from: '34699111555', text: 'hola' })).status).toBe(
      409,
    );
    expect((await call('POST', `/clients/${id}/qr/start`)).status).toBe(202);
    await eventually(() => qrOf(id, 'qr'), 'a new QR');
  });

  it('refuses bad phone requests with a reason, and cross-origin browsers', async () => {
    const bad = await phone('scan', { qr: 'x', phone_number: '+34 600' });
    expect(bad.status).toBe(400);
    expect(bad.body.message).toMatch(/phone_number/);
    const crossOrigin = await fetch(`${stack.url}/simulator/phone/logout`, {
      method: 'POST',
      headers: { origin: 'https://evil.example', 'content-type': 'application/json' },
      body: JSON.stringify({ phone_number: NUMBER }),
    });
    expect(crossOrigin.status).toBe(403);
  });
});
