import { createHash } from 'node:crypto';
import { GetCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createAdminApiHandler } from '../../functions/admin-api.ts';
import { FAILED_AUTH_LIMIT, FAILED_AUTH_WINDOW_MS } from '../../lib/admin-api/failed-auth-limiter.ts';
import type { AwsClients } from '../../lib/aws-clients.ts';
import { ConversationStore } from '../../lib/conversation/conversation-store.ts';
import { type PurgeDeps, runPurge } from '../../lib/retention/purge.ts';
import { RetentionStore } from '../../lib/retention/retention-store.ts';
import { createLocalSecretBox } from '../../lib/secrets/secret-box.ts';
import { type ApiKeyRepository, apiKeyKeys } from '../../lib/tenants/api-key-repository.ts';
import { ClientRepository } from '../../lib/tenants/client-repository.ts';
import { ClientService } from '../../lib/tenants/client-service.ts';
import { apiEvent } from '../support/api-events.ts';
import { freshTable } from '../support/emulators.ts';
import { laPlazaFaqs } from '../support/fixtures.ts';
import { tenantApiDeps } from '../support/tenant-api-deps.ts';

/** Tenant API keys through the admin API: the operator's and the tenant's own, the failed-auth limit, the purge. */

const OPERATOR_KEY = 'op_test_key_tenant_keys_0123';

let aws: AwsClients;
let tableName: string;
let handler: ReturnType<typeof createAdminApiHandler>;
let apiKeys: ApiKeyRepository;
let purge: PurgeDeps;
/** The service's clock: set to deactivate a client in the past. */
let clock: Date | undefined;

// Every test calls from its own address, so failed authentications of one never limit another.
let ipSeq = 0;
let sourceIp = '';
beforeEach(() => {
  ipSeq++;
  sourceIp = `10.1.${Math.floor(ipSeq / 250)}.${(ipSeq % 250) + 1}`;
});

type CallOptions = Parameters<typeof apiEvent>[2] & { key?: string; ip?: string };

async function call(method: string, path: string, options: CallOptions = {}) {
  const { key, ip, ...rest } = options;
  const event = apiEvent(method, path, {
    ...rest,
    headers: { ...(key ? { authorization: `Bearer ${key}` } : {}), ...(rest.headers ?? {}) },
  });
  event.requestContext.http.sourceIp = ip ?? sourceIp;
  const res = await handler(event);
  return { status: res.statusCode, body: JSON.parse(res.body ?? 'null'), headers: res.headers ?? {} };
}
const asOperator = (method: string, path: string, options: CallOptions = {}) =>
  call(method, path, { key: OPERATOR_KEY, ...options });

let phoneSeq = 710000;
async function newClient(): Promise<{ id: string; name: string }> {
  const res = await asOperator('POST', '/clients', {
    body: {
      name: `Restaurante ${phoneSeq}`,
      phone_number: '+34666777888',
      phone_number_id: String(phoneSeq++),
      faqs: laPlazaFaqs,
    },
  });
  expect(res.status).toBe(201);
  return res.body;
}
async function createKey(clientId: string) {
  const res = await asOperator('POST', `/clients/${clientId}/api-keys`);
  expect(res.status).toBe(201);
  return res.body as { key_id: string; api_key: string; prefix: string; created_at: string };
}
const scanTable = async () => (await aws.dynamo.send(new ScanCommand({ TableName: tableName }))).Items ?? [];
const lookupItem = async (keyId: string) =>
  (
    await aws.dynamo.send(
      new GetCommand({ TableName: tableName, Key: apiKeyKeys.lookup(keyId), ConsistentRead: true }),
    )
  ).Item;

beforeAll(async () => {
  ({ aws, tableName } = await freshTable());
  const repository = new ClientRepository(aws.dynamo, tableName);
  const secrets = createLocalSecretBox('tenant-keys-test-key');
  const service = new ClientService({
    clients: repository,
    secrets,
    enqueueProvisioning: async () => undefined,
    platformHasOpenAi: async () => false,
    defaultModel: 'gpt-5-mini',
    now: () => clock ?? new Date(),
  });
  const tenantDeps = tenantApiDeps({ dynamo: aws.dynamo, tableName, service, secrets });
  apiKeys = tenantDeps.apiKeys;
  purge = {
    clients: repository,
    store: new RetentionStore(aws.dynamo, tableName),
    secrets,
    openai: { deleteConversation: async () => false, deleteVectorStore: async () => false },
    platformOpenAiKey: async () => undefined,
    apiKeys,
  };
  handler = createAdminApiHandler(async () => ({
    service,
    conversations: new ConversationStore(aws.dynamo, tableName),
    purge,
    operatorKey: OPERATOR_KEY,
    ...tenantDeps,
  }));
});

