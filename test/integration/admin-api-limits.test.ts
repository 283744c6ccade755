import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { createAdminApiHandler } from '../../functions/admin-api.ts';
import { ConversationStore } from '../../lib/conversation/conversation-store.ts';
import { logger } from '../../lib/logger.ts';
import { RetentionStore } from '../../lib/retention/retention-store.ts';
import { createLocalSecretBox } from '../../lib/secrets/secret-box.ts';
import { ClientRepository } from '../../lib/tenants/client-repository.ts';
import { ClientService } from '../../lib/tenants/client-service.ts';
import { apiEvent } from '../support/api-events.ts';
import { freshTable } from '../support/emulators.ts';
import { laPlazaFaqs } from '../support/fixtures.ts';
import { tenantApiDeps } from '../support/tenant-api-deps.ts';

/**
 * Issue 7: inputs that fit the JSON schema but not DynamoDB, deleted clients that could not be
 * edited, readable cursors, and bodies of the wrong type. Each answers a clear 4xx, never a 500.
 */

const OPERATOR_KEY = 'op_limits_key_0123456789';
const auth = { authorization: `Bearer ${OPERATOR_KEY}` };

let handler: ReturnType<typeof createAdminApiHandler>;
let repository: ClientRepository;
let conversations: ConversationStore;
let service: ClientService;

const send = async (event: APIGatewayProxyEventV2) => {
  const res = await handler(event);
  return { status: res.statusCode, body: JSON.parse(res.body ?? 'null') };
};
const call = (method: string, path: string, options: Parameters<typeof apiEvent>[2] = {}) =>
  send(apiEvent(method, path, { ...options, headers: { ...auth, ...(options.headers ?? {}) } }));

let phoneSeq = 700000;
const validClient = (overrides: Record<string, unknown> = {}) => ({
  name: 'Restaurante La Plaza',
  phone_number: '+34666777888',
  phone_number_id: String(phoneSeq++),
  faqs: laPlazaFaqs,
  ...overrides,
});
const createClient = async (overrides: Record<string, unknown> = {}) => {
  const created = await call('POST', '/clients', { body: validClient(overrides) });
  expect(created.status).toBe(201);
  return created.body as { id: string; phone_number_id: string; assistant_version: number };
};

const fields = (body: { details?: { field: string }[] }) => (body.details ?? []).map((d) => d.field);

beforeAll(async () => {
  const { aws, tableName } = await freshTable();
  repository = new ClientRepository(aws.dynamo, tableName);
  conversations = new ConversationStore(aws.dynamo, tableName);
  const secrets = createLocalSecretBox('test-local-secret-key');
  service = new ClientService({
    clients: repository,
    secrets,
    enqueueProvisioning: async () => undefined,
    platformHasOpenAi: async () => false,
    defaultModel: 'gpt-5-mini',
  });
  const purge = {
    clients: repository,
    store: new RetentionStore(aws.dynamo, tableName),
    secrets,
    openai: { deleteConversation: async () => false, deleteVectorStore: async () => false },
    platformOpenAiKey: async () => undefined,
  };
  const tenant = tenantApiDeps({ dynamo: aws.dynamo, tableName, service, secrets });
  handler = createAdminApiHandler(async () => ({
    service,
    conversations,
    purge,
    operatorKey: OPERATOR_KEY,
    ...tenant,
  }));
});

