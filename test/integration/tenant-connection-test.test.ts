import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createAdminApiHandler } from '../../functions/admin-api.ts';
import { type StandaloneSimulator, startStandaloneSimulator } from '../../infra/local/whatsapp-simulator.ts';
import { ConversationStore } from '../../lib/conversation/conversation-store.ts';
import { RetentionStore } from '../../lib/retention/retention-store.ts';
import { createLocalSecretBox } from '../../lib/secrets/secret-box.ts';
import { ClientRepository } from '../../lib/tenants/client-repository.ts';
import type { ClientService } from '../../lib/tenants/client-service.ts';
import { type FakeOpenAi, startFakeOpenAi } from '../fakes/openai-server.ts';
import { apiEvent } from '../support/api-events.ts';
import { freshTable } from '../support/emulators.ts';
import { laPlazaFaqs } from '../support/fixtures.ts';
import { testClientService } from '../support/services.ts';
import { tenantApiDeps } from '../support/tenant-api-deps.ts';

/**
 * "Test connection" through the admin API handler, against the WhatsApp simulator's Graph stand-in
 * over HTTP (debug_token, the phone number's fields, the WABA's subscribed_apps) and the fake
 * OpenAI server: what each check says, how Meta's errors read, and that no secret comes back.
 */

const OPERATOR_KEY = 'op_test_key_connection_0123456789';
const APP_SECRET = 'connection-test-app-secret-value';
const META_APP_ID = '1234567890';
const PLATFORM_TOKEN = 'EAAGplatformSharedTokenValue9876';
const CHECK_TIMEOUT_MS = 3_000; // tenantApiDeps' per-check limit

let sim: StandaloneSimulator;
let openai: FakeOpenAi;
let service: ClientService;
let handler: ReturnType<typeof createAdminApiHandler>;
/** The same deployment, but its Graph base URL answers nothing for subscribed_apps. */
let partlyHangingHandler: ReturnType<typeof createAdminApiHandler>;
/** The same deployment, but its Graph base URL never answers at all. */
let silentGraphHandler: ReturnType<typeof createAdminApiHandler>;
const servers: Server[] = [];
/** The numbers the simulator knows (Meta would know every number of the WABA). */
const knownNumbers = new Map<string, string>();

type Handler = ReturnType<typeof createAdminApiHandler>;

async function call(
  method: string,
  path: string,
  options: { key?: string; via?: Handler; body?: unknown } = {},
) {
  const res = await (options.via ?? handler)(
    apiEvent(method, path, {
      headers: { authorization: `Bearer ${options.key ?? OPERATOR_KEY}` },
      ...(options.body !== undefined ? { body: options.body } : {}),
    }),
  );
  return { status: res.statusCode, body: JSON.parse(res.body ?? 'null'), raw: res.body ?? '' };
}

let seq = 620_000_000;
/** A client with its own token and WABA id; the simulator knows its number unless `known: false`. */
async function newClient(
  options: { known?: boolean; overrides?: Record<string, unknown>; ownToken?: boolean } = {},
) {
  seq++;
  const token = `EAAGtenantSecretToken${seq}`;
  const body = {
    name: `Restaurante La Plaza ${seq}`,
    phone_number: `+34${seq}`,
    phone_number_id: String(seq),
    faqs: laPlazaFaqs,
    waba_id: `10229012${seq}`,
    ...(options.ownToken === false ? {} : { whatsapp_access_token: token }),
    ...(options.overrides ?? {}),
  };
  if (options.known !== false) knownNumbers.set(body.phone_number_id, body.name);
  const created = await call('POST', '/clients', { body });
  expect(created.status).toBe(201);
  return { client: created.body, token };
}

const byName = (checks: Array<{ name: string; ok: boolean; detail: string }>) =>
  Object.fromEntries(checks.map((check) => [check.name, check]));

/** No secret the test holds appears anywhere in what the API answered. */
function expectNoSecret(raw: string, ...secrets: string[]) {
  for (const secret of [APP_SECRET, PLATFORM_TOKEN, `${META_APP_ID}|${APP_SECRET}`, ...secrets]) {
    expect(raw).not.toContain(secret);
    expect(raw).not.toContain(encodeURIComponent(secret));
  }
}

