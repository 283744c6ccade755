import { beforeAll, describe, expect, it } from 'vitest';
import { createAdminApiHandler } from '../../functions/admin-api.ts';
import { ConversationStore } from '../../lib/conversation/conversation-store.ts';
import { InMemoryTelemetry } from '../../lib/observability/telemetry.ts';
import { RetentionStore } from '../../lib/retention/retention-store.ts';
import { createLocalSecretBox } from '../../lib/secrets/secret-box.ts';
import { ClientRepository } from '../../lib/tenants/client-repository.ts';
import { ClientService, type ProvisionJob } from '../../lib/tenants/client-service.ts';
import { apiEvent } from '../support/api-events.ts';
import { freshTable } from '../support/emulators.ts';
import { laPlazaFaqs } from '../support/fixtures.ts';
import { tenantApiDeps } from '../support/tenant-api-deps.ts';

const OPERATOR_KEY = 'op_test_key_0123456789';
const auth = { authorization: `Bearer ${OPERATOR_KEY}` };

let handler: ReturnType<typeof createAdminApiHandler>;
const purgeTelemetry = new InMemoryTelemetry();
let repository: ClientRepository;
let conversations: ConversationStore;
const provisionJobs: ProvisionJob[] = [];
const platformHasOpenAi = false;
let queueDown = false;

const call = async (method: string, path: string, options: Parameters<typeof apiEvent>[2] = {}) => {
  const res = await handler(
    apiEvent(method, path, { ...options, headers: { ...auth, ...(options.headers ?? {}) } }),
  );
  return { status: res.statusCode, body: JSON.parse(res.body ?? 'null') };
};

let phoneSeq = 100000;
const validClient = (overrides: Record<string, unknown> = {}) => ({
  name: 'Restaurante La Plaza',
  phone_number: '+34666777888',
  phone_number_id: String(phoneSeq++),
  faqs: laPlazaFaqs,
  welcome_message: '¡Hola! Soy el asistente virtual del Restaurante La Plaza.',
  business_hours: 'L-V: 9:00-22:00, S: 10:00-23:00',
  ...overrides,
});

beforeAll(async () => {
  const { aws, tableName } = await freshTable();
  repository = new ClientRepository(aws.dynamo, tableName);
  conversations = new ConversationStore(aws.dynamo, tableName);
  const secrets = createLocalSecretBox('test-local-secret-key');
  const service = new ClientService({
    clients: repository,
    secrets,
    enqueueProvisioning: async (job) => {
      if (queueDown) throw new Error('SQS unavailable');
      provisionJobs.push(job);
    },
    platformHasOpenAi: async () => platformHasOpenAi,
    defaultModel: 'gpt-5-mini',
  });
  const purge = {
    clients: repository,
    store: new RetentionStore(aws.dynamo, tableName),
    secrets: createLocalSecretBox('test-local-secret-key'),
    openai: { deleteConversation: async () => false, deleteVectorStore: async () => false },
    platformOpenAiKey: async () => undefined,
  };
  handler = createAdminApiHandler(async () => ({
    service,
    conversations,
    purge,
    operatorKey: OPERATOR_KEY,
    purgeTelemetry,
    ...tenantApiDeps({ dynamo: aws.dynamo, tableName, service, secrets }),
  }));
});

describe('operator authentication', () => {
  it.each([
    ['no Authorization header', {}],
    ['a wrong key', { authorization: 'Bearer wrong' }],
    ['a non-bearer scheme', { authorization: `Basic ${OPERATOR_KEY}` }],
  ])('given %s, when listing clients, then 401', async (_, headers) => {
    const res = await handler(apiEvent('GET', '/clients', { headers }));
    expect(res.statusCode).toBe(401);
  });

  it('given no key, /health still answers 200', async () => {
    const res = await handler(apiEvent('GET', '/health'));
    expect(res.statusCode).toBe(200);
  });
});

