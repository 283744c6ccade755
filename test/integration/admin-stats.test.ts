import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { createAdminApiHandler } from '../../functions/admin-api.ts';
import { ConversationStore } from '../../lib/conversation/conversation-store.ts';
import { RetentionStore } from '../../lib/retention/retention-store.ts';
import { createLocalSecretBox } from '../../lib/secrets/secret-box.ts';
import type { MessageTally } from '../../lib/stats/conversation-stats.ts';
import { DynamoStatsStore } from '../../lib/stats/dynamo-stats-store.ts';
import { hourOf, hourWindow, startOfHour } from '../../lib/stats/hour-buckets.ts';
import { statsKeys } from '../../lib/stats/stats-keys.ts';
import { statsReportSchema } from '../../lib/stats/stats-schemas.ts';
import { ClientRepository } from '../../lib/tenants/client-repository.ts';
import { apiEvent } from '../support/api-events.ts';
import { freshTable } from '../support/emulators.ts';
import { laPlazaFaqs } from '../support/fixtures.ts';
import { testClientService } from '../support/services.ts';
import { tenantApiDeps } from '../support/tenant-api-deps.ts';

const OPERATOR_KEY = 'op_test_key_0123456789';
const HOUR_MS = 3_600_000;
/** The report's clock: fixed, so the window's edges are known to the millisecond. */
const NOW = new Date();
const ago = (ms: number) => new Date(NOW.getTime() - ms);
const WINDOW = hourWindow(NOW, 24);

let handler: ReturnType<typeof createAdminApiHandler>;
let stats: DynamoStatsStore;
let db: Awaited<ReturnType<typeof freshTable>>['aws']['dynamo'];
let tableName: string;
const ids = { plaza: '', clinic: '', closed: '' };

const getStats = async (options: Parameters<typeof apiEvent>[2] = {}) => {
  const res = await handler(
    apiEvent('GET', '/admin/stats', {
      ...options,
      headers: { authorization: `Bearer ${OPERATOR_KEY}`, ...(options.headers ?? {}) },
    }),
  );
  return { status: res.statusCode, body: JSON.parse(res.body ?? 'null') };
};

let phoneSeq = 300000;
async function createClient(name: string): Promise<string> {
  const res = await handler(
    apiEvent('POST', '/clients', {
      headers: { authorization: `Bearer ${OPERATOR_KEY}` },
      body: { name, phone_number: '+34666777888', phone_number_id: String(phoneSeq++), faqs: laPlazaFaqs },
    }),
  );
  expect(res.statusCode).toBe(201);
  return JSON.parse(res.body!).id;
}

const recordAll = (tenantId: string, tallies: MessageTally[]) =>
  Promise.all(tallies.map((tally) => stats.record(tenantId, tally)));

beforeAll(async () => {
  const fresh = await freshTable();
  db = fresh.aws.dynamo;
  tableName = fresh.tableName;
  const repository = new ClientRepository(db, tableName);
  const secrets = createLocalSecretBox('test-local-secret-key');
  const service = testClientService(repository, secrets, { platformHasOpenAi: false });
  stats = new DynamoStatsStore(db, tableName);
  const purge = {
    clients: repository,
    store: new RetentionStore(db, tableName),
    secrets,
    openai: { deleteConversation: async () => false, deleteVectorStore: async () => false },
    platformOpenAiKey: async () => undefined,
  };
  handler = createAdminApiHandler(async () => ({
    service,
    conversations: new ConversationStore(db, tableName),
    purge,
    stats,
    operatorKey: OPERATOR_KEY,
    now: () => NOW,
    ...tenantApiDeps({ dynamo: db, tableName, service, secrets }),
  }));

  ids.plaza = await createClient('Restaurante La Plaza');
  ids.clinic = await createClient('Clínica Dental Sonrisa');
  ids.closed = await createClient('Bar Cerrado');
  const deleted = await handler(
    apiEvent('DELETE', `/clients/${ids.closed}`, { headers: { authorization: `Bearer ${OPERATOR_KEY}` } }),
  );
  expect(deleted.statusCode).toBe(200);

  await recordAll(ids.plaza, [
    // In the current hour.
    { at: NOW, messagesIn: 1, answered: 'openai', inputTokens: 100, outputTokens: 30 },
    { at: ago(60_000), messagesIn: 1, answered: 'fallback' },
    // The first instant of the oldest bucket: inside.
    { at: WINDOW.since, messagesIn: 1, answered: 'faq' },
    // One millisecond before it, and a day and more ago: outside.
    { at: new Date(WINDOW.since.getTime() - 1), messagesIn: 1, answered: 'openai', inputTokens: 999 },
    { at: ago(30 * HOUR_MS), messagesIn: 5, answered: 'openai', inputTokens: 999, outputTokens: 999 },
    // Media tallies (media_processed: no message of their own), inside and outside the window.
    { at: ago(60_000), transcriptionSeconds: 12 },
    { at: WINDOW.since, transcriptionSeconds: 30, imageInputs: 1 },
    { at: new Date(WINDOW.since.getTime() - 1), transcriptionSeconds: 999, imageInputs: 999 },
  ]);
  await recordAll(ids.clinic, [
    { at: ago(5 * HOUR_MS), messagesIn: 1, answered: 'declined' },
    { at: ago(5 * HOUR_MS - 1000), messagesIn: 1 },
    { at: ago(5 * HOUR_MS - 1000), imageInputs: 2 },
  ]);
  await recordAll(ids.closed, [{ at: ago(2 * HOUR_MS), messagesIn: 1, answered: 'faq' }]);
});

