import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { createAdminApiHandler } from '../../functions/admin-api.ts';
import { ConversationStore } from '../../lib/conversation/conversation-store.ts';
import { RetentionStore } from '../../lib/retention/retention-store.ts';
import { createLocalSecretBox } from '../../lib/secrets/secret-box.ts';
import type { MessageTally } from '../../lib/stats/conversation-stats.ts';
import { DAY_STATS_RETENTION_DAYS, DynamoStatsStore } from '../../lib/stats/dynamo-stats-store.ts';
import { hourWindow } from '../../lib/stats/hour-buckets.ts';
import { statsKeys } from '../../lib/stats/stats-keys.ts';
import { dailyStatsReportSchema, tenantDailyStatsSchema } from '../../lib/stats/stats-schemas.ts';
import { ClientRepository } from '../../lib/tenants/client-repository.ts';
import { apiEvent } from '../support/api-events.ts';
import { freshTable } from '../support/emulators.ts';
import { laPlazaFaqs } from '../support/fixtures.ts';
import { testClientService } from '../support/services.ts';
import { tenantApiDeps } from '../support/tenant-api-deps.ts';

/**
 * The daily statistics on DynamoDB Local through the admin API's handler: counts land in the UTC day
 * their message was received (midnight splits them), the 14-day report sums each tenant and all of
 * them, the hourly report is untouched by the daily items, and a tenant's own route and chart show
 * that tenant only.
 */

const OPERATOR_KEY = 'op_daily_key_0123456789';
/** The clock of the reports: 01:30 UTC, so "today" has begun 90 minutes ago. */
const NOW = new Date('2026-12-02T01:30:00.000Z');
const at = (iso: string) => new Date(iso);

let handler: ReturnType<typeof createAdminApiHandler>;
let stats: DynamoStatsStore;
let db: Awaited<ReturnType<typeof freshTable>>['aws']['dynamo'];
let tableName: string;
const ids = { plaza: '', clinic: '' };
const keys = { plaza: '', clinic: '' };

async function call(key: string, method: string, path: string, options: Parameters<typeof apiEvent>[2] = {}) {
  const res = await handler(
    apiEvent(method, path, {
      ...options,
      headers: { authorization: `Bearer ${key}`, ...(options.headers ?? {}) },
    }),
  );
  const type = String(res.headers?.['content-type'] ?? '');
  return {
    status: res.statusCode,
    type,
    raw: res.body ?? '',
    body: type.startsWith('application/json') ? JSON.parse(res.body ?? 'null') : undefined,
  };
}