describe('given the operator creating a key for a client', () => {
  it('when it is created, then 201 shows the key once, and only its SHA-256 is stored', async () => {
    const client = await newClient();
    const res = await asOperator('POST', `/clients/${client.id}/api-keys`);
    expect(res.status).toBe(201);
    expect(Object.keys(res.body).sort()).toEqual(['api_key', 'created_at', 'key_id', 'prefix']);
    const { api_key, key_id, prefix, created_at } = res.body;
    expect(prefix).toBe(`wta_test_${key_id}`);
    expect(api_key.startsWith(`${prefix}_`)).toBe(true);
    expect(Number.isNaN(Date.parse(created_at))).toBe(false);

    const items = await scanTable();
    expect(JSON.stringify(items)).not.toContain(api_key);
    expect(JSON.stringify(items)).not.toContain(api_key.slice(prefix.length + 1));
    const sha256 = createHash('sha256').update(api_key, 'utf8').digest('base64url');
    expect((await lookupItem(key_id))?.secret_hash).toBe(sha256);
    expect((await lookupItem(key_id))?.tenant_id).toBe(client.id);
  });

  it('when it is listed, then the list names it by id and prefix, with no secret and no hash, and shows its last use', async () => {
    const client = await newClient();
    const key = await createKey(client.id);
    const before = await asOperator('GET', `/clients/${client.id}/api-keys`);
    expect(before.status).toBe(200);
    expect(before.body).toEqual({
      api_keys: [{ key_id: key.key_id, prefix: key.prefix, created_at: key.created_at, last_used_at: null }],
    });

    expect((await call('GET', '/tenant', { key: key.api_key })).status).toBe(200);
    const after = await asOperator('GET', `/clients/${client.id}/api-keys`);
    const listed = after.body.api_keys[0];
    expect(Object.keys(listed).sort()).toEqual(['created_at', 'key_id', 'last_used_at', 'prefix']);
    expect(typeof listed.last_used_at).toBe('string');
    expect(Date.parse(listed.last_used_at)).toBeGreaterThanOrEqual(Date.parse(key.created_at));
    const text = JSON.stringify(after.body);
    expect(text).not.toContain(key.api_key);
    expect(text).not.toContain(String((await lookupItem(key.key_id))?.secret_hash));
  });

  it('when a third active key is asked for, then 409 until one is revoked; a revoked key is 401 at once', async () => {
    const client = await newClient();
    const first = await createKey(client.id);
    const second = await createKey(client.id);
    const third = await asOperator('POST', `/clients/${client.id}/api-keys`);
    expect(third.status).toBe(409);
    expect(third.body.message).toContain('revoke one');

    const revoked = await asOperator('DELETE', `/clients/${client.id}/api-keys/${first.key_id}`);
    expect(revoked).toMatchObject({ status: 200, body: { key_id: first.key_id, revoked: true } });
    const refused = await call('GET', '/tenant', { key: first.api_key });
    expect(refused.status).toBe(401);
    expect(refused.headers['www-authenticate']).toBe('Bearer');
    expect(await lookupItem(first.key_id)).toBeUndefined();
    expect((await call('GET', '/tenant', { key: second.api_key })).body.id).toBe(client.id);

    const replacement = await asOperator('POST', `/clients/${client.id}/api-keys`);
    expect(replacement.status).toBe(201);
    const listed = (await asOperator('GET', `/clients/${client.id}/api-keys`)).body.api_keys;
    expect(listed.map((k: { key_id: string }) => k.key_id).sort()).toEqual(
      [second.key_id, replacement.body.key_id].sort(),
    );
    expect((await asOperator('POST', `/clients/${client.id}/api-keys`)).status).toBe(409);
  });

  it('when revoking a key of another client, an unknown or a malformed key id, then 404 and the key still works', async () => {
    const owner = await newClient();
    const other = await newClient();
    const key = await createKey(owner.id);
    expect((await asOperator('DELETE', `/clients/${other.id}/api-keys/${key.key_id}`)).status).toBe(404);
    expect((await asOperator('DELETE', `/clients/${owner.id}/api-keys/AAAAAAAAAA`)).status).toBe(404);
    expect((await asOperator('DELETE', `/clients/${owner.id}/api-keys/not-a-key`)).status).toBe(404);
    expect((await call('GET', '/tenant', { key: key.api_key })).body.id).toBe(owner.id);
    expect((await asOperator('GET', `/clients/${owner.id}/api-keys`)).body.api_keys).toHaveLength(1);
  });

  it('when the client is unknown or deactivated, then no key is created (404)', async () => {
    expect((await asOperator('POST', '/clients/cl_doesnotexist/api-keys')).status).toBe(404);
    const client = await newClient();
    await asOperator('DELETE', `/clients/${client.id}`);
    expect((await asOperator('POST', `/clients/${client.id}/api-keys`)).status).toBe(404);
    expect((await asOperator('GET', `/clients/${client.id}/api-keys`)).body.api_keys).toEqual([]);
  });
});

