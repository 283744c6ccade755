import { beforeAll, describe, expect, it } from 'vitest';
import type { ConversationStore } from '../../lib/conversation/conversation-store.ts';
import { DEFAULT_MAX_RETENTION_HOURS } from '../../lib/tenants/client.ts';
import type { ClientRepository } from '../../lib/tenants/client-repository.ts';
import { OPERATOR_ONLY_FIELDS } from '../../lib/tenants/client-schemas.ts';
import { type ProvisionJob, QR_MODE_UNAVAILABLE } from '../../lib/tenants/client-service.ts';
import { functions } from '../../lib/topology.ts';
import { adminApiHarness } from '../support/admin-api-harness.ts';
import { laPlazaFaqs } from '../support/fixtures.ts';
import { TEST_PUBLIC_BASE_URL } from '../support/tenant-api-deps.ts';

/** A tenant's own routes (/tenant…) through the admin API, and who may call which routes. */

const OPERATOR_KEY = 'op_test_key_tenant_api_0123';
const WHATSAPP_TOKEN = 'EAAG-tenant-own-token-value';
const OPENAI_KEY = 'sk-tenant-own-openai-key';

let repository: ClientRepository;
let conversations: ConversationStore;
const provisionJobs: ProvisionJob[] = [];
const api = adminApiHarness({
  operatorKey: OPERATOR_KEY,
  addressBlock: 2,
  secretKey: 'tenant-api-test-key',
  onProvision: (job) => provisionJobs.push(job),
});
const { secrets, call, asOperator } = api;

let phoneSeq = 720000;
/** A client created by the operator, with one API key. */
async function newTenant(overrides: Record<string, unknown> = {}) {
  const created = await asOperator('POST', '/clients', {
    body: {
      name: `Restaurante ${phoneSeq}`,
      phone_number: '+34666777888',
      phone_number_id: String(phoneSeq++),
      faqs: laPlazaFaqs,
      ...overrides,
    },
  });
  expect(created.status).toBe(201);
  const key = await asOperator('POST', `/clients/${created.body.id}/api-keys`);
  expect(key.status).toBe(201);
  return { id: created.body.id as string, key: key.body.api_key as string, keyId: key.body.key_id as string };
}

beforeAll(async () => {
  ({ repository, conversations } = await api.start());
});

describe('GET /tenant', () => {
  it("given a tenant key, then the tenant's own view: the operator's view of it, secrets only as has_… flags", async () => {
    const tenant = await newTenant({ whatsapp_access_token: WHATSAPP_TOKEN, openai_api_key: OPENAI_KEY });
    const own = await call('GET', '/tenant', { key: tenant.key });
    expect(own.status).toBe(200);
    // The operator's view adds the QR session (`qr`, null on the Cloud API) to the same fields.
    const { qr, ...operatorView } = (await asOperator('GET', `/clients/${tenant.id}`)).body;
    expect(qr).toBeNull();
    expect(own.body).toEqual(operatorView);
    expect(own.body).toMatchObject({
      id: tenant.id,
      channel: 'cloud_api',
      has_whatsapp_access_token: true,
      has_openai_api_key: true,
      connection: { state: 'connected', detail: "the tenant's own Cloud API access token", last_test: null },
    });
    expect(own.body.slug).toMatch(/^[a-z0-9]{26}$/);
    expect(own.body.landing_url).toBe(`${TEST_PUBLIC_BASE_URL}/client/${own.body.slug}`);
    const text = JSON.stringify(own.body);
    expect(text).not.toContain(WHATSAPP_TOKEN);
    expect(text).not.toContain(OPENAI_KEY);
    expect(text).not.toContain('_enc');
    const stored = await repository.get(tenant.id);
    expect(text).not.toContain(stored!.whatsapp_access_token_enc!);
  });

  it.each([
    ['no Authorization header', undefined],
    ['a malformed key', 'not-a-key'],
    ['a well-formed key that was never issued', `wta_test_AAAAAAAAAA_${'a'.repeat(32)}`],
  ])('given %s, then 401', async (_, key) => {
    const res = await call('GET', '/tenant', key ? { key } : {});
    expect(res.status).toBe(401);
    expect(res.body.error).toBe('unauthorized');
  });
});