async function listen(server: Server): Promise<string> {
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** A Graph "server" in front of the simulator that never answers the paths `hangs` picks. */
async function startHangingGraph(hangs: (path: string) => boolean): Promise<string> {
  const server = createServer(async (req, res) => {
    if (hangs(req.url ?? '/')) return; // accepted, never answered
    const forwarded = await fetch(`${sim.url}${req.url}`, {
      headers: req.headers.authorization ? { authorization: req.headers.authorization } : {},
    });
    res.writeHead(forwarded.status, { 'content-type': 'application/json' });
    res.end(await forwarded.text());
  });
  return `${await listen(server)}${sim.simulator.graphPathPrefix}`;
}

beforeAll(async () => {
  sim = await startStandaloneSimulator({
    appSecret: APP_SECRET,
    listBusinesses: async () => [...knownNumbers].map(([phoneNumberId, name]) => ({ phoneNumberId, name })),
  });
  openai = await startFakeOpenAi();
  const { aws, tableName } = await freshTable();
  const repository = new ClientRepository(aws.dynamo, tableName);
  const secrets = createLocalSecretBox('test-local-secret-key');
  service = testClientService(repository, secrets, { platformHasOpenAi: false });
  const build = (graphBaseUrl: string) =>
    createAdminApiHandler(async () => ({
      service,
      conversations: new ConversationStore(aws.dynamo, tableName),
      purge: {
        clients: repository,
        store: new RetentionStore(aws.dynamo, tableName),
        secrets,
        openai: { deleteConversation: async () => false, deleteVectorStore: async () => false },
        platformOpenAiKey: async () => undefined,
      },
      operatorKey: OPERATOR_KEY,
      ...tenantApiDeps({
        dynamo: aws.dynamo,
        tableName,
        service,
        secrets,
        graphBaseUrl,
        openaiBaseUrl: openai.url,
        platformAccessToken: PLATFORM_TOKEN,
        metaAppId: META_APP_ID,
        appSecret: APP_SECRET,
      }),
    }));
  handler = build(sim.graphBaseUrl);
  partlyHangingHandler = build(await startHangingGraph((path) => path.includes('/subscribed_apps')));
  silentGraphHandler = build(await startHangingGraph(() => true));
});

afterEach(() => {
  sim.simulator.reset();
  openai.reset();
});

afterAll(async () => {
  for (const server of servers) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
  await sim?.stop();
  await openai?.stop();
});

describe('given a client whose credentials Meta accepts', () => {
  it('when the operator tests its connection, then every check passes with what Meta reported, and no secret is shown', async () => {
    const { client, token } = await newClient();
    const res = await call('POST', `/clients/${client.id}/test-connection`);
    expect(res.status).toBe(200);
    expect(res.body.ok).toBe(true);
    expect(res.body.checks.map((c: { name: string }) => c.name)).toEqual([
      'token',
      'phone_number',
      'webhook_subscription',
    ]);
    const checks = byName(res.body.checks);
    expect(checks.token).toEqual({ name: 'token', ok: true, detail: 'valid, never expires' });
    expect(checks.phone_number!.ok).toBe(true);
    expect(checks.phone_number!.detail).toContain('+1 555-555-');
    expect(checks.phone_number!.detail).toContain(client.name);
    expect(checks.phone_number!.detail).toContain('can send messages (AVAILABLE)');
    expect(checks.webhook_subscription).toEqual({
      name: 'webhook_subscription',
      ok: true,
      detail: '1 app subscribed: WhatsApp simulator',
    });
    expectNoSecret(res.raw, token);

    // The tenant's own token was the one presented (the simulator keeps only its last 4 characters).
    const suffixes = sim.simulator.graphCalls.map((c) => c.tokenSuffix);
    expect(suffixes).toHaveLength(3);
    expect(new Set(suffixes)).toEqual(new Set([token.slice(-4)]));
  });

  it('when the test ran, then GET /clients/{id} shows it as connection.last_test', async () => {
    const { client } = await newClient();
    await call('POST', `/clients/${client.id}/test-connection`);
    const read = await call('GET', `/clients/${client.id}`);
    expect(read.body.connection.last_test).toEqual({
      ok: true,
      checked_at: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T/),
      failed: [],
    });
  });

  it('when the tenant tests its own connection with its key, then it gets the same checks and the result is recorded on it', async () => {
    const { client, token } = await newClient();
    const key = await call('POST', `/clients/${client.id}/api-keys`);
    expect(key.status).toBe(201);
    const res = await call('POST', '/tenant/test-connection', { key: key.body.api_key });
    expect(res.status).toBe(200);
    expect(res.body.ok).toBe(true);
    expect(res.body.checks).toHaveLength(3);
    expectNoSecret(res.raw, token, key.body.api_key);
    const me = await call('GET', '/tenant', { key: key.body.api_key });
    expect(me.body.connection.last_test).toMatchObject({ ok: true, failed: [] });
  });

  it('when the client has no token of its own, then the platform token is tested (and never shown)', async () => {
    const { client } = await newClient({ ownToken: false });
    const res = await call('POST', `/clients/${client.id}/test-connection`);
    expect(res.body.ok).toBe(true);
    expect(new Set(sim.simulator.graphCalls.map((c) => c.tokenSuffix))).toEqual(
      new Set([PLATFORM_TOKEN.slice(-4)]),
    );
    // Its WABA id is not probed with the platform's token (any id could be another business's).
    expect(res.body.checks.map((c: { name: string }) => c.name)).toEqual(['token', 'phone_number']);
    expect(sim.simulator.graphCalls.some((c) => /subscribed_apps/.test(JSON.stringify(c)))).toBe(false);
    expectNoSecret(res.raw);
  });
});