let phoneSeq = 410000;
async function createClient(name: string): Promise<string> {
  const res = await call(OPERATOR_KEY, 'POST', '/clients', {
    body: { name, phone_number: '+34666777888', phone_number_id: String(phoneSeq++), faqs: laPlazaFaqs },
  });
  expect(res.status).toBe(201);
  return res.body.id;
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
  handler = createAdminApiHandler(async () => ({
    service,
    conversations: new ConversationStore(db, tableName),
    purge: {
      clients: repository,
      store: new RetentionStore(db, tableName),
      secrets,
      openai: { deleteConversation: async () => false, deleteVectorStore: async () => false },
      platformOpenAiKey: async () => undefined,
    },
    stats,
    operatorKey: OPERATOR_KEY,
    now: () => NOW,
    ...tenantApiDeps({ dynamo: db, tableName, service, secrets }),
  }));

  ids.plaza = await createClient('Restaurante La Plaza');
  ids.clinic = await createClient('Clínica <Sonrisa> & Co');
  for (const tenant of ['plaza', 'clinic'] as const) {
    const key = await call(OPERATOR_KEY, 'POST', `/clients/${ids[tenant]}/api-keys`);
    expect(key.status).toBe(201);
    keys[tenant] = key.body.api_key;
  }

  await recordAll(ids.plaza, [
    // Today (2 December) so far.
    { at: NOW, messagesIn: 1, answered: 'openai', inputTokens: 10 },
    { at: at('2026-12-02T00:00:00.000Z'), messagesIn: 1, answered: 'faq' },
    // The last instant of yesterday: yesterday's.
    { at: at('2026-12-01T23:59:59.999Z'), messagesIn: 1, answered: 'declined' },
    { at: at('2026-12-01T08:00:00.000Z'), messagesIn: 1 },
    // The first instant of the oldest day of 14 (19 November): inside; the day before: outside.
    { at: at('2026-11-19T00:00:00.000Z'), messagesIn: 1, answered: 'fallback' },
    { at: at('2026-11-18T23:59:59.999Z'), messagesIn: 7, answered: 'openai' },
    // Media (media_processed tallies): today, yesterday's last instant, and the day before the 14.
    { at: NOW, transcriptionSeconds: 20, imageInputs: 1 },
    { at: at('2026-12-01T23:59:59.999Z'), transcriptionSeconds: 5 },
    { at: at('2026-12-01T08:00:00.000Z'), imageInputs: 2 },
    { at: at('2026-11-18T23:59:59.999Z'), transcriptionSeconds: 900, imageInputs: 90 },
  ]);
  await recordAll(ids.clinic, [
    { at: at('2026-12-01T12:00:00.000Z'), messagesIn: 1, answered: 'faq' },
    { at: at('2026-12-01T12:00:01.000Z'), messagesIn: 1, answered: 'faq' },
    { at: at('2026-12-01T12:00:01.000Z'), transcriptionSeconds: 60 },
  ]);
});

const dayOfReport = (daily: Array<{ date: string }>, date: string) => daily.find((day) => day.date === date);

describe('daily buckets', () => {
  it('keeps one item per tenant per UTC day, expiring 16 days after the day began', async () => {
    const { Item } = await db.send(
      new GetCommand({ TableName: tableName, Key: statsKeys.day(ids.plaza, '2026-12-01') }),
    );
    expect(Item).toMatchObject({
      item_type: 'tenant_stats_day',
      messages_in: 2,
      answered: 1,
      answered_declined: 1,
      transcription_seconds: 5,
      image_inputs: 2,
      expires_at: Date.parse('2026-12-01T00:00:00Z') / 1000 + DAY_STATS_RETENTION_DAYS * 86_400,
    });
  });

  it('leaves the hourly report as it was (the daily items are not in its range)', async () => {
    const res = await call(OPERATOR_KEY, 'GET', '/admin/stats');
    expect(res.status).toBe(200);
    const plaza = res.body.tenants.find((t: { client_id: string }) => t.client_id === ids.plaza);
    // Buckets from 02:00 on 1 December: the four messages since 08:00 that day, not 19 November's.
    expect(hourWindow(NOW, 24).first).toBe('2026-12-01T02');
    expect(plaza).toMatchObject({
      messages_in: 4,
      answered: 3,
      input_tokens: 10,
      transcription_seconds: 25,
      image_inputs: 3,
    });
  });
});

