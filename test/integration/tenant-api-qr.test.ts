import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import type { AwsClients } from '../../lib/aws-clients.ts';
import { qrStatusKeys } from '../../lib/qr/qr-status-store.ts';
import { qrPhoneNumberId, shardMembershipKeys, shardOf } from '../../lib/qr/shards.ts';
import { clientKeys } from '../../lib/tenants/client.ts';
import type { ClientRepository } from '../../lib/tenants/client-repository.ts';
import { NOT_IN_QR_MODE, QR_MODE_UNAVAILABLE } from '../../lib/tenants/client-service.ts';
import { adminApiHarness } from '../support/admin-api-harness.ts';
import { laPlazaFaqs } from '../support/fixtures.ts';
import { type QrModeFixture, qrModeFixture } from '../support/qr-mode.ts';

/**
 * QR mode through the admin API, on DynamoDB Local and fauxqs (SQS command queues, S3 sessions):
 * switching a tenant to QR mode and back, creating one directly, its QR status and commands.
 */

const OPERATOR_KEY = 'op_test_key_tenant_api_qr_0123';
const SHARDS = 2;
let qr: QrModeFixture;
let aws: AwsClients;
let tableName: string;
let repository: ClientRepository;
const api = adminApiHarness({
  operatorKey: OPERATOR_KEY,
  addressBlock: 12,
  secretKey: 'tenant-api-qr-test-key',
  qr: async (clients, table) => {
    qr = await qrModeFixture(clients, table, SHARDS);
    return qr.port;
  },
});
const { call, asOperator } = api;
/** The same API on a deployment without QR mode. */
const plain = adminApiHarness({ operatorKey: OPERATOR_KEY, addressBlock: 13 });

let phoneSeq = 740000;
const nextNumber = () => String(phoneSeq++);

async function newTenant(overrides: Record<string, unknown> = {}, on = asOperator) {
  const created = await on('POST', '/clients', {
    body: {
      name: `Restaurante ${phoneSeq}`,
      phone_number: '+34666777888',
      phone_number_id: nextNumber(),
      faqs: laPlazaFaqs,
      ...overrides,
    },
  });
  expect(created.status).toBe(201);
  const key = await on('POST', `/clients/${created.body.id}/api-keys`);
  expect(key.status).toBe(201);
  return {
    id: created.body.id as string,
    number: created.body.phone_number_id as string,
    key: key.body.api_key as string,
  };
}

const getItem = async (key: Record<string, string>) =>
  (await aws.dynamo.send(new GetCommand({ TableName: tableName, Key: key, ConsistentRead: true }))).Item;
const membershipOf = (shard: string, id: string) => getItem(shardMembershipKeys.member(shard, id));
const kinds = (commands: Array<{ shard: string; command: { kind: string } }>) =>
  commands.map(({ shard, command }) => `${command.kind}@${shard}`);

beforeAll(async () => {
  ({ aws, tableName, repository } = await api.start());
  await plain.start();
});

