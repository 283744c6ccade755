import { CreateBucketCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createPurgeHandler } from '../../functions/purge.ts';
import type { AwsClients } from '../../lib/aws-clients.ts';
import { ConversationStore } from '../../lib/conversation/conversation-store.ts';
import { burstKeys, claimKeys } from '../../lib/conversation/keys.ts';
import { InMemoryTelemetry } from '../../lib/observability/telemetry.ts';
import { createOpenAiClient } from '../../lib/openai/openai-client.ts';
import { deleteConversation } from '../../lib/openai/openai-responder.ts';
import { createFaqVectorStore, deleteFaqVectorStore } from '../../lib/openai/vector-store.ts';
import { createS3MediaStore } from '../../lib/retention/media-store.ts';
import { deletionsIn, eraseContact, type PurgeDeps, runPurge } from '../../lib/retention/purge.ts';
import { RetentionStore } from '../../lib/retention/retention-store.ts';
import { createLocalSecretBox } from '../../lib/secrets/secret-box.ts';
import type { Client } from '../../lib/tenants/client.ts';
import { ClientRepository } from '../../lib/tenants/client-repository.ts';
import type { ClientService } from '../../lib/tenants/client-service.ts';
import { type FakeOpenAi, startFakeOpenAi } from '../fakes/openai-server.ts';
import { freshTable, uniqueName } from '../support/emulators.ts';
import { laPlazaFaqs } from '../support/fixtures.ts';
import { testClientService } from '../support/services.ts';

/** The retention purge and erasure on DynamoDB Local, fauxqs S3 and the OpenAI fake (real client). */

let aws: AwsClients;
let tableName: string;
let openai: FakeOpenAi;
let clients: ClientRepository;
let conversations: ConversationStore;
let service: ClientService;
let deps: PurgeDeps;
let bucket: string;
const secrets = createLocalSecretBox('purge-test-key');
let numberSeq = 555000100;

beforeAll(async () => {
  ({ aws, tableName } = await freshTable());
  openai = await startFakeOpenAi();
  clients = new ClientRepository(aws.dynamo, tableName);
  conversations = new ConversationStore(aws.dynamo, tableName);
  service = testClientService(clients, secrets, { platformHasOpenAi: true });
  bucket = uniqueName('media');
  await aws.s3.send(new CreateBucketCommand({ Bucket: bucket }));
  deps = {
    clients,
    store: new RetentionStore(aws.dynamo, tableName),
    secrets,
    platformOpenAiKey: async () => openai.key,
    openai: {
      deleteConversation: (apiKey, conversationId) =>
        deleteConversation({ apiKey, conversationId, baseURL: openai.url, retries: 0 }),
      deleteVectorStore: async (apiKey, vectorStoreId, fileId) =>
        (
          await deleteFaqVectorStore({
            apiKey,
            vectorStoreId,
            ...(fileId ? { fileId } : {}),
            baseURL: openai.url,
          })
        ).vectorStoreDeleted,
    },
    media: createS3MediaStore(aws.s3, bucket),
  };
});

afterAll(async () => {
  await openai?.stop();
});

let tenant: Client;
let other: Client;

beforeEach(async () => {
  const make = (name: string) =>
    service.create({
      name,
      phone_number: '+34666777888',
      phone_number_id: String(numberSeq++),
      faqs: laPlazaFaqs,
      language: 'es',
      bot_enabled: true,
      retention_hours: 24,
    });
  tenant = await make('Restaurante La Plaza');
  other = await make('Otro Restaurante');
});

const hoursAgo = (hours: number) => new Date(Date.now() - hours * 3600_000);

/** A contact whose last activity was `lastActivityHours` ago, with messages of the given ages. */
async function seedContact(
  client: Client,
  key: string,
  options: { lastActivityHours: number; messageAges: number[]; openai?: boolean },
) {
  await conversations.touchInbound(
    client.id,
    { key, wa_id: key },
    hoursAgo(options.lastActivityHours),
    24 * 30,
  );
  options.messageAges.forEach(async () => undefined);
  for (const [i, age] of options.messageAges.entries()) {
    await conversations.putMessage(
      client.id,
      key,
      {
        id: `wamid.${key}.${i}`,
        direction: i % 2 ? 'outbound' : 'inbound',
        type: 'text',
        text: `m${i}`,
        at: hoursAgo(age).toISOString(),
      },
      24 * 30,
    );
  }
  if (options.openai) {
    const conversation = await createOpenAiClient({
      apiKey: openai.key,
      baseURL: openai.url,
    }).conversations.create({});
    await conversations.updateContact(client.id, key, { openai_conversation_id: conversation.id });
    return conversation.id;
  }
  return undefined;
}