describe('FAQs that fit the schema but not a DynamoDB item (400 KB, counted in UTF-8 bytes)', () => {
  const faqs = (count: number, answer: string) =>
    Array.from({ length: count }, (_, i) => ({ q: `¿Pregunta número ${i}?`, a: answer }));
  const cases = [
    ['203 FAQs of 2,000 characters', faqs(203, 'a'.repeat(2000))],
    ['106 FAQs of 1,000 emoji', faqs(106, '😀'.repeat(1000))],
  ] as const;

  it.each(cases)('given %s, when POST /clients, then 400 naming faqs', async (_, tooMany) => {
    const { status, body } = await call('POST', '/clients', { body: validClient({ faqs: tooMany }) });
    expect(status).toBe(400);
    expect(fields(body)).toContain('faqs');
    expect(body.message).toMatch(/bytes/);
  });

  it.each(cases)('given %s, when PATCH /clients/{id}, then 400 naming faqs', async (_, tooMany) => {
    const { id } = await createClient();
    const { status, body } = await call('PATCH', `/clients/${id}`, { body: { faqs: tooMany } });
    expect(status).toBe(400);
    expect(fields(body)).toContain('faqs');
  });

  it('given every field at its limit in 4-byte characters, then the client is stored (the limits fit the item)', async () => {
    const emoji = (units: number) => '😀'.repeat(units / 2);
    // Largest FAQ set the schema accepts: fill the byte budget with 4-byte characters.
    const answer = emoji(2000); // 4,000 bytes
    const budget = 256 * 1024;
    const big = Array.from({ length: Math.floor(budget / 4_010) }, (_, i) => ({
      q: emoji(4) + String(i).padStart(3, '0'), // ≤ 10 bytes
      a: answer,
    }));
    const token = '語'.repeat(1365); // 4,095 bytes
    const { status, body } = await call('POST', '/clients', {
      body: validClient({
        name: emoji(200),
        faqs: big,
        welcome_message: emoji(1000),
        business_hours: emoji(500),
        email: `${'a'.repeat(64)}@${'b'.repeat(60)}.example.com`,
        whatsapp_access_token: token,
        openai_api_key: token,
      }),
    });
    expect(status).toBe(201);
    const patched = await call('PATCH', `/clients/${body.id}`, { body: { faqs: big.slice(1) } });
    expect(patched.status).toBe(200);
  });

  it('given a record larger than an item that got past the schema, then 413 naming faqs, not a 500', async () => {
    const input = {
      ...validClient({ faqs: faqs(203, 'a'.repeat(2000)) }),
      language: 'es',
      bot_enabled: true,
      retention_hours: 24,
    };
    const error = await service.create(input).catch((e: unknown) => e);
    expect(error).toMatchObject({ status: 413, code: 'payload_too_large' });
    expect((error as Error).message).toMatch(/faqs/);
  });
});

describe('path ids and contacts longer than DynamoDB keys allow', () => {
  const longId = 'x'.repeat(2042);
  const longMultibyteId = 'ñ'.repeat(1100); // 2,200 bytes
  const longContact = '3'.repeat(1017);
  const longMultibyteContact = '語'.repeat(400); // 1,200 bytes

  it.each([
    ['GET', longId],
    ['PATCH', longId],
    ['DELETE', longId],
    ['GET', longMultibyteId],
    ['PATCH', longMultibyteId],
    ['DELETE', longMultibyteId],
  ])('%s /clients/{an id that cannot exist} answers 404', async (method, id) => {
    const res = await call(method, `/clients/${encodeURIComponent(id)}`, {
      ...(method === 'PATCH' ? { body: { name: 'x' } } : {}),
    });
    expect(res.status).toBe(404);
    expect(res.body.error).toBe('not_found');
  });

  it.each([
    ['GET', '/conversations', longId],
    ['GET', '/conversations/34600000001/messages', longId],
    ['DELETE', '/conversations/34600000001', longId],
  ])('%s /clients/{long id}%s answers 404', async (method, rest, id) => {
    expect((await call(method, `/clients/${encodeURIComponent(id)}${rest}`)).status).toBe(404);
  });

  it.each([
    ['ASCII', longContact],
    ['multi-byte', longMultibyteContact],
  ])('a %s contact longer than a key allows answers 404 on messages and erasure', async (_, contact) => {
    const { id } = await createClient();
    const path = `/clients/${id}/conversations/${encodeURIComponent(contact)}`;
    const messages = await call('GET', `${path}/messages`);
    expect(messages.status).toBe(404);
    expect(messages.body.error).toBe('not_found');
    const erased = await call('DELETE', path);
    expect(erased.status).toBe(404);
    expect(erased.body.error).toBe('not_found');
  });
});