describe('GET /admin/stats', () => {
  it('given events inside and outside the last 24 hourly buckets, then each tenant sums only the inside ones', async () => {
    const { status, body } = await getStats();
    expect(status).toBe(200);
    expect(statsReportSchema.parse(body)).toEqual(body);
    expect(body).toMatchObject({
      window_hours: 24,
      since: WINDOW.since.toISOString(),
      until: NOW.toISOString(),
    });
    const byId = Object.fromEntries(body.tenants.map((t: { client_id: string }) => [t.client_id, t]));
    expect(byId[ids.plaza]).toEqual({
      client_id: ids.plaza,
      name: 'Restaurante La Plaza',
      active: true,
      messages_in: 3,
      answered: 3,
      by_responder: { openai: 1, faq: 1, fallback: 1, declined: 0 },
      fallbacks: 1,
      fallback_rate: 0.3333,
      input_tokens: 100,
      output_tokens: 30,
      transcription_seconds: 42,
      image_inputs: 1,
      last_message_at: NOW.toISOString(),
    });
    expect(byId[ids.clinic]).toMatchObject({
      messages_in: 2,
      answered: 1,
      by_responder: { openai: 0, faq: 0, fallback: 0, declined: 1 },
      fallbacks: 0,
      fallback_rate: 0,
      input_tokens: 0,
      transcription_seconds: 0,
      image_inputs: 2,
      last_message_at: ago(5 * HOUR_MS - 1000).toISOString(),
    });
    expect(byId[ids.closed]).toMatchObject({
      active: false,
      messages_in: 1,
      answered: 1,
      transcription_seconds: 0,
      image_inputs: 0,
    });
  });

  it('given three tenants, then the totals are their sums and the rate comes from the summed counts', async () => {
    const { body } = await getStats();
    expect(body.totals).toEqual({
      messages_in: 6,
      answered: 5,
      by_responder: { openai: 1, faq: 2, fallback: 1, declined: 1 },
      fallbacks: 1,
      fallback_rate: 0.2,
      input_tokens: 100,
      output_tokens: 30,
      transcription_seconds: 42,
      image_inputs: 3,
      last_message_at: NOW.toISOString(),
    });
  });

  it('given active_only=true, then the deactivated client and its counts are left out', async () => {
    const { status, body } = await getStats({ query: { active_only: 'true' } });
    expect(status).toBe(200);
    expect(body.tenants.map((t: { client_id: string }) => t.client_id).sort()).toEqual(
      [ids.plaza, ids.clinic].sort(),
    );
    expect(body.totals).toMatchObject({ messages_in: 5, answered: 4, image_inputs: 3 });
  });

  it('given a client with no statistics at all, then it is listed with zeros and no last message', async () => {
    const quiet = await createClient('Librería Tranquila');
    const { body } = await getStats();
    expect(body.tenants.find((t: { client_id: string }) => t.client_id === quiet)).toMatchObject({
      messages_in: 0,
      answered: 0,
      fallback_rate: null,
      transcription_seconds: 0,
      image_inputs: 0,
      last_message_at: null,
    });
  });

  it.each([
    ['an unknown parameter', { hours: '48' }],
    ['an active_only that is not true or false', { active_only: 'yes' }],
  ])('given %s, then 400', async (_, query) => {
    const { status, body } = await getStats({ query });
    expect(status).toBe(400);
    expect(body.error).toBe('validation_error');
  });

  it.each([
    ['no Authorization header', undefined],
    ['a key that is not the operator key (e.g. a tenant key)', 'Bearer wta_live_k1_0123456789abcdef'],
    ['the operator key in another scheme', `Basic ${OPERATOR_KEY}`],
  ])('given %s, then 401 and no statistics', async (_, authorization) => {
    const res = await handler(
      apiEvent('GET', '/admin/stats', authorization === undefined ? {} : { headers: { authorization } }),
    );
    expect(res.statusCode).toBe(401);
    expect(res.body).not.toContain('messages_in');
  });
});