const messageCount = async (client: Client, key: string) =>
  (await conversations.listMessages(client.id, key, { limit: 100 })).items.length;

describe('the retention purge', () => {
  it('given fresh data and the default retention, then nothing is deleted', async () => {
    await seedContact(tenant, '34600000001', { lastActivityHours: 1, messageAges: [2, 1], openai: true });
    const run = await runPurge({ trigger: 'schedule', clientId: tenant.id }, deps);
    expect(run.status).toBe('completed');
    expect(run.report).toMatchObject({
      messages_deleted: 0,
      conversations_deleted: 0,
      openai_conversations_deleted: 0,
      errors: 0,
    });
    expect(await messageCount(tenant, '34600000001')).toBe(2);
  });

  it('given zero retention, then messages, conversations and OpenAI conversations are deleted', async () => {
    const conversationId = await seedContact(tenant, '34600000002', {
      lastActivityHours: 1,
      messageAges: [2, 1, 0.5],
      openai: true,
    });
    await service.update(tenant.id, { retention_hours: 0 });
    const run = await runPurge({ trigger: 'schedule', clientId: tenant.id }, deps);
    expect(run.report).toMatchObject({
      messages_deleted: 3,
      conversations_deleted: 1,
      openai_conversations_deleted: 1,
      errors: 0,
    });
    expect(await conversations.getContact(tenant.id, '34600000002')).toBeUndefined();
    expect(openai.conversations.has(conversationId!)).toBe(false);
  });

  it('given a run that deletes, then the run and every deletion of its report are counted', async () => {
    await seedContact(tenant, '34600000005', { lastActivityHours: 1, messageAges: [2, 1], openai: true });
    await service.update(tenant.id, { retention_hours: 0 });
    const telemetry = new InMemoryTelemetry();

    const run = await runPurge({ trigger: 'manual', clientId: tenant.id }, { ...deps, telemetry });

    expect(deletionsIn(run.report)).toBeGreaterThanOrEqual(4); // 2 messages, the contact, its OpenAI conversation
    expect(telemetry.total('PurgeRuns')).toBe(1);
    expect(telemetry.total('PurgeItemsDeleted')).toBe(deletionsIn(run.report));
  });

  it('given the scheduled function, then its run is counted and flushed once, with no tenant as metadata', async () => {
    const telemetry = new InMemoryTelemetry();
    const handler = createPurgeHandler(async () => deps, { telemetry });

    const result = await handler({});

    expect(result.status).toBe('completed');
    expect(telemetry.total('PurgeRuns')).toBe(1);
    expect(telemetry.flushes).toEqual([{}]);
  });

  it('given an active contact with old and new messages, then only the old ones go', async () => {
    await seedContact(tenant, '34600000003', { lastActivityHours: 1, messageAges: [50, 30, 2, 1] });
    const run = await runPurge({ trigger: 'schedule', clientId: tenant.id }, deps);
    expect(run.report.messages_deleted).toBe(2);
    expect(run.report.conversations_deleted).toBe(0);
    expect(
      (await conversations.listMessages(tenant.id, '34600000003', { limit: 10 })).items.map((m) => m.text),
    ).toEqual(['m3', 'm2']);
  });

  it('given older_than_hours, then it overrides the retention of the client', async () => {
    await seedContact(tenant, '34600000004', { lastActivityHours: 3, messageAges: [5, 3] });
    const run = await runPurge({ trigger: 'manual', clientId: tenant.id, olderThanHours: 2 }, deps);
    expect(run.report).toMatchObject({ messages_deleted: 2, conversations_deleted: 1 });
  });

  it('given two runs that overlap, then nothing is deleted (or counted) twice and neither fails', async () => {
    const keys = Array.from({ length: 6 }, (_, i) => `3460001000${i}`);
    for (const key of keys)
      await seedContact(tenant, key, { lastActivityHours: 30, messageAges: [40, 35, 31], openai: true });
    const [a, b] = await Promise.all([
      runPurge({ trigger: 'schedule', clientId: tenant.id }, deps),
      runPurge({ trigger: 'manual', clientId: tenant.id }, deps),
    ]);
    expect(a.status).not.toBe('failed');
    expect(b.status).not.toBe('failed');
    expect(a.report.errors + b.report.errors).toBe(0);
    expect(a.report.messages_deleted + b.report.messages_deleted).toBe(18);
    expect(a.report.conversations_deleted + b.report.conversations_deleted).toBe(6);
    expect(a.report.openai_conversations_deleted + b.report.openai_conversations_deleted).toBe(6);
  });

  it('given a run stopped halfway by its budget, then the next run finishes the work', async () => {
    const keys = Array.from({ length: 4 }, (_, i) => `3460002000${i}`);
    for (const key of keys)
      await seedContact(tenant, key, { lastActivityHours: 30, messageAges: [40, 35, 31] });
    const first = await runPurge({ trigger: 'schedule', clientId: tenant.id, maxDeletes: 5 }, deps);
    expect(first.status).toBe('partial');
    expect(first.report.complete).toBe(false);
    const second = await runPurge({ trigger: 'schedule', clientId: tenant.id }, deps);
    expect(second.status).toBe('completed');
    expect(first.report.messages_deleted + second.report.messages_deleted).toBe(12);
    expect(first.report.conversations_deleted + second.report.conversations_deleted).toBe(4);
    for (const key of keys) expect(await conversations.getContact(tenant.id, key)).toBeUndefined();
  });

  it('given an OpenAI conversation that is already gone (404), then it is not an error', async () => {
    const conversationId = await seedContact(tenant, '34600000005', {
      lastActivityHours: 30,
      messageAges: [31],
      openai: true,
    });
    await createOpenAiClient({ apiKey: openai.key, baseURL: openai.url }).conversations.delete(
      conversationId!,
    );
    const run = await runPurge({ trigger: 'schedule', clientId: tenant.id }, deps);
    expect(run.report).toMatchObject({
      errors: 0,
      openai_conversations_deleted: 0,
      conversations_deleted: 1,
      messages_deleted: 1,
    });
    expect(openai.requestsTo('DELETE', `/v1/conversations/${conversationId}`).at(-1)?.status).toBe(404);
  });

  it('given OpenAI failing, then the contact is kept for the next run (its conversation id is not lost)', async () => {
    await seedContact(tenant, '34600000006', { lastActivityHours: 30, messageAges: [31], openai: true });
    openai.failNext(1, { status: 500 }, { method: 'DELETE', path: /\/v1\/conversations\// });
    const first = await runPurge({ trigger: 'schedule', clientId: tenant.id }, deps);
    expect(first.report.errors).toBe(1);
    expect(await conversations.getContact(tenant.id, '34600000006')).toBeDefined();
    const second = await runPurge({ trigger: 'schedule', clientId: tenant.id }, deps);
    expect(second.report).toMatchObject({
      errors: 0,
      openai_conversations_deleted: 1,
      conversations_deleted: 1,
    });
  });

  it('deletes idempotency claims past their use and keeps live ones', async () => {
    const past = Math.floor(Date.now() / 1000) - 60;
    const future = Math.floor(Date.now() / 1000) + 3600;
    await aws.dynamo.send(
      new PutCommand({
        TableName: tableName,
        Item: { ...claimKeys.claim(tenant.id, 'wamid.OLD'), state: 'done', expires_at: past },
      }),
    );
    await aws.dynamo.send(
      new PutCommand({
        TableName: tableName,
        Item: { ...claimKeys.claim(tenant.id, 'wamid.NEW'), state: 'done', expires_at: future },
      }),
    );
    const run = await runPurge({ trigger: 'schedule', clientId: tenant.id }, deps);
    expect(run.report.idempotency_records_deleted).toBe(1);
  });

  it('deletes reply bursts past their TTL with the claims and keeps live ones', async () => {
    const past = Math.floor(Date.now() / 1000) - 60;
    const future = Math.floor(Date.now() / 1000) + 3600;
    for (const [key, expires] of [
      ['34600000031', past],
      ['34600000032', future],
    ] as const) {
      await aws.dynamo.send(
        new PutCommand({
          TableName: tableName,
          Item: { ...burstKeys.burst(tenant.id, key), seq: 1, pending: [], expires_at: expires },
        }),
      );
    }
    const run = await runPurge({ trigger: 'schedule', clientId: tenant.id }, deps);
    expect(run.report.idempotency_records_deleted).toBe(1);
    expect(await burstItem(tenant, '34600000031')).toBeUndefined();
    expect(await burstItem(tenant, '34600000032')).toBeDefined();
  });

  it('deletes stored media past the retention, only under the tenant\u2019s prefix', async () => {
    for (const key of [`${tenant.id}/a.jpg`, `${tenant.id}/b.ogg`, `${other.id}/c.jpg`]) {
      await aws.s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: 'x' }));
    }
    const run = await runPurge({ trigger: 'manual', clientId: tenant.id, olderThanHours: 0 }, deps);
    expect(run.report.media_objects_deleted).toBe(2);
    const left = await aws.s3.send(new ListObjectsV2Command({ Bucket: bucket }));
    expect((left.Contents ?? []).map((o) => o.Key)).toContain(`${other.id}/c.jpg`);
  });

  it('erases everything a client deleted more than 30 days ago left, including its vector store', async () => {
    await seedContact(tenant, '34600000007', { lastActivityHours: 1, messageAges: [1], openai: true });
    const store = await createFaqVectorStore({
      apiKey: openai.key,
      name: 'x',
      faqs: laPlazaFaqs,
      baseURL: openai.url,
      pollIntervalMs: 1,
    });
    await clients.patch(tenant.id, {
      assistant: {
        ...tenant.assistant,
        vector_store_id: store.vectorStoreId,
        vector_store_file_id: store.fileId,
      },
    });
    await aws.s3.send(new PutObjectCommand({ Bucket: bucket, Key: `${tenant.id}/z.jpg`, Body: 'x' }));
    await service.deactivate(tenant.id);
    await clients.patch(tenant.id, { deactivated_at: hoursAgo(31 * 24).toISOString() });
    await seedContact(other, '34600000007', { lastActivityHours: 1, messageAges: [1] });

    const run = await runPurge({ trigger: 'schedule' }, deps);
    expect(run.report.clients_erased).toBeGreaterThanOrEqual(1);
    expect(await clients.get(tenant.id)).toBeUndefined();
    expect(await clients.findRoute(tenant.phone_number_id)).toBeUndefined();
    expect(openai.vectorStores.has(store.vectorStoreId)).toBe(false);
    expect(await messageCount(tenant, '34600000007')).toBe(0);
    // The other tenant's data with the same contact is untouched.
    expect(await messageCount(other, '34600000007')).toBe(1);
  });

  it('keeps a record of every run with its report', async () => {
    const run = await runPurge({ trigger: 'manual', clientId: tenant.id, olderThanHours: 0 }, deps);
    const runs = await deps.store.listRuns(50);
    const recorded = runs.find((r) => r.run_id === run.run_id);
    expect(recorded).toMatchObject({
      trigger: 'manual',
      status: 'completed',
      scope: { client_id: tenant.id, older_than_hours: 0 },
    });
    expect(recorded?.report).toMatchObject({ messages_deleted: 0 });
  });
});