describe('a deleted client whose number went to another client', () => {
  it('can still be edited; only claiming the number back conflicts, and the message says so', async () => {
    const old = await createClient();
    await call('DELETE', `/clients/${old.id}`);
    const successor = await createClient({ phone_number_id: old.phone_number_id });

    const renamed = await call('PATCH', `/clients/${old.id}`, { body: { welcome_message: 'Hola' } });
    expect(renamed.status).toBe(200);
    expect(renamed.body.welcome_message).toBe('Hola');
    const faqs = await call('PATCH', `/clients/${old.id}`, {
      body: { faqs: [{ q: '¿Abrís?', a: 'Sí.' }] },
    });
    expect(faqs.status).toBe(200);
    expect((await repository.findRoute(old.phone_number_id))?.client_id).toBe(successor.id);

    const reactivated = await call('PATCH', `/clients/${old.id}`, { body: { active: true } });
    expect(reactivated.status).toBe(409);
    expect(reactivated.body.message).toContain(old.phone_number_id);
    expect(reactivated.body.message).toMatch(/reactivate/);
    expect((await repository.findRoute(old.phone_number_id))?.client_id).toBe(successor.id);

    // Moving it to a free number and reactivating it works; the successor keeps its number.
    const freeNumber = String(phoneSeq++);
    const moved = await call('PATCH', `/clients/${old.id}`, {
      body: { phone_number_id: freeNumber, active: true },
    });
    expect(moved.status).toBe(200);
    expect(moved.body.active).toBe(true);
    expect((await repository.findRoute(freeNumber))?.client_id).toBe(old.id);
    expect((await repository.findRoute(old.phone_number_id))?.client_id).toBe(successor.id);
    expect((await repository.findRoute(old.phone_number_id))?.active).toBe(true);
  });

  it('a deleted client may be deleted again and moved to a free number without touching the successor', async () => {
    const old = await createClient();
    await call('DELETE', `/clients/${old.id}`);
    const successor = await createClient({ phone_number_id: old.phone_number_id });
    expect((await call('DELETE', `/clients/${old.id}`)).status).toBe(200);
    const freeNumber = String(phoneSeq++);
    const moved = await call('PATCH', `/clients/${old.id}`, { body: { phone_number_id: freeNumber } });
    expect(moved.status).toBe(200);
    expect(await repository.findRoute(freeNumber)).toEqual({ client_id: old.id, active: false });
    expect(await repository.findRoute(old.phone_number_id)).toEqual({
      client_id: successor.id,
      active: true,
    });
  });

  it('a deleted client moved to the number of an active client conflicts, naming that number', async () => {
    const other = await createClient();
    const old = await createClient();
    await call('DELETE', `/clients/${old.id}`);
    const res = await call('PATCH', `/clients/${old.id}`, {
      body: { phone_number_id: other.phone_number_id },
    });
    expect(res.status).toBe(409);
    expect(res.body.message).toContain(other.phone_number_id);
    expect((await repository.findRoute(other.phone_number_id))?.client_id).toBe(other.id);
  });
});

describe('pagination cursors are opaque and sealed', () => {
  const contactsOf = async (clientId: string, count: number) => {
    for (let i = 0; i < count; i++) {
      await conversations.touchInbound(
        clientId,
        { key: `3460000${String(i).padStart(4, '0')}` },
        new Date(),
        24,
      );
    }
  };

  it('a cursor discloses no key, a modified one answers 400, and the pages still walk every contact', async () => {
    const { id } = await createClient();
    await contactsOf(id, 5);
    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await call('GET', `/clients/${id}/conversations`, {
        query: { limit: '2', ...(cursor ? { cursor } : {}) },
      });
      expect(page.status).toBe(200);
      seen.push(...page.body.conversations.map((c: { contact: string }) => c.contact));
      cursor = page.body.next_cursor ?? undefined;
      if (cursor) {
        expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
        const decoded = Buffer.from(cursor, 'base64url').toString('latin1');
        expect(decoded).not.toContain('CLIENT#');
        expect(decoded).not.toContain(id);
        expect(decoded).not.toContain('CONTACT#');
      }
      pages++;
    } while (cursor && pages < 10);
    expect(seen).toHaveLength(5);
    expect(new Set(seen).size).toBe(5);

    const first = await call('GET', `/clients/${id}/conversations`, { query: { limit: '2' } });
    const sealed: string = first.body.next_cursor;
    const bytes = Buffer.from(sealed, 'base64url');
    for (const index of [0, 14, bytes.length - 1]) {
      const tampered = Buffer.from(bytes);
      tampered[index] = (tampered[index] ?? 0) ^ 0x01;
      const res = await call('GET', `/clients/${id}/conversations`, {
        query: { cursor: tampered.toString('base64url') },
      });
      expect(res.status).toBe(400);
      expect(res.body.error).toBe('validation_error');
    }
    const truncated = await call('GET', `/clients/${id}/conversations`, {
      query: { cursor: sealed.slice(0, -4) },
    });
    expect(truncated.status).toBe(400);
  });
});

