import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { ConflictError, NotFoundError } from '../../lib/errors.ts';
import { createLocalSecretBox } from '../../lib/secrets/secret-box.ts';
import {
  ApiKeyRepository,
  apiKeyKeys,
  LAST_USED_RESOLUTION_MS,
} from '../../lib/tenants/api-key-repository.ts';
import { ClientRepository } from '../../lib/tenants/client-repository.ts';
import type { ClientService } from '../../lib/tenants/client-service.ts';
import { generateApiKey } from '../../lib/tenants/tenant-tokens.ts';
import { freshTable } from '../support/emulators.ts';
import { laPlazaFaqs } from '../support/fixtures.ts';
import { testClientService } from '../support/services.ts';

let keys: ApiKeyRepository;
let service: ClientService;
let scanTable: () => Promise<Record<string, unknown>[]>;
let phone = 600_000_000;

beforeAll(async () => {
  const { aws, tableName } = await freshTable();
  keys = new ApiKeyRepository(aws.dynamo, tableName);
  service = testClientService(new ClientRepository(aws.dynamo, tableName), createLocalSecretBox('k'), {
    platformHasOpenAi: false,
  });
  scanTable = async () => (await aws.dynamo.send(new ScanCommand({ TableName: tableName }))).Items ?? [];
});

async function newTenant(): Promise<string> {
  phone++;
  const client = await service.create({
    name: `Tenant ${phone}`,
    phone_number: `+34${phone}`,
    phone_number_id: String(phone),
    faqs: laPlazaFaqs,
    language: 'es',
    bot_enabled: true,
    retention_hours: 24,
  });
  return client.id;
}

describe('given a tenant creating API keys', () => {
  it('when it creates two, then both work and are listed without secret or hash; a third is a 409', async () => {
    const tenant = await newTenant();
    const first = await keys.createApiKey(tenant);
    const second = await keys.createApiKey(tenant);

    expect(first.api_key.startsWith(`${first.prefix}_`)).toBe(true);
    expect(first.prefix).toBe(`wta_live_${first.key_id}`);
    expect(await keys.authenticate(first.api_key)).toEqual({ tenantId: tenant, keyId: first.key_id });
    expect(await keys.authenticate(second.api_key)).toEqual({ tenantId: tenant, keyId: second.key_id });

    const listed = await keys.listApiKeys(tenant);
    expect(listed.map((k) => k.key_id).sort()).toEqual([first.key_id, second.key_id].sort());
    for (const key of listed)
      expect(Object.keys(key).sort()).toEqual(['created_at', 'key_id', 'last_used_at', 'prefix']);
    expect(JSON.stringify(listed)).not.toContain(first.api_key.slice(-32));

    const third = keys.createApiKey(tenant);
    await expect(third).rejects.toBeInstanceOf(ConflictError);
    await expect(third).rejects.toMatchObject({
      status: 409,
      message: expect.stringContaining('already has 2 active API keys'),
    });
    expect(await keys.listApiKeys(tenant)).toHaveLength(2);
  });

  it('when it revokes one of two, then that key fails at once, the other still works and a new one can be made', async () => {
    const tenant = await newTenant();
    const old = await keys.createApiKey(tenant);
    const current = await keys.createApiKey(tenant);
    expect(await keys.authenticate(old.api_key)).toBeDefined();

    await keys.revokeApiKey(tenant, old.key_id);

    expect(await keys.authenticate(old.api_key)).toBeUndefined();
    expect(await keys.authenticate(current.api_key)).toEqual({ tenantId: tenant, keyId: current.key_id });
    const rotated = await keys.createApiKey(tenant);
    expect((await keys.listApiKeys(tenant)).map((k) => k.key_id).sort()).toEqual(
      [current.key_id, rotated.key_id].sort(),
    );
    await expect(keys.revokeApiKey(tenant, old.key_id)).rejects.toBeInstanceOf(NotFoundError);
  });

  it('when the tenant does not exist or was deleted, then no key is made (404)', async () => {
    await expect(keys.createApiKey('cl_doesnotexist0000')).rejects.toBeInstanceOf(NotFoundError);
    await expect(keys.createApiKey('x'.repeat(3000))).rejects.toBeInstanceOf(NotFoundError);
    const tenant = await newTenant();
    await service.deactivate(tenant);
    await expect(keys.createApiKey(tenant)).rejects.toBeInstanceOf(NotFoundError);
    expect(await keys.listApiKeys(tenant)).toEqual([]);
  });

  it('when three creations race, then exactly two succeed and the third is a 409', async () => {
    const tenant = await newTenant();
    const results = await Promise.allSettled([1, 2, 3].map(() => keys.createApiKey(tenant)));
    const made = results.filter((r) => r.status === 'fulfilled');
    const refused = results.filter((r) => r.status === 'rejected');
    expect(made).toHaveLength(2);
    expect(refused).toHaveLength(1);
    expect((refused[0] as PromiseRejectedResult).reason).toBeInstanceOf(ConflictError);
    expect(await keys.listApiKeys(tenant)).toHaveLength(2);
  });

  it('when eight creations race against a revocation, then the count of active keys never passes two', async () => {
    const tenant = await newTenant();
    const existing = await keys.createApiKey(tenant);
    const [revoked, ...created] = await Promise.allSettled([
      keys.revokeApiKey(tenant, existing.key_id),
      ...Array.from({ length: 8 }, () => keys.createApiKey(tenant)),
    ]);
    expect(revoked.status).toBe('fulfilled');
    for (const result of created) {
      if (result.status === 'rejected') expect(result.reason).toBeInstanceOf(ConflictError);
    }
    const made = created.filter((r) => r.status === 'fulfilled').length;
    expect(made).toBeGreaterThanOrEqual(1);
    expect(made).toBeLessThanOrEqual(2);
    const listed = await keys.listApiKeys(tenant);
    expect(listed.length).toBe(made);
    // The counter agrees with the keys: exactly 2 - made more can be created.
    for (let i = made; i < 2; i++) await keys.createApiKey(tenant);
    await expect(keys.createApiKey(tenant)).rejects.toBeInstanceOf(ConflictError);
  });
});