describe('PATCH /tenant', () => {
  it('given plain fields, then they change, the rest stays and only what the assistant is made of rebuilds it', async () => {
    const tenant = await newTenant();
    const plain = await call('PATCH', '/tenant', {
      key: tenant.key,
      body: { welcome_message: '¡Bienvenido!', bot_enabled: false },
    });
    expect(plain.status).toBe(200);
    expect(plain.body).toMatchObject({
      welcome_message: '¡Bienvenido!',
      bot_enabled: false,
      assistant_version: 1,
    });

    const rebuilt = await call('PATCH', '/tenant', {
      key: tenant.key,
      body: { name: 'La Plaza Nueva', business_hours: 'L-D: 12:00-24:00', language: 'en' },
    });
    expect(rebuilt.body).toMatchObject({
      name: 'La Plaza Nueva',
      business_hours: 'L-D: 12:00-24:00',
      language: 'en',
      welcome_message: '¡Bienvenido!',
      assistant_version: 2,
    });
    expect((await asOperator('GET', `/clients/${tenant.id}`)).body).toEqual({ ...rebuilt.body, qr: null });
  });

  it('given new faqs, then the assistant is rebuilt with them and its version bumped', async () => {
    const tenant = await newTenant();
    const faqs = [...laPlazaFaqs, { q: '¿Tenéis terraza?', a: 'Sí, con 10 mesas.' }];
    const res = await call('PATCH', '/tenant', { key: tenant.key, body: { faqs } });
    expect(res.status).toBe(200);
    expect(res.body.assistant_version).toBe(2);
    expect(res.body.faqs).toEqual(faqs);
    expect((await repository.get(tenant.id))?.assistant.instructions).toContain('¿Tenéis terraza?');
  });

  it('given channel qr, then 409 with the reason and the channel stays cloud_api', async () => {
    const tenant = await newTenant();
    const res = await call('PATCH', '/tenant', { key: tenant.key, body: { channel: 'qr' } });
    expect(res.status).toBe(409);
    expect(res.body.message).toBe(QR_MODE_UNAVAILABLE);
    expect((await call('GET', '/tenant', { key: tenant.key })).body.channel).toBe('cloud_api');
    expect((await call('PATCH', '/tenant', { key: tenant.key, body: { channel: 'cloud_api' } })).status).toBe(
      200,
    );
  });

  it('given its own secrets, then they are stored encrypted and never shown; null removes one', async () => {
    const tenant = await newTenant();
    const set = await call('PATCH', '/tenant', {
      key: tenant.key,
      body: { whatsapp_access_token: WHATSAPP_TOKEN, openai_api_key: OPENAI_KEY, waba_id: '102290129340398' },
    });
    expect(set.status).toBe(200);
    expect(set.body).toMatchObject({
      has_whatsapp_access_token: true,
      has_openai_api_key: true,
      waba_id: '102290129340398',
      assistant_version: 2,
      assistant_status: 'pending',
    });
    expect(JSON.stringify(set.body)).not.toContain(WHATSAPP_TOKEN);
    expect(JSON.stringify(set.body)).not.toContain(OPENAI_KEY);
    // With its own OpenAI key the assistant is built by the provisioner.
    expect(provisionJobs).toContainEqual({ client_id: tenant.id, assistant_version: 2 });
    const stored = (await repository.get(tenant.id))!;
    expect(JSON.stringify(stored)).not.toContain(WHATSAPP_TOKEN);
    expect(await secrets.decrypt(stored.whatsapp_access_token_enc!, { tenantId: tenant.id })).toBe(
      WHATSAPP_TOKEN,
    );
    expect(await secrets.decrypt(stored.openai_api_key_enc!, { tenantId: tenant.id })).toBe(OPENAI_KEY);

    const removed = await call('PATCH', '/tenant', {
      key: tenant.key,
      body: { whatsapp_access_token: null, waba_id: null, openai_model: 'gpt-5' },
    });
    expect(removed.body).toMatchObject({
      has_whatsapp_access_token: false,
      has_openai_api_key: true,
      waba_id: null,
      openai_model: 'gpt-5',
    });
    expect((await repository.get(tenant.id))?.whatsapp_access_token_enc).toBeUndefined();
  });

  it("given no OpenAI key of its own, when it picks a model, then 400: on the platform's key the operator chooses", async () => {
    const tenant = await newTenant();
    const res = await call('PATCH', '/tenant', { key: tenant.key, body: { openai_model: 'gpt-5-pro' } });
    expect(res.status).toBe(400);
    expect(res.body.details).toEqual([{ field: 'openai_model', message: 'needs your own openai_api_key' }]);
    const withKey = await call('PATCH', '/tenant', {
      key: tenant.key,
      body: { openai_api_key: 'sk-tenant-own-key-0123456789', openai_model: 'gpt-5-pro' },
    });
    expect(withKey.status).toBe(200);
    expect(withKey.body.openai_model).toBe('gpt-5-pro');
  });

  it.each(OPERATOR_ONLY_FIELDS.map((field) => [field]))(
    'given %s (set by the operator), then 400 naming it and nothing changes',
    async (field) => {
      const tenant = await newTenant();
      const values: Record<string, unknown> = {
        active: false,
        phone_number: '+34999888777',
        phone_number_id: '999999',
        email: 'x@example.com',
        max_retention_hours: 8760,
        media_daily_limit: 5000,
      };
      const before = await repository.get(tenant.id);
      const res = await call('PATCH', '/tenant', {
        key: tenant.key,
        body: { name: 'Otro', [field]: values[field] },
      });
      expect(res.status).toBe(400);
      expect(res.body.message).toContain(field);
      expect(res.body.details).toEqual([{ field, message: 'set by the operator' }]);
      expect(await repository.get(tenant.id)).toEqual(before);
    },
  );

  it('given the conversation settings, then both APIs show their defaults, change them and refuse values out of range', async () => {
    const tenant = await newTenant();
    const initial = await call('GET', '/tenant', { key: tenant.key });
    expect(initial.body).toMatchObject({
      reply_delay_seconds: 3,
      handoff_minutes: 60,
      window_template: null,
    });

    const byTenant = await call('PATCH', '/tenant', {
      key: tenant.key,
      body: { reply_delay_seconds: 0, handoff_minutes: 15 },
    });
    expect(byTenant.status).toBe(200);
    expect(byTenant.body).toMatchObject({
      reply_delay_seconds: 0,
      handoff_minutes: 15,
      assistant_version: 1,
    });

    const byOperator = await asOperator('PATCH', `/clients/${tenant.id}`, {
      body: { reply_delay_seconds: 30, handoff_minutes: 120 },
    });
    expect(byOperator.status).toBe(200);
    expect((await call('GET', '/tenant', { key: tenant.key })).body).toMatchObject({
      reply_delay_seconds: 30,
      handoff_minutes: 120,
    });

    for (const body of [
      { reply_delay_seconds: 31 },
      { reply_delay_seconds: -1 },
      { reply_delay_seconds: 1.5 },
      { handoff_minutes: 0 },
    ]) {
      const refused = await call('PATCH', '/tenant', { key: tenant.key, body });
      expect(refused.status).toBe(400);
      expect(refused.body.details[0].field).toBe(Object.keys(body)[0]);
      expect((await asOperator('PATCH', `/clients/${tenant.id}`, { body })).status).toBe(400);
    }
  });

  it('given several operator fields, then the 400 names them all', async () => {
    const tenant = await newTenant();
    const res = await call('PATCH', '/tenant', {
      key: tenant.key,
      body: { active: true, phone_number_id: '123456' },
    });
    expect(res.status).toBe(400);
    expect(res.body.details.map((d: { field: string }) => d.field)).toEqual(['active', 'phone_number_id']);
  });

  it('given a retention above the maximum the operator allows, then 400 with the reason; at the maximum, 200', async () => {
    const tenant = await newTenant();
    const tooLong = await call('PATCH', '/tenant', {
      key: tenant.key,
      body: { retention_hours: DEFAULT_MAX_RETENTION_HOURS + 1 },
    });
    expect(tooLong.status).toBe(400);
    expect(tooLong.body.message).toContain(`${DEFAULT_MAX_RETENTION_HOURS} hours the operator allows`);
    expect(tooLong.body.details).toEqual([
      { field: 'retention_hours', message: `at most ${DEFAULT_MAX_RETENTION_HOURS}` },
    ]);

    expect(
      (await asOperator('PATCH', `/clients/${tenant.id}`, { body: { max_retention_hours: 48 } })).status,
    ).toBe(200);
    const aboveOperator = await call('PATCH', '/tenant', { key: tenant.key, body: { retention_hours: 49 } });
    expect(aboveOperator.status).toBe(400);
    expect(aboveOperator.body.message).toContain('48 hours');
    const atMax = await call('PATCH', '/tenant', { key: tenant.key, body: { retention_hours: 48 } });
    expect(atMax.status).toBe(200);
    expect(atMax.body.retention_hours).toBe(48);
  });

  it.each([
    ['an empty body', {}],
    ['an unknown field', { colour: 'red' }],
    ['no FAQs', { faqs: [] }],
    ['a too short secret', { openai_api_key: 'short' }],
  ])('given %s, then 400', async (_, body) => {
    const tenant = await newTenant();
    expect((await call('PATCH', '/tenant', { key: tenant.key, body })).status).toBe(400);
  });
});