describe('given Meta refuses something', () => {
  it('when the token is expired or revoked (190), then each Graph check says so in plain words and the record lists them', async () => {
    const { client, token } = await newClient();
    sim.simulator.failNext(3, { httpStatus: 401, code: 190, subcode: 463, operation: 'other' });
    const res = await call('POST', `/clients/${client.id}/test-connection`);
    expect(res.status).toBe(200);
    expect(res.body.ok).toBe(false);
    for (const check of res.body.checks) {
      expect(check.ok).toBe(false);
      expect(check.detail).toContain('the access token is expired or revoked');
    }
    expectNoSecret(res.raw, token);
    const read = await call('GET', `/clients/${client.id}`);
    expect(read.body.connection.last_test).toMatchObject({ ok: false });
    expect([...read.body.connection.last_test.failed].sort()).toEqual(
      ['phone_number', 'token', 'webhook_subscription'].sort(),
    );
  });

  it('when the phone_number_id is one Meta does not know (100), then phone_number says the id is wrong and the others pass', async () => {
    const { client, token } = await newClient({ known: false });
    const res = await call('POST', `/clients/${client.id}/test-connection`);
    expect(res.body.ok).toBe(false);
    const checks = byName(res.body.checks);
    expect(checks.phone_number).toEqual({
      name: 'phone_number',
      ok: false,
      detail: 'the id is wrong or not visible to this token',
    });
    expect(checks.token!.ok).toBe(true);
    expect(checks.webhook_subscription!.ok).toBe(true);
    expectNoSecret(res.raw, token);
    expect((await call('GET', `/clients/${client.id}`)).body.connection.last_test.failed).toEqual([
      'phone_number',
    ]);
  });

  it('when the WABA id is wrong (the phone number id given instead, 100), then webhook_subscription says the id is wrong', async () => {
    const phoneNumberId = String(seq + 1); // the number newClient is about to use
    const { client, token } = await newClient({
      overrides: { phone_number_id: phoneNumberId, waba_id: phoneNumberId },
    });
    expect(client.phone_number_id).toBe(phoneNumberId);
    const res = await call('POST', `/clients/${client.id}/test-connection`);
    expect(res.body.ok).toBe(false);
    const checks = byName(res.body.checks);
    expect(checks.webhook_subscription).toEqual({
      name: 'webhook_subscription',
      ok: false,
      detail: 'the id is wrong or not visible to this token',
    });
    expect(checks.phone_number!.ok).toBe(true);
    expect(checks.token!.ok).toBe(true);
    expectNoSecret(res.raw, token);
  });

  it.each([
    [200, 403],
    [10, 403],
  ])(
    'when the token lacks a permission (code %s), then phone_number names the permission and the others pass',
    async (code, httpStatus) => {
      const { client, token } = await newClient();
      sim.simulator.failNext(1, {
        httpStatus,
        code,
        operation: 'other',
        phoneNumberId: client.phone_number_id,
      });
      const res = await call('POST', `/clients/${client.id}/test-connection`);
      expect(res.body.ok).toBe(false);
      const checks = byName(res.body.checks);
      expect(checks.phone_number).toEqual({
        name: 'phone_number',
        ok: false,
        detail: 'the token lacks a permission (needs whatsapp_business_management)',
      });
      expect(checks.token!.ok).toBe(true);
      expect(checks.webhook_subscription!.ok).toBe(true);
      expectNoSecret(res.raw, token);
    },
  );
});