describe('given a tenant rotating its own keys', () => {
  it('when it creates a second key and revokes the first, then only the second works and is listed', async () => {
    const client = await newClient();
    const first = await createKey(client.id);
    const created = await call('POST', '/tenant/api-keys', { key: first.api_key });
    expect(created.status).toBe(201);
    expect(Object.keys(created.body).sort()).toEqual(['api_key', 'created_at', 'key_id', 'prefix']);
    const second = created.body;
    expect(await apiKeys.authenticate(second.api_key)).toEqual({ tenantId: client.id, keyId: second.key_id });

    const both = await call('GET', '/tenant/api-keys', { key: second.api_key });
    expect(both.status).toBe(200);
    expect(both.body.api_keys.map((k: { key_id: string }) => k.key_id).sort()).toEqual(
      [first.key_id, second.key_id].sort(),
    );
    expect(JSON.stringify(both.body)).not.toContain(first.api_key);
    expect(JSON.stringify(both.body)).not.toContain(second.api_key);
    expect((await call('POST', '/tenant/api-keys', { key: first.api_key })).status).toBe(409);

    const revoked = await call('DELETE', `/tenant/api-keys/${first.key_id}`, { key: second.api_key });
    expect(revoked).toMatchObject({ status: 200, body: { key_id: first.key_id, revoked: true } });
    expect((await call('GET', '/tenant', { key: first.api_key })).status).toBe(401);
    const left = await call('GET', '/tenant/api-keys', { key: second.api_key });
    expect(left.body.api_keys.map((k: { key_id: string }) => k.key_id)).toEqual([second.key_id]);
    // The operator sees the same keys.
    expect((await asOperator('GET', `/clients/${client.id}/api-keys`)).body.api_keys).toEqual(
      left.body.api_keys,
    );
  });

  it('when it revokes the key it is using, then that request succeeds and the next one is 401', async () => {
    const client = await newClient();
    const key = await createKey(client.id);
    expect((await call('DELETE', `/tenant/api-keys/${key.key_id}`, { key: key.api_key })).status).toBe(200);
    expect((await call('GET', '/tenant/api-keys', { key: key.api_key })).status).toBe(401);
    expect((await asOperator('GET', `/clients/${client.id}/api-keys`)).body.api_keys).toEqual([]);
  });

  it('when it revokes an unknown key id, then 404', async () => {
    const client = await newClient();
    const key = await createKey(client.id);
    expect((await call('DELETE', '/tenant/api-keys/ZZZZZZZZZZ', { key: key.api_key })).status).toBe(404);
    expect((await call('DELETE', '/tenant/api-keys/%E0%A4%A', { key: key.api_key })).status).toBe(400);
  });
});

/** Waits for the next failed-auth window when this one is about to end (the count is per window). */
async function startOfAWindow() {
  const into = Date.now() % FAILED_AUTH_WINDOW_MS;
  if (into > FAILED_AUTH_WINDOW_MS - 10_000) {
    await new Promise((resolve) => setTimeout(resolve, FAILED_AUTH_WINDOW_MS - into + 50));
  }
}