describe('GET /admin/stats/daily', () => {
  it('given two tenants, then each per UTC day over 14 days, and their sums per day', async () => {
    const res = await call(OPERATOR_KEY, 'GET', '/admin/stats/daily', { query: { days: '14' } });
    expect(res.status).toBe(200);
    expect(dailyStatsReportSchema.parse(res.body)).toEqual(res.body);
    expect(res.body).toMatchObject({
      days: 14,
      first_day: '2026-11-19',
      last_day: '2026-12-02',
      since: '2026-11-19T00:00:00.000Z',
      until: NOW.toISOString(),
    });
    const plaza = res.body.tenants.find((t: { client_id: string }) => t.client_id === ids.plaza);
    const clinic = res.body.tenants.find((t: { client_id: string }) => t.client_id === ids.clinic);
    expect(plaza.daily).toHaveLength(14);
    expect(dayOfReport(plaza.daily, '2026-12-02')).toMatchObject({
      messages_in: 2,
      answered: 2,
      transcription_seconds: 20,
      image_inputs: 1,
    });
    expect(dayOfReport(plaza.daily, '2026-12-01')).toMatchObject({
      messages_in: 2,
      answered: 1,
      by_responder: { openai: 0, faq: 0, fallback: 0, declined: 1 },
      transcription_seconds: 5,
      image_inputs: 2,
    });
    expect(dayOfReport(plaza.daily, '2026-11-19')).toMatchObject({ messages_in: 1, answered: 1 });
    expect(dayOfReport(plaza.daily, '2026-11-18')).toBeUndefined();
    expect(plaza).toMatchObject({
      messages_in: 5,
      answered: 4,
      answer_shares: { openai: 0.25, faq: 0.25, fallback: 0.25, declined: 0.25 },
      transcription_seconds: 25,
      image_inputs: 3,
    });
    expect(clinic).toMatchObject({
      name: 'Clínica <Sonrisa> & Co',
      messages_in: 2,
      answered: 2,
      transcription_seconds: 60,
      image_inputs: 0,
    });
    expect(dayOfReport(res.body.totals.daily, '2026-12-01')).toMatchObject({
      messages_in: 4,
      answered: 3,
      transcription_seconds: 65,
      image_inputs: 2,
    });
    expect(res.body.totals).toMatchObject({
      messages_in: 7,
      answered: 6,
      transcription_seconds: 85,
      image_inputs: 3,
    });
    expect(dayOfReport(res.body.totals.daily, '2026-11-25')).toEqual({
      date: '2026-11-25',
      messages_in: 0,
      answered: 0,
      by_responder: { openai: 0, faq: 0, fallback: 0, declined: 0 },
      transcription_seconds: 0,
      image_inputs: 0,
      billable: { total: 0, by_category: {} },
    });
  });

  it('given days=2, then only today and yesterday', async () => {
    const res = await call(OPERATOR_KEY, 'GET', '/admin/stats/daily', { query: { days: '2' } });
    expect(res.body.totals.daily.map((day: { date: string }) => day.date)).toEqual([
      '2026-12-01',
      '2026-12-02',
    ]);
    expect(res.body.totals).toMatchObject({
      messages_in: 6,
      answered: 5,
      transcription_seconds: 85,
      image_inputs: 3,
    });
    const oneDay = await call(OPERATOR_KEY, 'GET', '/admin/stats/daily', { query: { days: '1' } });
    expect(oneDay.body.totals).toMatchObject({ transcription_seconds: 20, image_inputs: 1 });
  });

  it.each([['0'], ['15'], ['1.5'], ['catorce']])('given days=%s, then 400', async (days) => {
    const res = await call(OPERATOR_KEY, 'GET', '/admin/stats/daily', { query: { days } });
    expect(res.status).toBe(400);
    expect(res.body.details[0].field).toBe('days');
  });

  it("refuses a tenant's key", async () => {
    expect((await call(keys.plaza, 'GET', '/admin/stats/daily')).status).toBe(403);
    expect((await call(keys.plaza, 'GET', '/admin/stats/chart.svg')).status).toBe(403);
  });
});