describe("a tenant's conversations", () => {
  it('given a contact with messages, then the tenant lists it, pages its messages newest first and erases it', async () => {
    const tenant = await newTenant();
    const contact = { key: 'ES.1349120865530274', wa_id: '34600111222', name: 'Lucía' };
    await conversations.touchInbound(tenant.id, contact, new Date(), 24);
    for (let i = 0; i < 5; i++) {
      await conversations.putMessage(
        tenant.id,
        contact.key,
        {
          id: `wamid.${i}`,
          direction: i % 2 ? 'outbound' : 'inbound',
          type: 'text',
          text: `m${i}`,
          at: new Date(Date.UTC(2026, 10, 24, 10, i)).toISOString(),
        },
        24,
      );
    }
    const list = await call('GET', '/tenant/conversations', { key: tenant.key });
    expect(list.status).toBe(200);
    expect(list.body.conversations).toEqual([
      expect.objectContaining({
        contact: contact.key,
        wa_id: '34600111222',
        name: 'Lucía',
        bot_paused: false,
      }),
    ]);

    const path = `/tenant/conversations/${encodeURIComponent(contact.key)}/messages`;
    const page1 = await call('GET', path, { key: tenant.key, query: { limit: '3' } });
    expect(page1.body.messages.map((m: { text: string }) => m.text)).toEqual(['m4', 'm3', 'm2']);
    const page2 = await call('GET', path, {
      key: tenant.key,
      query: { limit: '3', cursor: page1.body.next_cursor },
    });
    expect(page2.body.messages.map((m: { text: string }) => m.text)).toEqual(['m1', 'm0']);
    expect((await call('GET', '/tenant/conversations/unknown/messages', { key: tenant.key })).status).toBe(
      404,
    );

    const erased = await call('DELETE', `/tenant/conversations/${encodeURIComponent(contact.key)}`, {
      key: tenant.key,
    });
    expect(erased.body).toEqual({
      contact: contact.key,
      messages_deleted: 5,
      conversations_deleted: 1,
      openai_conversations_deleted: 0,
    });
    expect((await call('GET', path, { key: tenant.key })).status).toBe(404);
    expect((await call('GET', '/tenant/conversations', { key: tenant.key })).body.conversations).toEqual([]);
  });
});