describe('PATCH /tenant {"channel":"qr"}', () => {
  it('given a Cloud API tenant, then it routes as qr:<id> on its shard, is a member of it and its runner gets one start command', async () => {
    const tenant = await newTenant();
    const shard = shardOf(tenant.id, SHARDS);
    const before = Date.now();
    const res = await call('PATCH', '/tenant', { key: tenant.key, body: { channel: 'qr' } });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ channel: 'qr', phone_number_id: qrPhoneNumberId(tenant.id) });
    expect(res.body).not.toHaveProperty('qr_shard');
    expect(res.body).not.toHaveProperty('cloud_phone_number_id');

    const stored = await repository.get(tenant.id);
    expect(stored).toMatchObject({ channel: 'qr', qr_shard: shard, cloud_phone_number_id: tenant.number });
    expect(await repository.findRoute(qrPhoneNumberId(tenant.id), { consistent: true })).toEqual({
      client_id: tenant.id,
      active: true,
    });
    expect(await repository.findRoute(tenant.number, { consistent: true })).toBeUndefined();
    expect(await membershipOf(shard, tenant.id)).toMatchObject({
      client_id: tenant.id,
      added_at: stored!.updated_at,
    });
    expect(await membershipOf(String(1 - Number(shard)), tenant.id)).toBeUndefined();

    const commands = await qr.commandsOf(tenant.id);
    expect(kinds(commands)).toEqual([`start@${shard}`]);
    const [{ command }] = commands as [(typeof commands)[number]];
    expect(command).toMatchObject({ v: 1, kind: 'start', tenant_id: tenant.id });
    expect(command.id).toMatch(/^start\.[0-9a-f-]{36}$/);
    const ttl = Date.parse(command.expires_at) - before;
    expect(ttl).toBeGreaterThan(9 * 60_000);
    expect(ttl).toBeLessThanOrEqual(10 * 60_000 + 60_000);

    // Its QR session has not reported yet, and a second PATCH to qr is no new session.
    expect((await call('GET', '/tenant/qr', { key: tenant.key })).body).toEqual({
      state: 'starting',
      qr: null,
      qr_expires_at: null,
      phone_number: null,
    });
    expect((await call('PATCH', '/tenant', { key: tenant.key, body: { channel: 'qr' } })).status).toBe(200);
    expect(kinds(await qr.commandsOf(tenant.id))).toEqual([`start@${shard}`]);

    // Group chats are off until the tenant opts in; a non-boolean is a 400 naming the field.
    expect((await call('GET', '/tenant', { key: tenant.key })).body.qr_answer_groups).toBe(false);
    const opted = await call('PATCH', '/tenant', { key: tenant.key, body: { qr_answer_groups: true } });
    expect(opted.status).toBe(200);
    expect(opted.body.qr_answer_groups).toBe(true);
    const bad = await call('PATCH', '/tenant', { key: tenant.key, body: { qr_answer_groups: 'yes' } });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body)).toContain('qr_answer_groups');
  });

  it('given a deployment without QR mode, then 409 QR_MODE_UNAVAILABLE on every way in, and nothing changes', async () => {
    const tenant = await newTenant({}, plain.asOperator);
    const tenantRes = await plain.call('PATCH', '/tenant', { key: tenant.key, body: { channel: 'qr' } });
    expect(tenantRes.status).toBe(409);
    expect(tenantRes.body.message).toBe(QR_MODE_UNAVAILABLE);
    const operatorRes = await plain.asOperator('PATCH', `/clients/${tenant.id}`, { body: { channel: 'qr' } });
    expect(operatorRes.status).toBe(409);
    expect(operatorRes.body.message).toBe(QR_MODE_UNAVAILABLE);
    const created = await plain.asOperator('POST', '/clients', {
      body: { name: 'QR sin runner', phone_number: '+34666777888', faqs: laPlazaFaqs, channel: 'qr' },
    });
    expect(created.status).toBe(409);
    expect(created.body.message).toBe(QR_MODE_UNAVAILABLE);
    const view = await plain.asOperator('GET', `/clients/${tenant.id}`);
    expect(view.body).toMatchObject({ channel: 'cloud_api', phone_number_id: tenant.number, qr: null });
  });
});

describe('switching back to cloud_api', () => {
  async function qrTenantWithSession() {
    const tenant = await newTenant();
    expect((await call('PATCH', '/tenant', { key: tenant.key, body: { channel: 'qr' } })).status).toBe(200);
    const shard = shardOf(tenant.id, SHARDS);
    await qr.sessions.save(tenant.id, new TextEncoder().encode('zipped browser profile'));
    await qr.statuses.writeStatus(
      tenant.id,
      { state: 'connected', phone_number: '34666777888', restarts: 0 },
      await qr.leaseOf(shard),
    );
    return { ...tenant, shard };
  }

  it('given a QR tenant, when it switches back, then its number routes to it again, membership and session are gone and the runner gets stop', async () => {
    const tenant = await qrTenantWithSession();
    const res = await call('PATCH', '/tenant', { key: tenant.key, body: { channel: 'cloud_api' } });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ channel: 'cloud_api', phone_number_id: tenant.number });

    const stored = await repository.get(tenant.id);
    expect(stored).not.toHaveProperty('qr_shard');
    expect(stored).not.toHaveProperty('cloud_phone_number_id');
    expect(await repository.findRoute(tenant.number, { consistent: true })).toEqual({
      client_id: tenant.id,
      active: true,
    });
    expect(await repository.findRoute(qrPhoneNumberId(tenant.id), { consistent: true })).toBeUndefined();
    expect(await membershipOf(tenant.shard, tenant.id)).toBeUndefined();
    expect(await getItem(qrStatusKeys.status(tenant.id))).toBeUndefined();
    expect(await qr.sessions.exists(tenant.id)).toBe(false);
    expect(kinds(await qr.commandsOf(tenant.id))).toEqual([`start@${tenant.shard}`, `stop@${tenant.shard}`]);

    const qrRes = await call('GET', '/tenant/qr', { key: tenant.key });
    expect(qrRes.status).toBe(409);
    expect(qrRes.body.message).toBe(NOT_IN_QR_MODE);
    expect((await asOperator('GET', `/clients/${tenant.id}`)).body.qr).toBeNull();
  });

  it('given the operator names a new number with the switch, then that number routes to the client and the old one stays free', async () => {
    const tenant = await qrTenantWithSession();
    const fresh = nextNumber();
    const res = await asOperator('PATCH', `/clients/${tenant.id}`, {
      body: { channel: 'cloud_api', phone_number_id: fresh, whatsapp_access_token: 'EAAG-new-cloud-token' },
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      channel: 'cloud_api',
      phone_number_id: fresh,
      has_whatsapp_access_token: true,
    });
    expect((await repository.findRoute(fresh, { consistent: true }))?.client_id).toBe(tenant.id);
    expect(await repository.findRoute(tenant.number, { consistent: true })).toBeUndefined();
    expect(await membershipOf(tenant.shard, tenant.id)).toBeUndefined();
  });

  it('given its kept number now belongs to another active client, then 409 with the reason and it stays in QR mode', async () => {
    const tenant = await qrTenantWithSession();
    // The number was released when it switched: another client may take it meanwhile.
    await newTenant({ phone_number_id: tenant.number });
    const res = await call('PATCH', '/tenant', { key: tenant.key, body: { channel: 'cloud_api' } });
    expect(res.status).toBe(409);
    expect(res.body.message).toBe(`phone_number_id ${tenant.number} already belongs to an active client`);
    expect(await repository.get(tenant.id)).toMatchObject({ channel: 'qr', qr_shard: tenant.shard });
    expect(await membershipOf(tenant.shard, tenant.id)).toBeDefined();
    expect(await qr.sessions.exists(tenant.id)).toBe(true);
    expect(kinds(await qr.commandsOf(tenant.id))).toEqual([`start@${tenant.shard}`]);
  });
});