describe('POST /clients', () => {
  it('given the seed-003 body, then 201 with the contract fields and no secret', async () => {
    const { status, body } = await call('POST', '/clients', {
      body: validClient({
        whatsapp_access_token: 'EAAG-secret-token-value',
        openai_api_key: 'sk-tenant-secret-key',
      }),
    });
    expect(status).toBe(201);
    for (const field of [
      'id',
      'name',
      'phone_number',
      'phone_number_id',
      'assistant_id',
      'active',
      'created_at',
      'updated_at',
      'welcome_message',
      'business_hours',
    ]) {
      expect(body).toHaveProperty(field);
    }
    expect(body.active).toBe(true);
    expect(body.language).toBe('es');
    expect(body.assistant_id).toMatch(/^asst_/);
    expect(body.assistant_version).toBe(1);
    expect(body.has_whatsapp_access_token).toBe(true);
    const text = JSON.stringify(body);
    expect(text).not.toContain('EAAG-secret-token-value');
    expect(text).not.toContain('sk-tenant-secret-key');
    // Stored encrypted, too.
    const stored = JSON.stringify(await repository.get(body.id));
    expect(stored).not.toContain('EAAG-secret-token-value');
    expect(stored).not.toContain('sk-tenant-secret-key');
  });

  it('given a tenant OpenAI key, then the assistant is pending and a provisioning job is queued', async () => {
    const { body } = await call('POST', '/clients', {
      body: validClient({ openai_api_key: 'sk-tenant-secret-key' }),
    });
    expect(body.assistant_status).toBe('pending');
    expect(provisionJobs).toContainEqual({ client_id: body.id, assistant_version: 1 });
  });

  it('given the provisioning queue is down, then the client is still created (201) and its assistant says why it is not built', async () => {
    queueDown = true;
    try {
      const { status, body } = await call('POST', '/clients', {
        body: validClient({ openai_api_key: 'sk-tenant-secret-key' }),
      });
      expect(status).toBe(201);
      expect(body.assistant_status).toBe('failed');
      expect(body.assistant_status_reason).toContain('could not be queued');
    } finally {
      queueDown = false;
    }
  });

  it('given no OpenAI key anywhere, then the assistant is ready at once (offline FAQ responder)', async () => {
    const { body } = await call('POST', '/clients', { body: validClient() });
    expect(body.assistant_status).toBe('ready');
    expect(provisionJobs.some((job) => job.client_id === body.id)).toBe(false);
  });

  it('given a phone_number_id of an active client, then 409', async () => {
    const first = await call('POST', '/clients', { body: validClient() });
    const again = await call('POST', '/clients', {
      body: validClient({ phone_number_id: first.body.phone_number_id }),
    });
    expect(again.status).toBe(409);
    expect(again.body.message).toContain(first.body.phone_number_id);
  });

  it('given the number of a deleted client, then a new client may take it', async () => {
    const first = await call('POST', '/clients', { body: validClient() });
    await call('DELETE', `/clients/${first.body.id}`);
    const again = await call('POST', '/clients', {
      body: validClient({ phone_number_id: first.body.phone_number_id }),
    });
    expect(again.status).toBe(201);
  });

  it.each([
    ['name', { name: '' }],
    ['name', { name: undefined }],
    ['phone_number', { phone_number: '666777888' }],
    ['phone_number', { phone_number: '+34 666 777 888' }],
    ['phone_number_id', { phone_number_id: 'abc' }],
    ['phone_number_id', { phone_number_id: undefined }],
    ['faqs', { faqs: [] }],
    ['faqs', { faqs: 'none' }],
    ['faqs.0.q', { faqs: [{ q: '', a: 'x' }] }],
    ['faqs.0.a', { faqs: [{ q: 'x' }] }],
    ['faqs.0', { faqs: [{ q: 'x', a: 'y', extra: 1 }] }],
    ['email', { email: 'not-an-email' }],
    ['language', { language: 'spanish' }],
    ['welcome_message', { welcome_message: 42 }],
    ['business_hours', { business_hours: '' }],
    ['bot_enabled', { bot_enabled: 'yes' }],
    ['whatsapp_access_token', { whatsapp_access_token: 'short' }],
    ['(root)', { unexpected_field: true }],
  ])('given an invalid %s, then 400 naming the field', async (field, overrides) => {
    const { status, body } = await call('POST', '/clients', { body: validClient(overrides) });
    expect(status).toBe(400);
    expect(body.error).toBe('validation_error');
    expect(body.details.map((d: { field: string }) => d.field)).toContain(field);
  });

  it.each([
    ['malformed JSON', '{"name": '],
    ['an empty body', ''],
    ['a JSON array', '[]'],
  ])('given %s, then 400 with a reason', async (_, rawBody) => {
    const { status, body } = await call('POST', '/clients', { rawBody });
    expect(status).toBe(400);
    expect(body.message).toBeTruthy();
  });
});