describe('erasure of one contact', () => {
  it('erases the contact\u2019s messages, state and OpenAI conversation, and nothing of anyone else', async () => {
    const conversationId = await seedContact(tenant, '34600000008', {
      lastActivityHours: 1,
      messageAges: [3, 2, 1],
      openai: true,
    });
    await seedContact(tenant, '34600000009', { lastActivityHours: 1, messageAges: [1] });
    await seedContact(other, '34600000008', { lastActivityHours: 1, messageAges: [1] });
    const result = await eraseContact(tenant.id, '34600000008', deps);
    expect(result).toEqual({
      contact: '34600000008',
      messages_deleted: 3,
      conversations_deleted: 1,
      openai_conversations_deleted: 1,
    });
    expect(await conversations.getContact(tenant.id, '34600000008')).toBeUndefined();
    expect(openai.conversations.has(conversationId!)).toBe(false);
    expect(await messageCount(tenant, '34600000009')).toBe(1);
    expect(await messageCount(other, '34600000008')).toBe(1);
    await expect(eraseContact(tenant.id, '34600000008', deps)).rejects.toMatchObject({ status: 404 });
  });

  it('erases the contact\u2019s reply burst (messages waiting for an answer) and no one else\u2019s', async () => {
    for (const [client, key] of [
      [tenant, '34600000018'],
      [tenant, '34600000019'],
      [other, '34600000018'],
    ] as const) {
      await seedContact(client, key, { lastActivityHours: 1, messageAges: [1] });
      await aws.dynamo.send(
        new PutCommand({
          TableName: tableName,
          Item: {
            ...burstKeys.burst(client.id, key),
            seq: 1,
            pending: [{ id: `wamid.${key}.0`, text: 'm0' }],
            expires_at: Math.floor(Date.now() / 1000) + 3600,
          },
        }),
      );
    }
    await eraseContact(tenant.id, '34600000018', deps);
    expect(await burstItem(tenant, '34600000018')).toBeUndefined();
    expect(await burstItem(tenant, '34600000019')).toBeDefined();
    expect(await burstItem(other, '34600000018')).toBeDefined();
  });
});