describe('POST /clients with channel qr', () => {
  it('given no phone_number_id, then a QR client: qr:<id> route, membership, start on its shard, no Cloud token needed', async () => {
    const res = await asOperator('POST', '/clients', {
      body: { name: 'Peluquería QR', phone_number: '+34666777000', faqs: laPlazaFaqs, channel: 'qr' },
    });
    expect(res.status).toBe(201);
    const id = res.body.id as string;
    const shard = shardOf(id, SHARDS);
    expect(res.body).toMatchObject({
      channel: 'qr',
      phone_number_id: qrPhoneNumberId(id),
      has_whatsapp_access_token: false,
    });
    const stored = await repository.get(id);
    expect(stored?.qr_shard).toBe(shard);
    expect(stored).not.toHaveProperty('cloud_phone_number_id');
    expect((await repository.findRoute(qrPhoneNumberId(id), { consistent: true }))?.client_id).toBe(id);
    expect(await membershipOf(shard, id)).toMatchObject({ client_id: id });
    expect(kinds(await qr.commandsOf(id))).toEqual([`start@${shard}`]);
    expect((await asOperator('GET', `/clients/${id}`)).body.qr).toEqual({
      state: 'starting',
      qr: null,
      qr_expires_at: null,
      phone_number: null,
      restarts: 0,
      last_error: null,
      shard,
      updated_at: null,
    });

    // Never had a Cloud number: switching back needs one.
    const back = await asOperator('PATCH', `/clients/${id}`, { body: { channel: 'cloud_api' } });
    expect(back.status).toBe(400);
    expect(back.body.message).toMatch(/needs a phone_number_id/);
    expect(await repository.get(id)).toMatchObject({ channel: 'qr', phone_number_id: qrPhoneNumberId(id) });
  });

  it.each([
    ['no channel', {}],
    ['channel cloud_api', { channel: 'cloud_api' }],
  ])('given %s and no phone_number_id, then 400 naming phone_number_id', async (_, extra) => {
    const res = await asOperator('POST', '/clients', {
      body: { name: 'Sin número', phone_number: '+34666777000', faqs: laPlazaFaqs, ...extra },
    });
    expect(res.status).toBe(400);
    expect(res.body.details).toEqual([
      expect.objectContaining({ field: 'phone_number_id', message: expect.stringMatching(/required/) }),
    ]);
  });
});

describe('deactivating a QR tenant', () => {
  it('given DELETE /clients/{id}, then stop and no membership; reactivating it starts it again', async () => {
    const tenant = await newTenant({ channel: 'qr' });
    const shard = shardOf(tenant.id, SHARDS);
    expect((await asOperator('DELETE', `/clients/${tenant.id}`)).status).toBe(200);
    expect(await membershipOf(shard, tenant.id)).toBeUndefined();
    expect(kinds(await qr.commandsOf(tenant.id))).toEqual([`start@${shard}`, `stop@${shard}`]);

    const back = await asOperator('PATCH', `/clients/${tenant.id}`, { body: { active: true } });
    expect(back.status).toBe(200);
    expect(await membershipOf(shard, tenant.id)).toMatchObject({ client_id: tenant.id });
    expect(kinds(await qr.commandsOf(tenant.id))).toEqual([
      `start@${shard}`,
      `stop@${shard}`,
      `start@${shard}`,
    ]);
  });
});