describe('given failed authentications from one source', () => {
  it(`when ${FAILED_AUTH_LIMIT} have failed within a minute, then the next is 429 with Retry-After, and the right key from there still works`, async () => {
    const client = await newClient();
    const key = await createKey(client.id);
    const wrong = `${key.prefix}_${'x'.repeat(32)}`;
    await startOfAWindow();
    for (let i = 0; i < FAILED_AUTH_LIMIT; i++) {
      const refused = await call('GET', '/tenant', { key: i % 2 ? wrong : 'not-a-key' });
      expect(refused.status).toBe(401);
    }
    const limited = await call('GET', '/tenant', { key: wrong });
    expect(limited.status).toBe(429);
    const retryAfter = Number(limited.headers['retry-after']);
    expect(Number.isInteger(retryAfter)).toBe(true);
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(FAILED_AUTH_WINDOW_MS / 1000);
    expect(limited.body.error).toBe('too_many_requests');
    // Operator routes count and are limited the same way; a request with no key at all is no attempt
    // (it is neither counted nor limited: a probe of every route without credentials gets 401s).
    expect((await call('GET', '/clients', { key: 'wrong' })).status).toBe(429);
    expect((await call('GET', '/tenant')).status).toBe(401);

    // The right keys are always checked.
    const allowed = await call('GET', '/tenant', { key: key.api_key });
    expect(allowed.status).toBe(200);
    expect(allowed.body.id).toBe(client.id);
    expect((await asOperator('GET', `/clients/${client.id}`)).status).toBe(200);
    // Another source is not limited.
    expect((await call('GET', '/tenant', { key: wrong, ip: `${sourceIp}0` })).status).toBe(401);
  });

  it('when fewer than the limit have failed, then wrong keys are 401, not 429', async () => {
    await startOfAWindow();
    for (let i = 0; i < FAILED_AUTH_LIMIT; i++) {
      expect((await call('GET', '/clients', { key: 'wrong' })).status).toBe(401);
    }
  });

  it('when a refused invitation token counts as a failure, then it is limited like a wrong key', async () => {
    await startOfAWindow();
    for (let i = 0; i < FAILED_AUTH_LIMIT; i++) {
      expect((await call('POST', '/invitations/accept', { body: { token: 'nope' } })).status).toBe(410);
    }
    expect((await call('POST', '/invitations/accept', { body: { token: 'nope' } })).status).toBe(429);
  });
});

describe('given a client deactivated more than 30 days ago', () => {
  it('when the purge runs, then the client is erased, its keys no longer authenticate and their lookups are gone', async () => {
    const client = await newClient();
    const first = await createKey(client.id);
    const second = await createKey(client.id);
    clock = new Date(Date.now() - 31 * 24 * 3600_000);
    try {
      expect((await asOperator('DELETE', `/clients/${client.id}`)).status).toBe(200);
    } finally {
      clock = undefined;
    }
    // Recently deactivated: kept, and its keys are refused with a reason.
    const recent = await newClient();
    const recentKey = await createKey(recent.id);
    await asOperator('DELETE', `/clients/${recent.id}`);

    const run = await runPurge({ trigger: 'schedule' }, purge);
    expect(run.status).toBe('completed');
    expect(run.report.clients_erased).toBe(1);

    expect((await asOperator('GET', `/clients/${client.id}`)).status).toBe(404);
    for (const key of [first, second]) {
      expect((await call('GET', '/tenant', { key: key.api_key })).status).toBe(401);
      expect(await apiKeys.authenticate(key.api_key)).toBeUndefined();
      expect(await lookupItem(key.key_id)).toBeUndefined();
    }
    const leftovers = (await scanTable()).filter(
      (item) => String(item.pk).includes(client.id) || item.tenant_id === client.id,
    );
    expect(leftovers).toEqual([]);

    expect((await asOperator('GET', `/clients/${recent.id}`)).body.active).toBe(false);
    const refused = await call('GET', '/tenant', { key: recentKey.api_key });
    expect(refused.status).toBe(403);
    expect(refused.body.message).toContain('deactivated');
    expect(await lookupItem(recentKey.key_id)).toBeDefined();
  });
});