describe('request bodies and free text', () => {
  const withoutContentType = (event: APIGatewayProxyEventV2) => {
    delete event.headers['content-type'];
    return event;
  };

  it.each([
    ['text/plain', 'text/plain'],
    ['form data', 'application/x-www-form-urlencoded'],
    ['a JSON look-alike', 'application/jsonp'],
    ['a non-UTF-8 charset', 'application/json; charset=iso-8859-1'],
  ])('given %s as Content-Type, when POST /clients, then 415 with a reason', async (_, type) => {
    const res = await call('POST', '/clients', { body: validClient(), headers: { 'content-type': type } });
    expect(res.status).toBe(415);
    expect(res.body.error).toBe('unsupported_media_type');
    expect(res.body.message).toMatch(/application\/json/);
  });

  it('given no Content-Type, when POST /clients or PATCH, then 415', async () => {
    const { id } = await createClient();
    const post = apiEvent('POST', '/clients', { body: validClient(), headers: auth });
    expect((await send(withoutContentType(post))).status).toBe(415);
    const patch = apiEvent('PATCH', `/clients/${id}`, { body: { name: 'x' }, headers: auth });
    expect((await send(withoutContentType(patch))).status).toBe(415);
  });

  it.each(['application/json', 'application/json; charset=utf-8', 'Application/JSON;charset="UTF-8"'])(
    'given Content-Type %s, then the body is accepted',
    async (type) => {
      const res = await call('POST', '/clients', { body: validClient(), headers: { 'content-type': type } });
      expect(res.status).toBe(201);
    },
  );

  it('given POST /admin/purge without a body, then no Content-Type is needed', async () => {
    const event = apiEvent('POST', '/admin/purge', { rawBody: '', headers: auth });
    expect((await send(withoutContentType(event))).status).toBe(200);
  });

  it.each([
    ['name', { name: 'La\u0000Plaza' }],
    ['name', { name: 'La Plaza \ud800' }],
    ['faqs.0.q', { faqs: [{ q: '¿Abrís?\u0000', a: 'Sí.' }] }],
    ['faqs.0.a', { faqs: [{ q: '¿Abrís?', a: 'Sí \udc00 claro' }] }],
    ['welcome_message', { welcome_message: 'Hola\u0000' }],
    ['business_hours', { business_hours: '9-18 \ud83d' }],
  ])('given NUL or an unpaired surrogate in %s, then 400 naming it', async (field, overrides) => {
    const created = await call('POST', '/clients', { body: validClient(overrides) });
    expect(created.status).toBe(400);
    expect(fields(created.body)).toContain(field);
    const { id } = await createClient();
    const patched = await call('PATCH', `/clients/${id}`, { body: overrides });
    expect(patched.status).toBe(400);
    expect(fields(patched.body)).toContain(field);
  });

  it('given a well-formed emoji (a surrogate pair) in a name, then it is accepted', async () => {
    expect((await call('POST', '/clients', { body: validClient({ name: 'La Plaza 🍕' }) })).status).toBe(201);
  });

  it('given an unknown client_id, POST /admin/purge answers 404 and logs no error', async () => {
    const errors = vi.spyOn(logger, 'error');
    try {
      const res = await call('POST', '/admin/purge', { body: { client_id: 'cl_doesnotexist00' } });
      expect(res.status).toBe(404);
      expect(res.body.message).toContain('cl_doesnotexist00');
      expect(errors).not.toHaveBeenCalled();
    } finally {
      errors.mockRestore();
    }
  });
});
