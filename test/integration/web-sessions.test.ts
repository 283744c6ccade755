import { beforeAll, describe, expect, it } from 'vitest';
import { createAdminApiHandler } from '../../functions/admin-api.ts';
import { ConversationStore } from '../../lib/conversation/conversation-store.ts';
import { RetentionStore } from '../../lib/retention/retention-store.ts';
import { createLocalSecretBox } from '../../lib/secrets/secret-box.ts';
import { ClientRepository } from '../../lib/tenants/client-repository.ts';
import { apiEvent } from '../support/api-events.ts';
import { freshTable } from '../support/emulators.ts';
import { laPlazaFaqs } from '../support/fixtures.ts';
import { testClientService } from '../support/services.ts';
import { tenantApiDeps } from '../support/tenant-api-deps.ts';

/**
 * Browser sessions: a key is exchanged for a cookie that holds no key; with it the operator and
 * tenant routes work as with the bearer key, every change needs the CSRF header, and the session ends
 * when its key does.
 */

let operatorKey = 'op_sessions_key_0123456789';
let handler: ReturnType<typeof createAdminApiHandler>;
let repository: ClientRepository;
let phone = 500000;

type Options = Parameters<typeof apiEvent>[2] & { cookie?: string; csrf?: string; bearer?: string };
const call = async (method: string, path: string, options: Options = {}) => {
  const headers: Record<string, string> = { ...(options.headers ?? {}) };
  if (options.bearer) headers.authorization = `Bearer ${options.bearer}`;
  if (options.cookie) headers.cookie = options.cookie;
  if (options.csrf) headers['x-csrf-token'] = options.csrf;
  const res = await handler(apiEvent(method, path, { ...options, headers }));
  return { status: res.statusCode, body: JSON.parse(res.body ?? 'null'), cookies: res.cookies ?? [] };
};

async function newTenant() {
  const created = await call('POST', '/clients', {
    bearer: operatorKey,
    body: {
      name: 'Café Sol',
      phone_number: '+34600000000',
      phone_number_id: String(phone++),
      faqs: laPlazaFaqs,
    },
  });
  expect(created.status).toBe(201);
  const key = await call('POST', `/clients/${created.body.id}/api-keys`, { bearer: operatorKey });
  expect(key.status).toBe(201);
  return {
    id: created.body.id as string,
    apiKey: key.body.api_key as string,
    keyId: key.body.key_id as string,
  };
}

async function signIn(key: string) {
  const res = await call('POST', '/web/sessions', { body: { key } });
  expect(res.status).toBe(201);
  const cookie = res.cookies[0]!.split(';')[0]!;
  return { cookie, csrf: res.body.csrf_token as string, body: res.body, setCookie: res.cookies[0]! };
}

beforeAll(async () => {
  const { aws, tableName } = await freshTable();
  repository = new ClientRepository(aws.dynamo, tableName);
  const secrets = createLocalSecretBox('test-local-secret-key');
  const service = testClientService(repository, secrets, { platformHasOpenAi: false });
  const purge = {
    clients: repository,
    store: new RetentionStore(aws.dynamo, tableName),
    secrets,
    openai: { deleteConversation: async () => false, deleteVectorStore: async () => false },
    platformOpenAiKey: async () => undefined,
  };
  const tenant = tenantApiDeps({
    dynamo: aws.dynamo,
    tableName,
    service,
    secrets,
    publicBaseUrl: 'https://wa.example.com',
  });
  handler = createAdminApiHandler(async () => ({
    service,
    conversations: new ConversationStore(aws.dynamo, tableName),
    purge,
    operatorKey,
    ...tenant,
  }));
});

describe('signing in', () => {
  it('given a tenant key, then the cookie is HttpOnly, SameSite=Strict, Secure over HTTPS and holds no key', async () => {
    const tenant = await newTenant();
    const session = await signIn(tenant.apiKey);
    expect(session.body).toMatchObject({ kind: 'tenant', client_id: tenant.id, key_id: tenant.keyId });
    expect(session.setCookie).toMatch(
      /^wa_session=[0-9A-Za-z]{32}; Path=\/; HttpOnly; SameSite=Strict; Max-Age=43200; Secure$/,
    );
    expect(session.setCookie).not.toContain(tenant.apiKey);
    expect(session.setCookie).not.toContain(tenant.keyId);
  });

  it('given a wrong key, then 401 and no cookie', async () => {
    const res = await call('POST', '/web/sessions', { body: { key: 'wta_live_AAAAAAAAAA_not-a-real-key' } });
    expect(res.status).toBe(401);
    expect(res.cookies).toEqual([]);
  });

  it('given the session cookie, then GET /web/session tells who it is and its CSRF token', async () => {
    const tenant = await newTenant();
    const session = await signIn(tenant.apiKey);
    const current = await call('GET', '/web/session', { cookie: session.cookie });
    expect(current.status).toBe(200);
    expect(current.body).toMatchObject({ kind: 'tenant', client_id: tenant.id, csrf_token: session.csrf });
    expect(
      (await call('GET', '/web/session', { cookie: 'wa_session=0123456789abcdefghijABCDEFGHIJ01' })).status,
    ).toBe(401);
  });
});

