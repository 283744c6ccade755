import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type StandaloneSimulator, startStandaloneSimulator } from '../../infra/local/whatsapp-simulator.ts';
import type { ConversationStore } from '../../lib/conversation/conversation-store.ts';
import { shardOf } from '../../lib/qr/shards.ts';
import type { DynamoStatsStore } from '../../lib/stats/dynamo-stats-store.ts';
import { functions } from '../../lib/topology.ts';
import { adminApiHarness } from '../support/admin-api-harness.ts';
import { laPlazaFaqs } from '../support/fixtures.ts';
import { type QrModeFixture, qrModeFixture } from '../support/qr-mode.ts';

/**
 * Two tenants, A and B: A's key never reads, changes or erases anything of B, whatever the path, the
 * query or the body names. Every tenant route is exercised.
 */

const OPERATOR_KEY = 'op_test_key_tenant_isolation_0123';
/** The same customer writing to both businesses. */
const SHARED_CONTACT = '34600000099';

let conversations: ConversationStore;
let stats: DynamoStatsStore;
let qr: QrModeFixture;
let graph: StandaloneSimulator;
const QR_SHARDS = 2;
const api = adminApiHarness({
  graphBaseUrl: () => graph.graphBaseUrl,
  operatorKey: OPERATOR_KEY,
  addressBlock: 3,
  secretKey: 'tenant-isolation-test-key',
  qr: async (aws, tableName) => {
    qr = await qrModeFixture(aws, tableName, QR_SHARDS);
    return qr.port;
  },
});
const { call, asOperator } = api;

interface Tenant {
  id: string;
  name: string;
  slug: string;
  key: string;
  keyId: string;
  /** A contact only this tenant has. */
  contact: string;
}

let phoneSeq = 730000;
async function newTenant(label: string): Promise<Tenant> {
  const created = await asOperator('POST', '/clients', {
    body: {
      name: `Restaurante ${label} ${phoneSeq}`,
      phone_number: '+34666777888',
      phone_number_id: String(phoneSeq++),
      faqs: laPlazaFaqs,
    },
  });
  expect(created.status).toBe(201);
  const { id, name, slug } = created.body;
  const key = await asOperator('POST', `/clients/${id}/api-keys`);
  const contact = `ES.${label}${phoneSeq}`;
  for (const who of [contact, SHARED_CONTACT]) {
    await conversations.touchInbound(id, { key: who, wa_id: who, name: `${label} customer` }, new Date(), 24);
    await conversations.putMessage(
      id,
      who,
      {
        id: `wamid.${id}.${who}`,
        direction: 'inbound',
        type: 'text',
        text: `secret of ${label}`,
        at: new Date().toISOString(),
      },
      24,
    );
  }
  return { id, name, slug, key: key.body.api_key, keyId: key.body.key_id, contact };
}

let a: Tenant;
let b: Tenant;
/** Everything of B the operator sees, to compare after each of A's requests. */
const stateOf = async (tenant: Tenant) => ({
  client: (await asOperator('GET', `/clients/${tenant.id}`)).body,
  keys: (await asOperator('GET', `/clients/${tenant.id}/api-keys`)).body.api_keys,
  conversations: (await asOperator('GET', `/clients/${tenant.id}/conversations`)).body.conversations,
  messages: await Promise.all(
    [tenant.contact, SHARED_CONTACT].map(
      async (contact) =>
        (await asOperator('GET', `/clients/${tenant.id}/conversations/${contact}/messages`)).body.messages,
    ),
  ),
});
let bBefore: Awaited<ReturnType<typeof stateOf>>;

beforeAll(async () => {
  graph = await startStandaloneSimulator({ appSecret: 'tenant-isolation-app-secret' });
  ({ conversations, stats } = await api.start());
});

afterAll(async () => {
  await graph?.stop();
});

beforeEach(async () => {
  a = await newTenant('A');
  b = await newTenant('B');
  bBefore = await stateOf(b);
});

/** After each test: B is exactly as it was and its key still speaks for B. */
async function expectBUntouched() {
  expect(await stateOf(b)).toEqual(bBefore);
  const own = await call('GET', '/tenant', { key: b.key });
  expect(own.status).toBe(200);
  expect(own.body.id).toBe(b.id);
}
const mentionsB = (body: unknown) => {
  const text = JSON.stringify(body);
  return [b.id, b.name, b.slug, b.keyId, b.contact, 'secret of B'].filter((value) => text.includes(value));
};