const burstItem = async (client: Client, key: string) =>
  (await aws.dynamo.send(new GetCommand({ TableName: tableName, Key: burstKeys.burst(client.id, key) })))
    .Item;

describe('the purge under load and races', () => {
  it('given many live claims before the expired ones, then it still finds them and goes on to the next tenant', async () => {
    const now = Math.floor(Date.now() / 1000);
    for (let i = 0; i < 260; i++) {
      await aws.dynamo.send(
        new PutCommand({
          TableName: tableName,
          Item: {
            ...claimKeys.claim(tenant.id, `wamid.A${String(i).padStart(4, '0')}`),
            state: 'done',
            expires_at: now + 3600,
          },
        }),
      );
    }
    for (let i = 0; i < 5; i++) {
      await aws.dynamo.send(
        new PutCommand({
          TableName: tableName,
          Item: { ...claimKeys.claim(tenant.id, `wamid.Z${i}`), state: 'done', expires_at: now - 60 },
        }),
      );
    }
    await seedContact(other, '34600000099', { lastActivityHours: 30, messageAges: [31] });
    const first = await runPurge({ trigger: 'schedule', clientId: tenant.id, timeBudgetMs: 20_000 }, deps);
    expect(first.status).toBe('completed');
    expect(first.report.idempotency_records_deleted).toBe(5);
    const second = await runPurge({ trigger: 'schedule', clientId: other.id }, deps);
    expect(second.report.conversations_deleted).toBe(1);
  });

  it('given a customer who writes while their idle conversation is being purged, then the new message and the contact survive', async () => {
    const key = '34600000098';
    await seedContact(tenant, key, { lastActivityHours: 30, messageAges: [31, 30.5] });
    let wrote = false;
    const racing: PurgeDeps = {
      ...deps,
      store: Object.assign(Object.create(Object.getPrototypeOf(deps.store)), deps.store, {
        deleteMessages: async (...args: Parameters<RetentionStore['deleteMessages']>) => {
          if (!wrote) {
            wrote = true; // the worker records a new inbound message right now
            await conversations.touchInbound(tenant.id, { key, wa_id: key }, new Date(), 24);
            await conversations.putMessage(
              tenant.id,
              key,
              {
                id: 'wamid.NEW',
                direction: 'inbound',
                type: 'text',
                text: 'hola otra vez',
                at: new Date().toISOString(),
              },
              24,
            );
          }
          return deps.store.deleteMessages(...args);
        },
      }),
    };
    const run = await runPurge({ trigger: 'schedule', clientId: tenant.id }, racing);
    expect(run.report.messages_deleted).toBe(2);
    expect(run.report.conversations_deleted).toBe(0);
    expect((await conversations.listMessages(tenant.id, key, { limit: 10 })).items.map((m) => m.id)).toEqual([
      'wamid.NEW',
    ]);
    // The contact is released: a later purge may take it again once it is idle.
    expect(await deps.store.takeContactForErasure(tenant.id, key, 'later-run', 1000)).toMatchObject({
      outcome: 'taken',
    });
  });

  it('given OpenAI failing while a deleted client is erased, then the client is kept until its conversations are gone', async () => {
    await seedContact(tenant, '34600000097', { lastActivityHours: 1, messageAges: [1], openai: true });
    await service.deactivate(tenant.id);
    await clients.patch(tenant.id, { deactivated_at: hoursAgo(31 * 24).toISOString() });
    openai.failNext(1, { status: 503 }, { method: 'DELETE', path: /\/v1\/conversations\// });
    const first = await runPurge({ trigger: 'schedule', clientId: tenant.id }, deps);
    expect(first.report).toMatchObject({ clients_erased: 0, errors: 1 });
    expect(await conversations.getContact(tenant.id, '34600000097')).toBeDefined();
    expect(await clients.get(tenant.id)).toBeDefined();
    const second = await runPurge({ trigger: 'schedule', clientId: tenant.id }, deps);
    expect(second.report).toMatchObject({ clients_erased: 1, openai_conversations_deleted: 1 });
  });

  it('keeps contacts longer than their messages, so the purge and not TTL erases them', async () => {
    const at = new Date();
    await conversations.touchInbound(tenant.id, { key: '34600000096' }, at, 24);
    const { Item } = await aws.dynamo.send(
      new GetCommand({ TableName: tableName, Key: { pk: `CLIENT#${tenant.id}`, sk: 'CONTACT#34600000096' } }),
    );
    expect(Item?.expires_at).toBeGreaterThanOrEqual(Math.floor(at.getTime() / 1000) + (24 + 72) * 3600 - 1);
  });
});