describe('given two tenants', () => {
  it("then neither can list or revoke the other's keys", async () => {
    const a = await newTenant();
    const b = await newTenant();
    const keyOfA = await keys.createApiKey(a);
    const keyOfB = await keys.createApiKey(b);

    expect((await keys.listApiKeys(a)).map((k) => k.key_id)).toEqual([keyOfA.key_id]);
    expect((await keys.listApiKeys(b)).map((k) => k.key_id)).toEqual([keyOfB.key_id]);

    await expect(keys.revokeApiKey(a, keyOfB.key_id)).rejects.toBeInstanceOf(NotFoundError);
    expect(await keys.authenticate(keyOfB.api_key)).toEqual({ tenantId: b, keyId: keyOfB.key_id });
    // B's count was not touched by A's attempt: B can still hold a second key, not a third.
    await keys.createApiKey(b);
    await expect(keys.createApiKey(b)).rejects.toBeInstanceOf(ConflictError);
  });

  it('then a malformed key id is simply not found', async () => {
    const a = await newTenant();
    for (const keyId of ['', 'short', '../APIKEY', 'x'.repeat(5000), 'k7Qm2xPz9-']) {
      await expect(keys.revokeApiKey(a, keyId)).rejects.toBeInstanceOf(NotFoundError);
    }
  });
});

describe('given a presented key that is not a valid one', () => {
  it('then malformed, unknown, wrong-secret and other-environment keys all answer undefined', async () => {
    const tenant = await newTenant();
    const key = await keys.createApiKey(tenant);
    const wrongSecret = `${key.prefix}_${generateApiKey().api_key.slice(-32)}`;
    for (const presented of [
      undefined,
      '',
      'Bearer x',
      key.api_key.slice(0, -1),
      `${key.api_key}x`,
      generateApiKey().api_key, // well-formed, unknown id
      wrongSecret,
      key.api_key.replace('wta_live_', 'wta_test_'),
    ]) {
      expect(await keys.authenticate(presented)).toBeUndefined();
    }
    expect(await keys.authenticate(key.api_key)).toBeDefined();
  });

  it('then the table holds no key in plain text, only its hash', async () => {
    const tenant = await newTenant();
    const key = await keys.createApiKey(tenant);
    const items = JSON.stringify(await scanTable());
    expect(items).not.toContain(key.api_key.slice(-32));
    expect(items).toContain(key.prefix);
  });
});

describe('given a key in use', () => {
  it('then last_used_at is recorded, at most once a minute', async () => {
    const tenant = await newTenant();
    const key = await keys.createApiKey(tenant);
    const lastUsed = async () => (await keys.listApiKeys(tenant))[0]?.last_used_at;
    expect(await lastUsed()).toBeNull();

    const t0 = new Date();
    await keys.authenticate(key.api_key, t0);
    expect(await lastUsed()).toBe(t0.toISOString());

    await keys.authenticate(key.api_key, new Date(t0.getTime() + 30_000));
    expect(await lastUsed()).toBe(t0.toISOString());

    const later = new Date(t0.getTime() + LAST_USED_RESOLUTION_MS + 1000);
    // Ten requests at once write it once (the conditional update); all of them authenticate.
    const results = await Promise.all(
      Array.from({ length: 10 }, () => keys.authenticate(key.api_key, later)),
    );
    expect(results.every((r) => r?.tenantId === tenant)).toBe(true);
    expect(await lastUsed()).toBe(later.toISOString());
  });
});

describe('given a tenant being deleted', () => {
  it('then revokeAllApiKeys removes every key, lookups included', async () => {
    const tenant = await newTenant();
    const made = [await keys.createApiKey(tenant), await keys.createApiKey(tenant)];
    expect(await keys.revokeAllApiKeys(tenant)).toBe(2);
    for (const key of made) expect(await keys.authenticate(key.api_key)).toBeUndefined();
    const lookups = (await scanTable()).filter((item) =>
      made.some((key) => item.pk === apiKeyKeys.lookup(key.key_id).pk),
    );
    expect(lookups).toEqual([]);
    expect(await keys.listApiKeys(tenant)).toEqual([]);
    await keys.createApiKey(tenant);
  });
});