describe("given tenant A's key and tenant B's ids", () => {
  it('when A reads GET /tenant naming B in the query or headers, then it gets its own view only', async () => {
    const res = await call('GET', '/tenant', {
      key: a.key,
      query: { id: b.id, client_id: b.id },
      headers: { 'x-client-id': b.id },
    });
    expect(res.status).toBe(200);
    expect(res.body.id).toBe(a.id);
    expect(mentionsB(res.body)).toEqual([]);
    await expectBUntouched();
  });

  it.each([
    ['id', { id: 'B', name: 'Hijacked' }],
    ['client_id', { client_id: 'B', name: 'Hijacked' }],
    ['tenant_id', { tenant_id: 'B', welcome_message: 'Hijacked' }],
  ])('when A sends PATCH /tenant with B as %s in the body, then 400 and neither changes', async (_, body) => {
    const withB = Object.fromEntries(Object.entries(body).map(([k, v]) => [k, v === 'B' ? b.id : v]));
    const aBefore = (await asOperator('GET', `/clients/${a.id}`)).body;
    const res = await call('PATCH', '/tenant', { key: a.key, body: withB });
    expect(res.status).toBe(400);
    expect((await asOperator('GET', `/clients/${a.id}`)).body).toEqual(aBefore);
    await expectBUntouched();
  });

  it('when A sends PATCH /tenant naming B in the query, then only A changes', async () => {
    const res = await call('PATCH', '/tenant', {
      key: a.key,
      query: { id: b.id },
      body: { name: 'A renamed', faqs: [{ q: '¿Abrís hoy?', a: 'Sí.' }], bot_enabled: false },
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ id: a.id, name: 'A renamed', bot_enabled: false, assistant_version: 2 });
    await expectBUntouched();
  });

  it('when A creates a key with B named in the body, then the key is A’s', async () => {
    const res = await call('POST', '/tenant/api-keys', {
      key: a.key,
      query: { client_id: b.id },
      body: { client_id: b.id, tenant_id: b.id },
    });
    expect(res.status).toBe(201);
    expect((await call('GET', '/tenant', { key: res.body.api_key })).body.id).toBe(a.id);
    const aKeys = (await asOperator('GET', `/clients/${a.id}/api-keys`)).body.api_keys;
    expect(aKeys.map((k: { key_id: string }) => k.key_id).sort()).toEqual([a.keyId, res.body.key_id].sort());
    await expectBUntouched();
  });

  it('when A lists its keys naming B in the query, then it sees only its own', async () => {
    const res = await call('GET', '/tenant/api-keys', { key: a.key, query: { client_id: b.id } });
    expect(res.status).toBe(200);
    expect(res.body.api_keys.map((k: { key_id: string }) => k.key_id)).toEqual([a.keyId]);
    expect(mentionsB(res.body)).toEqual([]);
    await expectBUntouched();
  });

  it("when A revokes B's key id, then 404 and B's key still works", async () => {
    const res = await call('DELETE', `/tenant/api-keys/${b.keyId}`, {
      key: a.key,
      body: { client_id: b.id },
    });
    expect(res.status).toBe(404);
    expect((await call('GET', '/tenant/api-keys', { key: a.key })).body.api_keys).toHaveLength(1);
    await expectBUntouched();
  });

  it('when A runs the connection test naming B, then the result is recorded on A only', async () => {
    const res = await call('POST', '/tenant/test-connection', {
      key: a.key,
      query: { client_id: b.id },
      body: { client_id: b.id },
    });
    expect(res.status).toBe(200);
    expect(res.body.ok).toBe(false);
    const aView = (await asOperator('GET', `/clients/${a.id}`)).body;
    expect(aView.connection.last_test).toMatchObject({ ok: false, failed: ['phone_number'] });
    expect(bBefore.client.connection.last_test).toBeNull();
    await expectBUntouched();
  });

  it('when A lists conversations, then only its own; naming B in the query is 400; B’s cursor is 400', async () => {
    const own = await call('GET', '/tenant/conversations', { key: a.key });
    expect(own.status).toBe(200);
    expect(own.body.conversations.map((c: { contact: string }) => c.contact).sort()).toEqual(
      [a.contact, SHARED_CONTACT].sort(),
    );
    expect(own.body.conversations.every((c: { name: string }) => c.name === 'A customer')).toBe(true);
    expect(mentionsB(own.body)).toEqual([]);
    expect(
      (await call('GET', '/tenant/conversations', { key: a.key, query: { client_id: b.id } })).status,
    ).toBe(400);

    // B's cursor, as B would get it (through the operator, so that B's key stays unused here).
    const bPage = await asOperator('GET', `/clients/${b.id}/conversations`, { query: { limit: '1' } });
    expect(bPage.body.next_cursor).toBeTruthy();
    const withBCursor = await call('GET', '/tenant/conversations', {
      key: a.key,
      query: { limit: '1', cursor: bPage.body.next_cursor },
    });
    expect(withBCursor.status).toBe(400);
    await expectBUntouched();
  });

  it("when A reads messages of B's contact, or of a contact both have, then 404 or only A's messages", async () => {
    for (const contact of [b.contact, b.id, `${b.id}#CONTACT#${b.contact}`, `../../clients/${b.id}`]) {
      const res = await call('GET', `/tenant/conversations/${encodeURIComponent(contact)}/messages`, {
        key: a.key,
      });
      expect({ contact, status: res.status }).toEqual({ contact, status: 404 });
      // The 404 may echo what A sent, nothing else of B.
      expect(res.body.messages).toBeUndefined();
      expect(JSON.stringify(res.body)).not.toContain('secret of B');
      expect(JSON.stringify(res.body)).not.toContain(b.name);
    }
    const shared = await call('GET', `/tenant/conversations/${SHARED_CONTACT}/messages`, {
      key: a.key,
      query: { client_id: b.id },
    });
    expect(shared.status).toBe(400);
    const sharedOwn = await call('GET', `/tenant/conversations/${SHARED_CONTACT}/messages`, { key: a.key });
    expect(sharedOwn.body.messages.map((m: { text: string }) => m.text)).toEqual(['secret of A']);
    await expectBUntouched();
  });

  it("when A erases B's contact, then 404; when it erases a contact both have, then only A's is erased", async () => {
    for (const contact of [b.contact, `${b.id}#CONTACT#${b.contact}`]) {
      const res = await call('DELETE', `/tenant/conversations/${encodeURIComponent(contact)}`, {
        key: a.key,
        body: { client_id: b.id },
      });
      expect({ contact, status: res.status }).toEqual({ contact, status: 404 });
    }
    const erased = await call('DELETE', `/tenant/conversations/${SHARED_CONTACT}`, {
      key: a.key,
      query: { client_id: b.id },
    });
    expect(erased.status).toBe(200);
    expect(erased.body).toMatchObject({
      contact: SHARED_CONTACT,
      messages_deleted: 1,
      conversations_deleted: 1,
    });
    expect(await conversations.getContact(a.id, SHARED_CONTACT)).toBeUndefined();
    expect(await conversations.getContact(b.id, SHARED_CONTACT)).toBeDefined();
    await expectBUntouched();
  });

  it("when A takes over or releases B's contact, then 404; a contact both have is handed off for A only", async () => {
    for (const method of ['POST', 'DELETE']) {
      for (const contact of [b.contact, `${b.id}#CONTACT#${b.contact}`]) {
        const res = await call(method, `/tenant/conversations/${encodeURIComponent(contact)}/handoff`, {
          key: a.key,
          query: { client_id: b.id },
        });
        expect({ method, contact, status: res.status }).toEqual({ method, contact, status: 404 });
      }
    }
    const namingB = await call('POST', `/tenant/conversations/${b.contact}/handoff`, {
      key: a.key,
      body: { client_id: b.id },
    });
    expect(namingB.status).toBe(400);
    const taken = await call('POST', `/tenant/conversations/${SHARED_CONTACT}/handoff`, {
      key: a.key,
      query: { client_id: b.id },
    });
    expect(taken.status).toBe(200);
    expect(taken.body.handoff).toMatchObject({ by: 'tenant' });
    expect((await conversations.getContact(a.id, SHARED_CONTACT))?.handoff_by).toBe('tenant');
    expect((await conversations.getContact(b.id, SHARED_CONTACT))?.handoff_by).toBeUndefined();
    await expectBUntouched();

    // B's own takeover of the same customer is B's, and A's release does not touch it.
    await call('POST', `/tenant/conversations/${SHARED_CONTACT}/handoff`, { key: b.key });
    bBefore = await stateOf(b);
    const released = await call('DELETE', `/tenant/conversations/${SHARED_CONTACT}/handoff`, { key: a.key });
    expect(released.body).toEqual({ contact: SHARED_CONTACT, handoff: null });
    expect((await conversations.getContact(b.id, SHARED_CONTACT))?.handoff_by).toBe('tenant');
    await expectBUntouched();
  });

  it('when A calls a tenant route with B’s id in the path, then no route matches (404)', async () => {
    for (const path of [`/tenant/${b.id}`, `/tenant/${b.id}/api-keys`, `/tenant/${b.id}/conversations`]) {
      const res = await call('GET', path, { key: a.key });
      expect({ path, status: res.status }).toEqual({ path, status: 404 });
    }
    await expectBUntouched();
  });

  it("when A reads its daily statistics or their chart, naming B or not, then A's counts only", async () => {
    const now = new Date();
    await stats.record(a.id, { at: now, messagesIn: 1, answered: 'faq' });
    await stats.record(a.id, { at: now, messagesIn: 1, answered: 'declined' });
    await stats.record(a.id, { at: now, transcriptionSeconds: 4, imageInputs: 1 });
    for (let i = 0; i < 9; i++) await stats.record(b.id, { at: now, messagesIn: 1, answered: 'openai' });
    await stats.record(b.id, { at: now, transcriptionSeconds: 700, imageInputs: 30 });
    const own = await call('GET', '/tenant/stats/daily', { key: a.key });
    expect(own.status).toBe(200);
    expect(own.body).toMatchObject({
      client_id: a.id,
      messages_in: 2,
      answered: 2,
      transcription_seconds: 4,
      image_inputs: 1,
    });
    expect(own.body.daily.at(-1)).toMatchObject({ transcription_seconds: 4, image_inputs: 1 });
    expect(mentionsB(own.body)).toEqual([]);
    for (const path of ['/tenant/stats/daily', '/tenant/stats/chart.svg']) {
      const named = await call('GET', path, { key: a.key, query: { client_id: b.id } });
      expect({ path, status: named.status }).toEqual({ path, status: 400 });
    }
    const chart = await call('GET', '/tenant/stats/chart.svg', { key: a.key });
    expect(chart.status).toBe(200);
    expect(chart.raw).toContain(a.name);
    expect(chart.raw).toContain(': 2; ');
    expect(mentionsB(chart.raw)).toEqual([]);
    await expectBUntouched();
  });

  it("when A reads its QR status or starts or unlinks naming B (query, headers, body, path), then A's only and nothing is queued for B", async () => {
    for (const tenant of [a, b]) {
      const switched = await call('PATCH', '/tenant', { key: tenant.key, body: { channel: 'qr' } });
      expect(switched.status).toBe(200);
    }
    const write = async (tenant: Tenant, text: string) =>
      qr.statuses.writeStatus(
        tenant.id,
        { state: 'qr', qr: text, qr_expires_at: new Date(Date.now() + 20_000).toISOString(), restarts: 0 },
        await qr.leaseOf(shardOf(tenant.id, QR_SHARDS)),
      );
    await write(a, '2@qr-of-tenant-a');
    await write(b, '2@qr-of-tenant-b');
    const bCommands = (await qr.commandsOf(b.id)).length;
    bBefore = await stateOf(b);
    expect(bBefore.client.qr.qr).toBe('2@qr-of-tenant-b');

    const naming = {
      query: { id: b.id, client_id: b.id, tenant_id: b.id },
      headers: { 'x-client-id': b.id, 'x-tenant-id': b.id },
    };
    const own = await call('GET', '/tenant/qr', { key: a.key, ...naming });
    expect(own.status).toBe(200);
    expect(own.body.qr).toBe('2@qr-of-tenant-a');
    expect(JSON.stringify(own.body)).not.toContain('qr-of-tenant-b');
    expect(mentionsB(own.body)).toEqual([]);
    for (const path of ['/tenant/qr/unlink', '/tenant/qr/start']) {
      const res = await call('POST', path, {
        key: a.key,
        ...naming,
        body: { id: b.id, client_id: b.id, tenant_id: b.id },
      });
      expect({ path, status: res.status }).toEqual({ path, status: 202 });
      expect(mentionsB(res.body)).toEqual([]);
    }
    // B's id in the path, or the operator's routes for B: no route, or not A's to call.
    for (const [method, path, status] of [
      ['GET', `/tenant/qr/${b.id}`, 404],
      ['POST', `/tenant/${b.id}/qr/unlink`, 404],
      ['GET', `/clients/${b.id}`, 403],
      ['POST', `/clients/${b.id}/qr/unlink`, 403],
      ['POST', `/clients/${b.id}/qr/start`, 403],
    ] as const) {
      const res = await call(method, path, { key: a.key });
      expect({ path, status: res.status }).toEqual({ path, status });
    }

    const aCommands = (await qr.commandsOf(a.id)).map(({ command }) => command.kind);
    expect(aCommands).toEqual(['start', 'unlink', 'start']);
    expect(await qr.commandsOf(b.id)).toHaveLength(bCommands);
    await expectBUntouched();
  });

  it("when A lists its templates (naming B or not) or sets B's template, then only A's WABA is read and B's is refused", async () => {
    const template = (name: string) => ({
      name,
      language: 'es',
      status: 'APPROVED' as const,
      category: 'UTILITY' as const,
      body: `${name}: {{1}}`,
    });
    for (const [tenant, name] of [
      [a, 'plantilla_a'],
      [b, 'plantilla_b'],
    ] as const) {
      const wabaId = tenant === a ? '102290000000001' : '102290000000002';
      graph.simulator.setTemplates(wabaId, [template(name)]);
      const patched = await asOperator('PATCH', `/clients/${tenant.id}`, {
        body: {
          waba_id: wabaId,
          whatsapp_access_token: `EAAGisolationToken${tenant === a ? 'AAAA' : 'BBBB'}`,
        },
      });
      expect(patched.status).toBe(200);
    }
    // B's list is cached first: A must still get its own.
    expect((await call('GET', '/tenant/templates', { key: b.key })).body.templates).toHaveLength(1);
    bBefore = await stateOf(b);

    const own = await call('GET', '/tenant/templates', { key: a.key });
    const naming = await call('GET', '/tenant/templates', { key: a.key, query: { client_id: b.id } });

    expect(own.status).toBe(200);
    expect(own.body.templates.map((t: { name: string }) => t.name)).toEqual(['plantilla_a']);
    expect(mentionsB(own.body)).toEqual([]);
    expect(naming.status).toBe(400);
    const stolen = await call('PATCH', '/tenant', {
      key: a.key,
      body: { window_template: { name: 'plantilla_b', language: 'es' } },
    });
    expect(stolen.status).toBe(400);
    expect(stolen.body.message).toMatch(/"plantilla_b" \(es\) is not an approved template/);
    expect(graph.simulator.graphCalls.filter((c) => c.tokenSuffix === 'BBBB')).toHaveLength(1);
    await expectBUntouched();
  });

  it('then every tenant route is exercised by this file', () => {
    const exercised = [
      'GET /tenant',
      'PATCH /tenant',
      'POST /tenant/api-keys',
      'GET /tenant/api-keys',
      'DELETE /tenant/api-keys/{key_id}',
      'POST /tenant/test-connection',
      'GET /tenant/qr',
      'POST /tenant/qr/start',
      'POST /tenant/qr/unlink',
      'GET /tenant/conversations',
      'GET /tenant/conversations/{contact}/messages',
      'DELETE /tenant/conversations/{contact}',
      'POST /tenant/conversations/{contact}/handoff',
      'DELETE /tenant/conversations/{contact}/handoff',
      'GET /tenant/stats/daily',
      'GET /tenant/stats/chart.svg',
      'GET /tenant/templates',
    ];
    const routes = functions.adminApi.routes
      .filter((route) => route.auth === 'tenant-key')
      .map((route) => `${route.method} ${route.path}`);
    expect(routes.sort()).toEqual(exercised.sort());
  });
});