describe('routes with a session cookie', () => {
  it('given a tenant session, then GET /tenant is its tenant; a change needs the CSRF token', async () => {
    const tenant = await newTenant();
    const { cookie, csrf } = await signIn(tenant.apiKey);
    const own = await call('GET', '/tenant', { cookie });
    expect(own.status).toBe(200);
    expect(own.body.id).toBe(tenant.id);
    const body = { welcome_message: '¡Bienvenido al Café Sol!' };
    const forged = await call('PATCH', '/tenant', { cookie, body });
    expect(forged.status).toBe(403);
    expect(forged.body.message).toMatch(/x-csrf-token/);
    expect(
      (await call('PATCH', '/tenant', { cookie, body, csrf: 'wrong-token-of-32-characters-xx' })).status,
    ).toBe(403);
    const changed = await call('PATCH', '/tenant', { cookie, body, csrf });
    expect(changed.status).toBe(200);
    expect(changed.body.welcome_message).toBe('¡Bienvenido al Café Sol!');
  });

  it("given tenant A's session, then B's data is out of reach and operator routes are 403", async () => {
    const a = await newTenant();
    const b = await newTenant();
    const { cookie, csrf } = await signIn(a.apiKey);
    expect((await call('GET', `/clients/${b.id}`, { cookie })).status).toBe(403);
    expect((await call('GET', '/clients', { cookie })).status).toBe(403);
    expect((await call('DELETE', `/tenant/api-keys/${b.keyId}`, { cookie, csrf })).status).toBe(404);
    expect((await call('GET', '/tenant', { cookie })).body.id).toBe(a.id);
  });

  it('given an operator session, then operator routes work and /tenant is 403', async () => {
    const { cookie, csrf } = await signIn(operatorKey);
    expect((await call('GET', '/clients', { cookie })).status).toBe(200);
    expect((await call('GET', '/tenant', { cookie })).status).toBe(403);
    const created = await call('POST', '/clients', {
      cookie,
      csrf,
      body: {
        name: 'Bar Luna',
        phone_number: '+34600000001',
        phone_number_id: String(phone++),
        faqs: laPlazaFaqs,
      },
    });
    expect(created.status).toBe(201);
    expect((await call('DELETE', `/clients/${created.body.id}`, { cookie })).status).toBe(403);
  });
});

describe('ending sessions', () => {
  it('given the key revoked, then its session ends at once', async () => {
    const tenant = await newTenant();
    const { cookie } = await signIn(tenant.apiKey);
    expect((await call('GET', '/tenant', { cookie })).status).toBe(200);
    expect(
      (await call('DELETE', `/clients/${tenant.id}/api-keys/${tenant.keyId}`, { bearer: operatorKey }))
        .status,
    ).toBe(200);
    expect((await call('GET', '/tenant', { cookie })).status).toBe(401);
  });

  it('given the client deactivated, then its session is 403 with the reason', async () => {
    const tenant = await newTenant();
    const { cookie } = await signIn(tenant.apiKey);
    await call('DELETE', `/clients/${tenant.id}`, { bearer: operatorKey });
    const res = await call('GET', '/tenant', { cookie });
    expect(res.status).toBe(403);
    expect(res.body.message).toMatch(/deactivated/);
  });

  it('given the operator key rotated, then operator sessions end', async () => {
    const { cookie } = await signIn(operatorKey);
    expect((await call('GET', '/clients', { cookie })).status).toBe(200);
    const previous = operatorKey;
    operatorKey = 'op_sessions_key_rotated_987654';
    try {
      expect((await call('GET', '/clients', { cookie })).status).toBe(401);
      expect((await call('GET', '/web/session', { cookie })).status).toBe(401);
    } finally {
      operatorKey = previous;
    }
  });

  it('signing out needs the CSRF token, then the cookie is cleared and the session is gone', async () => {
    const tenant = await newTenant();
    const { cookie, csrf } = await signIn(tenant.apiKey);
    expect((await call('DELETE', '/web/session', { cookie })).status).toBe(403);
    const out = await call('DELETE', '/web/session', { cookie, csrf });
    expect(out.status).toBe(200);
    expect(out.cookies[0]).toMatch(/^wa_session=; .*Max-Age=0/);
    expect((await call('GET', '/tenant', { cookie })).status).toBe(401);
  });
});