describe('DynamoStatsStore.record', () => {
  it('given 50 parallel records for one tenant, in shuffled time order, then every count is added exactly once', async () => {
    const tenant = 'cl_parallel';
    const hourStart = startOfHour(hourOf(NOW)).getTime();
    // Times spread over the current hour, written in an order unrelated to them: many writes meet a
    // later time already stored and take the counters-only path.
    const offsets = Array.from({ length: 50 }, (_, i) => ((i * 37) % 50) * 60_000 + i);
    const kinds = ['openai', 'faq', 'fallback', 'declined'] as const;
    await Promise.all(
      offsets.map((offset, i) =>
        stats.record(tenant, {
          at: new Date(hourStart + offset),
          messagesIn: 1,
          answered: kinds[i % 4]!,
          inputTokens: i,
          outputTokens: 2,
          transcriptionSeconds: i % 3,
          imageInputs: i % 2,
        }),
      ),
    );
    const sums = (await stats.sumWindow([tenant], WINDOW)).get(tenant)!;
    expect(sums).toEqual({
      messages_in: 50,
      answered: 50,
      by_responder: { openai: 13, faq: 13, fallback: 12, declined: 12 },
      input_tokens: (49 * 50) / 2,
      output_tokens: 100,
      // 0,1,2 repeated: 16 full cycles (48 values, 3 each) and then 0, 1.
      transcription_seconds: 16 * 3 + 1,
      image_inputs: 25,
      last_message_at: new Date(hourStart + Math.max(...offsets)).toISOString(),
    });
  });

  it('given a later message recorded before an earlier one, then the time stays the later one and both count', async () => {
    const tenant = 'cl_out_of_order';
    await stats.record(tenant, { at: NOW, messagesIn: 1 });
    await stats.record(tenant, { at: new Date(startOfHour(hourOf(NOW)).getTime()), messagesIn: 1 });
    const sums = (await stats.sumWindow([tenant], WINDOW)).get(tenant)!;
    expect(sums).toMatchObject({ messages_in: 2, last_message_at: NOW.toISOString() });
  });

  it('stores counts and a time only, in the tenant partition, expiring 48 hours after its hour began', async () => {
    const tenant = 'cl_item_shape';
    await stats.record(tenant, {
      at: NOW,
      messagesIn: 1,
      answered: 'faq',
      inputTokens: 3,
      outputTokens: 4,
      transcriptionSeconds: 8,
      imageInputs: 1,
    });
    const key = statsKeys.hour(tenant, hourOf(NOW));
    const { Item } = await db.send(new GetCommand({ TableName: tableName, Key: key }));
    expect(Item).toEqual({
      ...key,
      item_type: 'tenant_stats_hour',
      expires_at: startOfHour(hourOf(NOW)).getTime() / 1000 + 48 * 3600,
      messages_in: 1,
      answered: 1,
      answered_faq: 1,
      input_tokens: 3,
      output_tokens: 4,
      transcription_seconds: 8,
      image_inputs: 1,
      last_message_at: NOW.toISOString(),
    });
  });

  it('given a media tally after its message, then it adds the media counts and leaves the message count and time alone', async () => {
    const tenant = 'cl_media_tally';
    await stats.record(tenant, { at: NOW, messagesIn: 1, answered: 'openai' });
    await stats.record(tenant, { at: new Date(NOW.getTime() + 500), transcriptionSeconds: 21 });
    await stats.record(tenant, { at: NOW, imageInputs: 1 });
    await stats.record(tenant, { at: NOW, transcriptionSeconds: 0, imageInputs: 0 });
    const sums = (await stats.sumWindow([tenant], WINDOW)).get(tenant)!;
    expect(sums).toMatchObject({
      messages_in: 1,
      answered: 1,
      transcription_seconds: 21,
      image_inputs: 1,
      last_message_at: NOW.toISOString(),
    });
  });

  it.each([
    ['negative transcription seconds', { transcriptionSeconds: -1 }],
    ['fractional transcription seconds', { transcriptionSeconds: 1.5 }],
    ['a negative image count', { imageInputs: -2 }],
    ['a fractional image count', { imageInputs: 0.25 }],
  ])('given %s, then RangeError and nothing is written', async (_, bad) => {
    const tenant = 'cl_bad_media';
    await expect(stats.record(tenant, { at: NOW, ...bad })).rejects.toThrow(RangeError);
    const { Item } = await db.send(
      new GetCommand({ TableName: tableName, Key: statsKeys.hour(tenant, hourOf(NOW)) }),
    );
    expect(Item).toBeUndefined();
  });
});
