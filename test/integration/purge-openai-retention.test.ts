import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ConversationStore } from '../../lib/conversation/conversation-store.ts';
import { pruneConversationItems } from '../../lib/openai/conversation-retention.ts';
import { clearOpenAiClientCache } from '../../lib/openai/openai-client.ts';
import { createOpenAiResponder, deleteConversation } from '../../lib/openai/openai-responder.ts';
import { type PurgeDeps, runPurge } from '../../lib/retention/purge.ts';
import { RetentionStore } from '../../lib/retention/retention-store.ts';
import { createLocalSecretBox } from '../../lib/secrets/secret-box.ts';
import type { Client } from '../../lib/tenants/client.ts';
import { ClientRepository } from '../../lib/tenants/client-repository.ts';
import type { ClientService } from '../../lib/tenants/client-service.ts';
import { type FakeOpenAi, startFakeOpenAi } from '../fakes/openai-server.ts';
import { freshTable } from '../support/emulators.ts';
import { laPlazaFaqs } from '../support/fixtures.ts';
import { testClientService } from '../support/services.ts';

/**
 * The retention at OpenAI for contacts who keep writing: the purge deletes their conversation's items
 * older than the tenant's retention and keeps the newer ones (DynamoDB Local, the OpenAI fake, the
 * real client; the turns are added by the real responder under a fake clock).
 */

const TENANT_KEY = 'sk-tenant-own-key-000301';
const REVOKED_KEY = 'sk-tenant-revoked-key-000302';
const OTHER_KEY = 'sk-tenant-other-key-000303';

let openai: FakeOpenAi;
let clients: ClientRepository;
let conversations: ConversationStore;
let service: ClientService;
let deps: PurgeDeps;
const secrets = createLocalSecretBox('purge-openai-test-key');
let numberSeq = 555000900;

beforeAll(async () => {
  const { aws, tableName } = await freshTable();
  openai = await startFakeOpenAi();
  clients = new ClientRepository(aws.dynamo, tableName);
  conversations = new ConversationStore(aws.dynamo, tableName);
  service = testClientService(clients, secrets, { platformHasOpenAi: true });
  deps = {
    clients,
    store: new RetentionStore(aws.dynamo, tableName),
    secrets,
    platformOpenAiKey: async () => openai.key,
    openai: {
      deleteConversation: (apiKey, conversationId, keyOwner) =>
        deleteConversation({
          apiKey,
          conversationId,
          baseURL: openai.url,
          retries: 0,
          ...(keyOwner ? { keyOwner } : {}),
        }),
      deleteVectorStore: async () => false,
      pruneConversation: ({ apiKey, owner, conversationId, before, limit }) =>
        pruneConversationItems({
          apiKey,
          keyOwner: owner,
          conversationId,
          before,
          limit,
          baseURL: openai.url,
          retries: 0,
        }),
    },
  };
});

afterAll(async () => {
  await openai?.stop();
});

beforeEach(() => {
  clearOpenAiClientCache();
});

const hoursAgo = (hours: number) => new Date(Date.now() - hours * 3600_000);

async function newTenant(name: string, options: { ownKey?: string } = {}): Promise<Client> {
  const client = await service.create({
    name,
    phone_number: '+34666777888',
    phone_number_id: String(numberSeq++),
    faqs: laPlazaFaqs,
    language: 'es',
    bot_enabled: true,
    retention_hours: 24,
  });
  if (!options.ownKey) return client;
  openai.acceptKey(options.ownKey);
  const openai_api_key_enc = await secrets.encrypt(options.ownKey, { tenantId: client.id });
  await clients.patch(client.id, { openai_api_key_enc });
  return { ...client, openai_api_key_enc };
}

/**
 * An active contact (wrote an hour ago) with a message and an OpenAI turn at each age (hours ago),
 * answered with the tenant's key when it has one; resolves with its conversation id.
 */
async function activeContact(
  client: Client,
  key: string,
  turnAges: number[],
  ownKey?: string,
  lastActivityHours = 1,
) {
  await conversations.touchInbound(client.id, { key, wa_id: key }, hoursAgo(lastActivityHours), 24 * 30);
  let conversationId: string | undefined;
  for (const [i, age] of turnAges.entries()) {
    await conversations.putMessage(
      client.id,
      key,
      {
        id: `wamid.${key}.${i}`,
        direction: 'inbound',
        type: 'text',
        text: `m${i}`,
        at: hoursAgo(age).toISOString(),
      },
      24 * 30,
    );
    const reply = await createOpenAiResponder({
      platformApiKey: openai.key,
      baseURL: openai.url,
      retries: 0,
      now: () => hoursAgo(age),
    }).reply({
      tenant: {
        id: client.id,
        name: client.name,
        language: 'es',
        faqs: client.faqs,
        assistant: client.assistant,
        ...(ownKey ? { openaiApiKey: ownKey } : {}),
      },
      contact: { key, ...(conversationId ? { conversationId } : {}) },
      text: `turno de hace ${age} h`,
    });
    conversationId = reply.conversationId;
  }
  if (!conversationId) throw new Error('no conversation');
  const conversation = openai.conversations.get(conversationId);
  // Created with the first turn (the fake would stamp the real time).
  if (conversation) conversation.created_at = Math.floor(hoursAgo(turnAges[0] ?? 0).getTime() / 1000);
  await conversations.updateContact(client.id, key, { openai_conversation_id: conversationId });
  return conversationId;
}