describe('reading, changing and deleting clients', () => {
  it('lists all clients and only active ones with active_only=true', async () => {
    const active = await call('POST', '/clients', { body: validClient() });
    const gone = await call('POST', '/clients', { body: validClient() });
    await call('DELETE', `/clients/${gone.body.id}`);
    const all = await call('GET', '/clients');
    const onlyActive = await call('GET', '/clients', { query: { active_only: 'true' } });
    const ids = (list: { clients: { id: string }[] }) => list.clients.map((c) => c.id);
    expect(ids(all.body)).toEqual(expect.arrayContaining([active.body.id, gone.body.id]));
    expect(ids(onlyActive.body)).toContain(active.body.id);
    expect(ids(onlyActive.body)).not.toContain(gone.body.id);
    expect((await call('GET', '/clients', { query: { active_only: 'maybe' } })).status).toBe(400);
  });

  it('GET /clients/{id} answers 404 for an unknown id', async () => {
    expect((await call('GET', '/clients/cl_doesnotexist')).status).toBe(404);
  });

  it('PATCH changes only the given fields; changing faqs rebuilds the assistant with a new version', async () => {
    const created = (await call('POST', '/clients', { body: validClient() })).body;
    const renamed = await call('PATCH', `/clients/${created.id}`, {
      body: { welcome_message: 'Hola de nuevo' },
    });
    expect(renamed.status).toBe(200);
    expect(renamed.body.welcome_message).toBe('Hola de nuevo');
    expect(renamed.body.assistant_version).toBe(1);
    expect(renamed.body.name).toBe(created.name);

    const newFaqs = [...laPlazaFaqs, { q: '¿Tenéis terraza?', a: 'Sí, con 10 mesas.' }];
    const rebuilt = await call('PATCH', `/clients/${created.id}`, { body: { faqs: newFaqs } });
    expect(rebuilt.body.assistant_version).toBe(2);
    expect(rebuilt.body.assistant_id).toBe(created.assistant_id);
    expect(rebuilt.body.faqs).toHaveLength(4);
    const stored = await repository.get(created.id);
    expect(stored?.assistant.instructions).toContain('¿Tenéis terraza?');
  });

  it('PATCH rejects an empty body, unknown fields and invalid values with 400; unknown id with 404', async () => {
    const created = (await call('POST', '/clients', { body: validClient() })).body;
    expect((await call('PATCH', `/clients/${created.id}`, { body: {} })).status).toBe(400);
    expect((await call('PATCH', `/clients/${created.id}`, { body: { colour: 'red' } })).status).toBe(400);
    expect((await call('PATCH', `/clients/${created.id}`, { body: { faqs: [] } })).status).toBe(400);
    expect((await call('PATCH', '/clients/cl_nope', { body: { name: 'x' } })).status).toBe(404);
  });

  it('PATCH to the phone_number_id of another active client answers 409 and changes nothing', async () => {
    const a = (await call('POST', '/clients', { body: validClient() })).body;
    const b = (await call('POST', '/clients', { body: validClient() })).body;
    const res = await call('PATCH', `/clients/${b.id}`, { body: { phone_number_id: a.phone_number_id } });
    expect(res.status).toBe(409);
    expect((await repository.findRoute(a.phone_number_id))?.client_id).toBe(a.id);
    expect((await repository.findRoute(b.phone_number_id))?.client_id).toBe(b.id);
  });

  it('PATCH moving to a free number releases the old one', async () => {
    const a = (await call('POST', '/clients', { body: validClient() })).body;
    const newNumber = String(phoneSeq++);
    expect((await call('PATCH', `/clients/${a.id}`, { body: { phone_number_id: newNumber } })).status).toBe(
      200,
    );
    expect(await repository.findRoute(a.phone_number_id)).toBeUndefined();
    expect((await repository.findRoute(newNumber))?.client_id).toBe(a.id);
  });

  it('DELETE is a soft delete: the client is kept, inactive, and its route is inactive', async () => {
    const created = (await call('POST', '/clients', { body: validClient() })).body;
    const deleted = await call('DELETE', `/clients/${created.id}`);
    expect(deleted.status).toBe(200);
    expect(deleted.body.active).toBe(false);
    expect((await call('GET', `/clients/${created.id}`)).body.active).toBe(false);
    expect((await repository.findRoute(created.phone_number_id))?.active).toBe(false);
    expect((await call('DELETE', '/clients/cl_nope')).status).toBe(404);
  });

  it('a malformed path parameter answers 400, not a crash', async () => {
    expect((await call('GET', '/clients/%E0%A4%A')).status).toBe(400);
  });

  it('an unknown route answers 404', async () => {
    expect((await call('GET', '/nothing-here')).status).toBe(404);
  });
});