describe('GET /tenant/qr and the QR commands', () => {
  it('given the runner reported a QR under its lease, then the tenant and the operator see it; then the linked number', async () => {
    const tenant = await newTenant({ channel: 'qr' });
    const shard = shardOf(tenant.id, SHARDS);
    const lease = await qr.leaseOf(shard);
    const expires = new Date(Date.now() + 20_000).toISOString();
    await qr.statuses.writeStatus(
      tenant.id,
      {
        state: 'qr',
        qr: '2@qr-text-for-the-test',
        qr_expires_at: expires,
        restarts: 2,
        last_error: 'page lost',
      },
      lease,
    );
    const res = await call('GET', '/tenant/qr', { key: tenant.key });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      state: 'qr',
      qr: '2@qr-text-for-the-test',
      qr_expires_at: expires,
      phone_number: null,
    });
    const operator = (await asOperator('GET', `/clients/${tenant.id}`)).body.qr;
    expect(operator).toEqual({
      ...res.body,
      restarts: 2,
      last_error: 'page lost',
      shard,
      updated_at: expect.any(String),
    });

    await qr.statuses.writeStatus(
      tenant.id,
      { state: 'connected', phone_number: '34666777000', restarts: 2 },
      lease,
    );
    expect((await call('GET', '/tenant/qr', { key: tenant.key })).body).toEqual({
      state: 'connected',
      qr: null,
      qr_expires_at: null,
      phone_number: '34666777000',
    });
  });

  it('given a QR tenant, then unlink and start are queued on its shard (tenant and operator), 202 with the state', async () => {
    const tenant = await newTenant({ channel: 'qr' });
    const shard = shardOf(tenant.id, SHARDS);
    await qr.statuses.writeStatus(tenant.id, { state: 'qr_expired', restarts: 0 }, await qr.leaseOf(shard));

    const unlink = await call('POST', '/tenant/qr/unlink', { key: tenant.key });
    expect(unlink.status).toBe(202);
    expect(unlink.body).toEqual({ state: 'qr_expired' });
    const start = await call('POST', '/tenant/qr/start', { key: tenant.key });
    expect(start).toMatchObject({ status: 202, body: { state: 'qr_expired' } });
    expect((await asOperator('POST', `/clients/${tenant.id}/qr/unlink`)).status).toBe(202);
    expect((await asOperator('POST', `/clients/${tenant.id}/qr/start`)).status).toBe(202);

    const commands = await qr.commandsOf(tenant.id);
    expect(kinds(commands)).toEqual([
      `start@${shard}`,
      `unlink@${shard}`,
      `start@${shard}`,
      `unlink@${shard}`,
      `start@${shard}`,
    ]);
    expect(new Set(commands.map(({ command }) => command.id)).size).toBe(commands.length);
  });

  it('given a Cloud API tenant, then every QR route is 409 with the reason and nothing is queued', async () => {
    const tenant = await newTenant();
    for (const [method, path, on] of [
      ['GET', '/tenant/qr', 'tenant'],
      ['POST', '/tenant/qr/unlink', 'tenant'],
      ['POST', '/tenant/qr/start', 'tenant'],
      ['POST', `/clients/${tenant.id}/qr/unlink`, 'operator'],
      ['POST', `/clients/${tenant.id}/qr/start`, 'operator'],
    ] as const) {
      const res =
        on === 'tenant' ? await call(method, path, { key: tenant.key }) : await asOperator(method, path);
      expect(res.status, path).toBe(409);
      expect(res.body.message, path).toBe(NOT_IN_QR_MODE);
    }
    expect(await qr.commandsOf(tenant.id)).toEqual([]);
    expect((await asOperator('GET', `/clients/${tenant.id}`)).body.qr).toBeNull();
  });

  it('given an unknown client, then the operator QR commands are 404 and nothing is queued', async () => {
    expect((await asOperator('POST', '/clients/cl_nobody/qr/start')).status).toBe(404);
    expect(await qr.commandsOf('cl_nobody')).toEqual([]);
  });
});

describe('the profile and membership items', () => {
  it('given a QR tenant, then its membership item is keyed QRSHARD#<shard> / CLIENT#<id>', async () => {
    const tenant = await newTenant({ channel: 'qr' });
    const shard = shardOf(tenant.id, SHARDS);
    const item = await getItem({ pk: `QRSHARD#${shard}`, sk: `CLIENT#${tenant.id}` });
    expect(item).toMatchObject({ client_id: tenant.id, added_at: expect.any(String) });
    expect((await getItem(clientKeys.profile(tenant.id)))?.phone_number_id).toBe(qrPhoneNumberId(tenant.id));
  });
});