/** A route's path with its parameters filled in. */
const fill = (path: string, params: Record<string, string>) =>
  path.replace(/\{(\w+)\}/g, (_, name: string) => encodeURIComponent(params[name] ?? 'x'));

const operatorRoutes = functions.adminApi.routes.filter((route) => route.auth === 'operator-key');
const tenantRoutes = functions.adminApi.routes.filter((route) => route.auth === 'tenant-key');

describe('who may call which routes', () => {
  it('given a tenant key, then every operator route answers 403, even on its own client, and changes nothing', async () => {
    const tenant = await newTenant();
    await conversations.touchInbound(tenant.id, { key: '34600000001' }, new Date(), 24);
    const before = await asOperator('GET', `/clients/${tenant.id}`);
    expect(operatorRoutes.length).toBeGreaterThanOrEqual(15);
    for (const route of operatorRoutes) {
      const path = fill(route.path, { id: tenant.id, contact: '34600000001', key_id: tenant.keyId });
      const res = await call(route.method, path, {
        key: tenant.key,
        ...(route.method === 'POST' || route.method === 'PATCH' ? { body: { name: 'Hijacked' } } : {}),
      });
      expect({ route: `${route.method} ${path}`, status: res.status }).toEqual({
        route: `${route.method} ${path}`,
        status: 403,
      });
      expect(res.body.message).toContain('/tenant');
    }
    expect((await asOperator('GET', `/clients/${tenant.id}`)).body).toEqual(before.body);
    expect((await asOperator('GET', `/clients/${tenant.id}/api-keys`)).body.api_keys).toHaveLength(1);
    expect(await conversations.getContact(tenant.id, '34600000001')).toBeDefined();
  });

  it('given the operator key, then every tenant route answers 403 with the reason', async () => {
    const tenant = await newTenant();
    for (const route of tenantRoutes) {
      const path = fill(route.path, { contact: '34600000001', key_id: tenant.keyId });
      const res = await call(route.method, path, { key: OPERATOR_KEY, body: { name: 'x' } });
      expect({ route: `${route.method} ${path}`, status: res.status }).toEqual({
        route: `${route.method} ${path}`,
        status: 403,
      });
      expect(res.body.message).toContain('names no tenant');
    }
    expect((await call('GET', '/tenant/api-keys', { key: tenant.key })).body.api_keys).toHaveLength(1);
  });

  it('given the key of a deactivated tenant, then every tenant route answers 403 with the reason, until it is reactivated', async () => {
    const tenant = await newTenant();
    expect((await asOperator('DELETE', `/clients/${tenant.id}`)).status).toBe(200);
    for (const route of tenantRoutes) {
      const path = fill(route.path, { contact: '34600000001', key_id: tenant.keyId });
      const res = await call(route.method, path, { key: tenant.key, body: { name: 'x' } });
      expect({ route: `${route.method} ${path}`, status: res.status }).toEqual({
        route: `${route.method} ${path}`,
        status: 403,
      });
      expect(res.body.message).toBe('this client is deactivated: ask the operator to reactivate it');
    }
    // Nothing was done: the key is still there and the client was not renamed.
    expect((await asOperator('GET', `/clients/${tenant.id}/api-keys`)).body.api_keys).toHaveLength(1);
    expect((await asOperator('GET', `/clients/${tenant.id}`)).body.name).not.toBe('x');

    expect((await asOperator('PATCH', `/clients/${tenant.id}`, { body: { active: true } })).status).toBe(200);
    const back = await call('GET', '/tenant', { key: tenant.key });
    expect(back.status).toBe(200);
    expect(back.body).toMatchObject({ id: tenant.id, active: true });
  });
});