describe('GET /tenant/stats/daily', () => {
  it("given each tenant's key, then its own days only", async () => {
    const plaza = await call(keys.plaza, 'GET', '/tenant/stats/daily');
    expect(plaza.status).toBe(200);
    expect(tenantDailyStatsSchema.parse(plaza.body)).toEqual(plaza.body);
    expect(plaza.body).toMatchObject({
      client_id: ids.plaza,
      days: 14,
      messages_in: 5,
      answered: 4,
      transcription_seconds: 25,
      image_inputs: 3,
    });
    const clinic = await call(keys.clinic, 'GET', '/tenant/stats/daily', { query: { days: '3' } });
    expect(clinic.body).toMatchObject({
      client_id: ids.clinic,
      days: 3,
      messages_in: 2,
      answered: 2,
      transcription_seconds: 60,
      image_inputs: 0,
    });
    expect(clinic.body.daily.map((day: { image_inputs: number }) => day.image_inputs)).toEqual([0, 0, 0]);
    expect(JSON.stringify(clinic.body)).not.toContain(ids.plaza);
  });

  it('takes no client from the query, and no operator key', async () => {
    const named = await call(keys.clinic, 'GET', '/tenant/stats/daily', { query: { client_id: ids.plaza } });
    expect(named.status).toBe(400);
    expect((await call(OPERATOR_KEY, 'GET', '/tenant/stats/daily')).status).toBe(403);
    expect((await call(OPERATOR_KEY, 'GET', '/tenant/stats/chart.svg')).status).toBe(403);
  });
});

describe('the charts', () => {
  it("draws a tenant's own days, its name escaped, in its language", async () => {
    const res = await call(keys.clinic, 'GET', '/tenant/stats/chart.svg');
    expect(res.status).toBe(200);
    expect(res.type).toBe('image/svg+xml; charset=utf-8');
    expect(res.raw).toContain('<title id="chart-title">Clínica &lt;Sonrisa&gt; &amp; Co: Mensajes por día');
    expect(res.raw).toContain('Mensajes recibidos en los últimos 14 días: 2; respondidos: 2.');
    expect(res.raw).not.toContain('La Plaza');
    expect(res.raw).not.toContain('<script');
  });

  it('draws every tenant for the operator, in the language the browser asks for', async () => {
    const res = await call(OPERATOR_KEY, 'GET', '/admin/stats/chart.svg', {
      headers: { 'accept-language': 'en-GB,en;q=0.9' },
    });
    expect(res.status).toBe(200);
    expect(res.raw).toContain(
      '<title id="chart-title">All clients: Messages per day, last 14 days (UTC)</title>',
    );
    expect(res.raw).toContain('Messages received in the last 14 days: 7; answered: 6.');
    const spanish = await call(OPERATOR_KEY, 'GET', '/admin/stats/chart.svg', {
      query: { lang: 'es', v: '1' },
    });
    expect(spanish.raw).toContain('Todos los clientes');
  });
});

describe('billable messages (from the pricing of status webhooks)', () => {
  it('given statuses of the same message counted again, then each message once, per category, in both reports', async () => {
    const today = at('2026-12-02T01:00:00.000Z');
    await stats.recordBillable(ids.clinic, { messageId: 'wamid.bill.1', at: today, category: 'service' });
    await stats.recordBillable(ids.clinic, { messageId: 'wamid.bill.1', at: today, category: 'service' });
    await stats.recordBillable(ids.clinic, { messageId: 'wamid.bill.2', at: today, category: 'utility' });
    await stats.recordBillable(ids.clinic, {
      messageId: 'wamid.bill.3',
      at: today,
      category: 'Odd Category!',
    });

    const own = tenantDailyStatsSchema.parse((await call(keys.clinic, 'GET', '/tenant/stats/daily')).body);
    expect(own.billable).toEqual({ total: 3, by_category: { service: 1, utility: 1, other: 1 } });
    expect(own.daily.at(-1)?.billable.total).toBe(3);
    expect(own.daily.at(-2)?.billable).toEqual({ total: 0, by_category: {} });

    const report = dailyStatsReportSchema.parse(
      (await call(OPERATOR_KEY, 'GET', '/admin/stats/daily', { query: { days: '2' } })).body,
    );
    expect(report.tenants.find((t) => t.client_id === ids.plaza)?.billable.total).toBe(0);
    expect(report.totals.billable).toEqual({ total: 3, by_category: { service: 1, utility: 1, other: 1 } });
  });
});