/** The customer's words left in a conversation at OpenAI. */
const customerWordsAtOpenAi = (conversationId: string) =>
  (openai.conversations.get(conversationId)?.items ?? [])
    .filter((item) => item.role === 'user')
    .map((item) => item.text);

const itemRequests = (method: string, conversationId: string) =>
  openai.requestsTo(method, new RegExp(`^/v1/conversations/${conversationId}/items(/|$)`));

describe('the retention purge at OpenAI, for contacts who keep writing', () => {
  it('given an active contact with turns older and newer than the retention, then only the older ones go', async () => {
    const tenant = await newTenant('Restaurante La Plaza');
    const conversationId = await activeContact(tenant, '34600000001', [30, 26, 2]);

    const run = await runPurge({ trigger: 'schedule', clientId: tenant.id }, deps);

    expect(run.status).toBe('completed');
    // Two turns of three items each: their mark, the customer's words and the answer.
    expect(run.report).toMatchObject({
      openai_items_deleted: 6,
      openai_conversations_deleted: 0,
      conversations_deleted: 0,
      messages_deleted: 2,
      errors: 0,
    });
    expect(customerWordsAtOpenAi(conversationId)).toEqual(['turno de hace 2 h']);
    // The contact and its memory stay: the conversation goes on.
    const contact = await conversations.getContact(tenant.id, '34600000001');
    expect(contact?.openai_conversation_id).toBe(conversationId);

    const again = await runPurge({ trigger: 'schedule', clientId: tenant.id }, deps);
    expect(again.report.openai_items_deleted).toBe(0);
  });

  it("given a tenant with its own OpenAI key, then its conversations' items are deleted with that key", async () => {
    const tenant = await newTenant('Casa Propia', { ownKey: TENANT_KEY });
    const conversationId = await activeContact(tenant, '34600000002', [40, 1], TENANT_KEY);

    const run = await runPurge({ trigger: 'schedule', clientId: tenant.id }, deps);

    expect(run.report).toMatchObject({ openai_items_deleted: 3, errors: 0 });
    expect(customerWordsAtOpenAi(conversationId)).toEqual(['turno de hace 1 h']);
    const calls = [...itemRequests('GET', conversationId), ...itemRequests('DELETE', conversationId)];
    expect(calls.length).toBeGreaterThan(0);
    expect(new Set(calls.map((request) => request.keySuffix))).toEqual(new Set([TENANT_KEY.slice(-6)]));
  });

  it("given a tenant's own key refused, then only that tenant waits: the rest of the purge is done, the next run retries it", async () => {
    const failing = await newTenant('Clave revocada', { ownKey: REVOKED_KEY });
    const first = await activeContact(failing, '34600000011', [30, 1], REVOKED_KEY);
    const second = await activeContact(failing, '34600000012', [30, 1], REVOKED_KEY);
    const healthy = await newTenant('Sin problemas');
    const other = await activeContact(healthy, '34600000013', [30, 1]);
    openai.failNext(1, { status: 401 }, { method: 'GET', path: `/v1/conversations/${first}/items` });

    const run = await runPurge({ trigger: 'schedule' }, deps);

    expect(run.status).toBe('completed');
    expect(run.report.errors).toBe(1);
    // The refused tenant's OpenAI items wait for the next run; its other contact is not tried with
    // the refused key in this one (contacts are read in key order: 34600000011 first). The other
    // tenant, read after it (tenants are read in creation order), still is.
    expect(customerWordsAtOpenAi(first)).toHaveLength(2);
    expect(customerWordsAtOpenAi(second)).toHaveLength(2);
    expect(itemRequests('GET', second)).toHaveLength(0);
    // Everything else was done: its old messages in DynamoDB, and the other tenant at OpenAI too.
    for (const key of ['34600000011', '34600000012']) {
      const { items } = await conversations.listMessages(failing.id, key, { limit: 10 });
      expect(items.map((message) => message.text)).toEqual(['m1']);
    }
    expect(customerWordsAtOpenAi(other)).toEqual(['turno de hace 1 h']);

    const retried = await runPurge({ trigger: 'schedule', clientId: failing.id }, deps);

    expect(retried.report).toMatchObject({ openai_items_deleted: 6, errors: 0 });
    expect(customerWordsAtOpenAi(first)).toEqual(['turno de hace 1 h']);
    expect(customerWordsAtOpenAi(second)).toEqual(['turno de hace 1 h']);
  });

  it('given an OpenAI outage, then the run leaves OpenAI alone after the first failure and the next run catches up', async () => {
    const tenant = await newTenant('Caída de OpenAI');
    const first = await activeContact(tenant, '34600000041', [30, 1]);
    const second = await activeContact(tenant, '34600000042', [30, 1]);
    // Created later, so read after it (tenants are read in creation order), with a key of its own.
    const later = await newTenant('Otra clave propia', { ownKey: OTHER_KEY });
    const third = await activeContact(later, '34600000043', [30, 1], OTHER_KEY);
    openai.failNext(1, { status: 500 }, { method: 'GET', path: `/v1/conversations/${first}/items` });

    const run = await runPurge({ trigger: 'schedule' }, deps);

    expect(run.report.errors).toBe(1);
    // Not another call to OpenAI after the failure, whatever the key...
    expect(itemRequests('GET', second)).toHaveLength(0);
    expect(itemRequests('GET', third)).toHaveLength(0);
    // ...while DynamoDB was purged all the same.
    const { items } = await conversations.listMessages(later.id, '34600000043', { limit: 10 });
    expect(items.map((message) => message.text)).toEqual(['m1']);

    const next = await runPurge({ trigger: 'schedule' }, deps);

    expect(next.report).toMatchObject({ errors: 0, openai_items_deleted: 9 });
    for (const conversationId of [first, second, third])
      expect(customerWordsAtOpenAi(conversationId)).toEqual(['turno de hace 1 h']);
  });

  it('given an OpenAI outage while idle contacts are erased, then their messages go now and the contacts at the next run', async () => {
    const tenant = await newTenant('Inactivos en la caída');
    const first = await activeContact(tenant, '34600000051', [30], undefined, 30);
    const second = await activeContact(tenant, '34600000052', [30], undefined, 30);
    openai.failNext(1, { status: 503 }, { method: 'DELETE', path: `/v1/conversations/${first}` });

    const run = await runPurge({ trigger: 'schedule', clientId: tenant.id }, deps);

    expect(run.report).toMatchObject({ errors: 1, messages_deleted: 2, conversations_deleted: 0 });
    // The second is not tried at OpenAI after the failure; both keep their contact (and so the
    // conversation id the next run needs), their messages are gone.
    expect(openai.requestsTo('DELETE', `/v1/conversations/${second}`)).toHaveLength(0);
    for (const [key, conversationId] of [
      ['34600000051', first],
      ['34600000052', second],
    ] as const) {
      expect((await conversations.getContact(tenant.id, key))?.openai_conversation_id).toBe(conversationId);
      expect((await conversations.listMessages(tenant.id, key, { limit: 10 })).items).toEqual([]);
      expect(openai.conversations.has(conversationId)).toBe(true);
    }

    const next = await runPurge({ trigger: 'schedule', clientId: tenant.id }, deps);

    expect(next.report).toMatchObject({
      errors: 0,
      conversations_deleted: 2,
      openai_conversations_deleted: 2,
    });
    expect(openai.conversations.has(first) || openai.conversations.has(second)).toBe(false);
  });

  it('given a run that runs out of deletions, then it is partial and the next run deletes the rest', async () => {
    const tenant = await newTenant('Muchos turnos');
    const conversationId = await activeContact(tenant, '34600000021', [50, 40, 30, 1]);

    // The contact's 3 old messages go first (DynamoDB), then 2 of the 9 old items at OpenAI.
    const partial = await runPurge({ trigger: 'manual', clientId: tenant.id, maxDeletes: 5 }, deps);

    expect(partial.status).toBe('partial');
    expect(partial.report.openai_items_deleted).toBe(2);
    const rest = await runPurge({ trigger: 'manual', clientId: tenant.id }, deps);
    expect(rest.report.openai_items_deleted).toBe(7);
    expect(customerWordsAtOpenAi(conversationId)).toEqual(['turno de hace 1 h']);
  });

  it('given a retention of 0 (every contact idle), then whole conversations go as before, not item by item', async () => {
    const tenant = await newTenant('Cliente inactivo');
    const conversationId = await activeContact(tenant, '34600000031', [30]);
    await clients.patch(tenant.id, { retention_hours: 0 });

    const run = await runPurge({ trigger: 'schedule', clientId: tenant.id }, deps);

    expect(run.report).toMatchObject({ openai_conversations_deleted: 1, openai_items_deleted: 0 });
    expect(openai.conversations.has(conversationId)).toBe(false);
    expect(itemRequests('DELETE', conversationId)).toHaveLength(0);
  });
});