describe('conversations and messages', () => {
  it('lists contacts and a contact\u2019s messages newest first, paginated; unknown contact 404', async () => {
    const created = (await call('POST', '/clients', { body: validClient() })).body;
    const contact = {
      key: 'ES.1349120865530274',
      wa_id: '34600111222',
      user_id: 'ES.1349120865530274',
      name: 'Lucía',
    };
    await conversations.touchInbound(created.id, contact, new Date(), 24);
    for (let i = 0; i < 5; i++) {
      await conversations.putMessage(
        created.id,
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
    const list = await call('GET', `/clients/${created.id}/conversations`);
    expect(list.body.conversations).toEqual([
      expect.objectContaining({ contact: contact.key, bot_paused: false, name: 'Lucía' }),
    ]);

    const page1 = await call(
      'GET',
      `/clients/${created.id}/conversations/${encodeURIComponent(contact.key)}/messages`,
      { query: { limit: '3' } },
    );
    expect(page1.body.messages.map((m: { text: string }) => m.text)).toEqual(['m4', 'm3', 'm2']);
    expect(page1.body.next_cursor).toBeTruthy();
    const page2 = await call(
      'GET',
      `/clients/${created.id}/conversations/${encodeURIComponent(contact.key)}/messages`,
      {
        query: { limit: '3', cursor: page1.body.next_cursor },
      },
    );
    expect(page2.body.messages.map((m: { text: string }) => m.text)).toEqual(['m1', 'm0']);

    expect((await call('GET', `/clients/${created.id}/conversations/unknown/messages`)).status).toBe(404);
    const forged = (key: object) => Buffer.from(JSON.stringify(key)).toString('base64url');
    for (const key of [
      { pk: `CLIENT#${created.id}`, sk: 'PROFILE' },
      { pk: `CLIENT#${created.id}#CONTACT#${contact.key}`, sk: 7 },
      { pk: `CLIENT#${created.id}#CONTACT#${contact.key}`, sk: 'MSG#x', extra: 1 },
      { pk: `CLIENT#${created.id}#CONTACT#${contact.key}` },
    ]) {
      const res = await call(
        'GET',
        `/clients/${created.id}/conversations/${encodeURIComponent(contact.key)}/messages`,
        {
          query: { cursor: forged(key) },
        },
      );
      expect(res.status).toBe(400);
    }
    expect(
      (
        await call('GET', `/clients/${created.id}/conversations/${contact.key}/messages`, {
          query: { cursor: 'garbage' },
        })
      ).status,
    ).toBe(400);
    expect(
      (
        await call('GET', `/clients/${created.id}/conversations/${contact.key}/messages`, {
          query: { limit: '0' },
        })
      ).status,
    ).toBe(400);
  });

  it('never shows one tenant the conversations of another', async () => {
    const a = (await call('POST', '/clients', { body: validClient() })).body;
    const b = (await call('POST', '/clients', { body: validClient() })).body;
    await conversations.touchInbound(a.id, { key: '34600000001' }, new Date(), 24);
    await conversations.putMessage(
      a.id,
      '34600000001',
      {
        id: 'wamid.a',
        direction: 'inbound',
        type: 'text',
        text: 'secret of A',
        at: new Date().toISOString(),
      },
      24,
    );
    expect((await call('GET', `/clients/${b.id}/conversations`)).body.conversations).toEqual([]);
    expect((await call('GET', `/clients/${b.id}/conversations/34600000001/messages`)).status).toBe(404);
    // A cursor minted for tenant A's list is refused on tenant B's.
    const pageA = await call('GET', `/clients/${a.id}/conversations`, { query: { limit: '1' } });
    if (pageA.body.next_cursor) {
      expect(
        (await call('GET', `/clients/${b.id}/conversations`, { query: { cursor: pageA.body.next_cursor } }))
          .status,
      ).toBe(400);
    }
  });
});

describe('purge and erasure routes', () => {
  it('POST /admin/purge runs a purge and GET /admin/purges lists it with its report', async () => {
    const created = (await call('POST', '/clients', { body: validClient() })).body;
    await conversations.touchInbound(created.id, { key: '34600000077' }, new Date(), 24);
    await conversations.putMessage(
      created.id,
      '34600000077',
      {
        id: 'wamid.p',
        direction: 'inbound',
        type: 'text',
        text: 'x',
        at: new Date(Date.now() - 1000).toISOString(),
      },
      24,
    );
    const run = await call('POST', '/admin/purge', { body: { client_id: created.id, older_than_hours: 0 } });
    expect(run.status).toBe(200);
    expect(run.body).toMatchObject({
      status: 'completed',
      messages_deleted: 1,
      conversations_deleted: 1,
      openai_conversations_deleted: 0,
    });
    // The forced run is counted like a scheduled one, and flushed with the request.
    expect(purgeTelemetry.total('PurgeRuns')).toBe(1);
    expect(purgeTelemetry.total('PurgeItemsDeleted')).toBeGreaterThanOrEqual(2);
    expect(purgeTelemetry.flushes.length).toBeGreaterThanOrEqual(1);
    const runs = await call('GET', '/admin/purges', { query: { limit: '5' } });
    expect(runs.body.runs[0]).toMatchObject({
      run_id: run.body.run_id,
      trigger: 'manual',
      report: { messages_deleted: 1 },
    });
  });

  it('POST /admin/purge without a body applies every client\u2019s retention', async () => {
    const run = await call('POST', '/admin/purge', { rawBody: '' });
    expect(run.status).toBe(200);
    expect(run.body.tenants_scanned).toBeGreaterThan(0);
  });

  it.each([
    ['a negative older_than_hours', { older_than_hours: -1 }, 400],
    ['a fractional older_than_hours', { older_than_hours: 1.5 }, 400],
    ['an unknown field', { everything: true }, 400],
    ['an unknown client', { client_id: 'cl_nope' }, 404],
  ])('POST /admin/purge with %s answers %s', async (_, body, status) => {
    expect((await call('POST', '/admin/purge', { body })).status).toBe(status);
  });

  it('PATCH retention_hours validates and stores it', async () => {
    const created = (await call('POST', '/clients', { body: validClient({ retention_hours: 48 }) })).body;
    expect(created.retention_hours).toBe(48);
    expect(
      (await call('PATCH', `/clients/${created.id}`, { body: { retention_hours: 0 } })).body.retention_hours,
    ).toBe(0);
    expect((await call('PATCH', `/clients/${created.id}`, { body: { retention_hours: -3 } })).status).toBe(
      400,
    );
    expect((await call('POST', '/clients', { body: validClient() })).body.retention_hours).toBe(24);
  });

  it('DELETE /clients/{id}/conversations/{contact} erases the contact; then its messages answer 404', async () => {
    const created = (await call('POST', '/clients', { body: validClient() })).body;
    await conversations.touchInbound(created.id, { key: 'ES.99' }, new Date(), 24);
    await conversations.putMessage(
      created.id,
      'ES.99',
      { id: 'wamid.e', direction: 'inbound', type: 'text', text: 'x', at: new Date().toISOString() },
      24,
    );
    const erased = await call('DELETE', `/clients/${created.id}/conversations/ES.99`);
    expect(erased.body).toEqual({
      contact: 'ES.99',
      messages_deleted: 1,
      conversations_deleted: 1,
      openai_conversations_deleted: 0,
    });
    expect((await call('GET', `/clients/${created.id}/conversations/ES.99/messages`)).status).toBe(404);
    expect((await call('DELETE', `/clients/${created.id}/conversations/ES.99`)).status).toBe(404);
  });
});