describe('given a Graph API that does not answer', () => {
  it('when one read hangs, then that check fails with a timeout and the other checks still report', async () => {
    const { client, token } = await newClient();
    const res = await call('POST', `/clients/${client.id}/test-connection`, { via: partlyHangingHandler });
    expect(res.status).toBe(200);
    expect(res.body.ok).toBe(false);
    const checks = byName(res.body.checks);
    expect(checks.webhook_subscription).toEqual({
      name: 'webhook_subscription',
      ok: false,
      detail: `no answer from the Graph API within ${CHECK_TIMEOUT_MS} ms`,
    });
    expect(checks.token!.ok).toBe(true);
    expect(checks.phone_number!.ok).toBe(true);
    expectNoSecret(res.raw, token);
    expect((await call('GET', `/clients/${client.id}`)).body.connection.last_test.failed).toEqual([
      'webhook_subscription',
    ]);
  });

  it('when no Graph read answers, then every Graph check times out and the OpenAI check still runs', async () => {
    const openaiKey = `sk-tenant-${seq}-refused-key-value`;
    const { client, token } = await newClient({ overrides: { openai_api_key: openaiKey } });
    const res = await call('POST', `/clients/${client.id}/test-connection`, { via: silentGraphHandler });
    expect(res.status).toBe(200);
    const checks = byName(res.body.checks);
    for (const name of ['token', 'phone_number', 'webhook_subscription']) {
      expect(checks[name]).toEqual({
        name,
        ok: false,
        detail: `no answer from the Graph API within ${CHECK_TIMEOUT_MS} ms`,
      });
    }
    expect(checks.openai_key).toEqual({
      name: 'openai_key',
      ok: false,
      detail: 'refused (401): the key is wrong or revoked',
    });
    expectNoSecret(res.raw, token, openaiKey);
  });
});

describe('given a client with its own OpenAI key', () => {
  it('when OpenAI accepts the key, then openai_key passes with every other check', async () => {
    const openaiKey = `sk-tenant-${seq}-accepted-key-value`;
    const { client, token } = await newClient({ overrides: { openai_api_key: openaiKey } });
    openai.acceptKey(openaiKey);
    const res = await call('POST', `/clients/${client.id}/test-connection`);
    expect(res.status).toBe(200);
    expect(res.body.ok).toBe(true);
    expect(byName(res.body.checks).openai_key).toEqual({ name: 'openai_key', ok: true, detail: 'accepted' });
    expectNoSecret(res.raw, token, openaiKey);
  });

  it('when OpenAI refuses the key (401), then openai_key says so without quoting the key; the WhatsApp checks pass', async () => {
    const openaiKey = `sk-tenant-${seq}-wrong-key-value`;
    const { client, token } = await newClient({ overrides: { openai_api_key: openaiKey } });
    const res = await call('POST', `/clients/${client.id}/test-connection`);
    expect(res.status).toBe(200);
    expect(res.body.ok).toBe(false);
    expect(res.body.checks.map((c: { name: string }) => c.name)).toEqual([
      'token',
      'phone_number',
      'webhook_subscription',
      'openai_key',
    ]);
    const checks = byName(res.body.checks);
    expect(checks.openai_key).toEqual({
      name: 'openai_key',
      ok: false,
      detail: 'refused (401): the key is wrong or revoked',
    });
    expect(checks.phone_number!.ok).toBe(true);
    // The tenant's key was the one sent.
    expect(openai.requestsTo('GET', '/v1/models').map((r) => r.keySuffix)).toEqual([openaiKey.slice(-6)]);
    expectNoSecret(res.raw, token, openaiKey);
    expect((await call('GET', `/clients/${client.id}`)).body.connection.last_test.failed).toEqual([
      'openai_key',
    ]);
  });

  it('when OpenAI accepts the key but rate limits it (429), then openai_key says so', async () => {
    const openaiKey = `sk-tenant-${seq}-limited-key-value`;
    const { client, token } = await newClient({ overrides: { openai_api_key: openaiKey } });
    openai.acceptKey(openaiKey);
    openai.failNext(1, { status: 429 }, { method: 'GET', path: '/v1/models' });
    const res = await call('POST', `/clients/${client.id}/test-connection`);
    expect(byName(res.body.checks).openai_key).toEqual({
      name: 'openai_key',
      ok: false,
      detail: 'accepted but rate limited or out of quota (429)',
    });
    expectNoSecret(res.raw, token, openaiKey);
  });
});
