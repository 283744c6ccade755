import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createAssistantHandler } from '../../functions/assistant.ts';
import {
  buildStatusPayload,
  type StandaloneSimulator,
  startStandaloneSimulator,
} from '../../infra/local/whatsapp-simulator.ts';
import type { AwsClients } from '../../lib/aws-clients.ts';
import type { AnswerDeps } from '../../lib/conversation/answer-message.ts';
import { ConversationStore } from '../../lib/conversation/conversation-store.ts';
import { withFallback } from '../../lib/conversation/fallback-responder.ts';
import { MessageClaims } from '../../lib/conversation/message-claims.ts';
import { sendFifoMessages } from '../../lib/queue/sqs-publisher.ts';
import { createFaqResponder } from '../../lib/responders/faq-responder.ts';
import { createLocalSecretBox } from '../../lib/secrets/secret-box.ts';
import { dayWindow } from '../../lib/stats/day-buckets.ts';
import { DynamoStatsStore } from '../../lib/stats/dynamo-stats-store.ts';
import { TemplateCatalog } from '../../lib/templates/template-catalog.ts';
import type { Client } from '../../lib/tenants/client.ts';
import { ClientRepository } from '../../lib/tenants/client-repository.ts';
import { receiveWebhook } from '../../lib/webhook/receive-webhook.ts';
import { signWebhookBody } from '../../lib/webhook/signature.ts';
import { createCachedTenantRouter } from '../../lib/webhook/tenant-router.ts';
import { createGraphClient } from '../../lib/whatsapp/graph-client.ts';
import { manualClock } from '../fakes/conversation-ports.ts';
import { drainQueue, freshFifoQueue, freshTable } from '../support/emulators.ts';
import { laPlazaFaqs, metaJson } from '../support/fixtures.ts';
import { testClientService } from '../support/services.ts';

/**
 * The 24-hour window end to end on the emulators: webhook → SQS FIFO → assistant → the Graph
 * stand-in, which records template sends like Meta (checked against the WABA's approved templates)
 * and can refuse a text with 131047; the pricing of the statuses that follow lands in the daily
 * statistics once per message.
 */

const APP_SECRET = 'window-app-secret';
const HOUR = 3_600_000;

let aws: AwsClients;
let tableName: string;
let graph: StandaloneSimulator;
let clients: ClientRepository;
let conversations: ConversationStore;
let stats: DynamoStatsStore;
let deps: AnswerDeps;
let clock: ReturnType<typeof manualClock>;
let queue: { url: string; arn: string };
let plaza: Client;
let numberSeq = 771000;
let contactSeq = 34622000000;

const secrets = createLocalSecretBox('window-local-key');

beforeAll(async () => {
  ({ aws, tableName } = await freshTable());
  clients = new ClientRepository(aws.dynamo, tableName);
  conversations = new ConversationStore(aws.dynamo, tableName);
  stats = new DynamoStatsStore(aws.dynamo, tableName);
  graph = await startStandaloneSimulator({ appSecret: APP_SECRET });
});

afterAll(async () => {
  await graph?.stop();
});

beforeEach(async () => {
  graph.simulator.reset();
  queue = await freshFifoQueue(aws, 2);
  clock = manualClock(new Date().toISOString());
  deps = {
    clients,
    conversations,
    claims: new MessageClaims(aws.dynamo, tableName, 400),
    sender: createGraphClient({ baseUrl: graph.graphBaseUrl, retries: 1, backoffMs: 5, maxBackoffMs: 20 }),
    responder: withFallback(undefined, createFaqResponder()),
    secrets,
    platformWhatsAppToken: async () => 'platform-token-PLAT',
    retentionHours: 24,
    stats,
    templates: new TemplateCatalog({
      db: aws.dynamo,
      tableName,
      graphBaseUrl: graph.graphBaseUrl,
      graphVersion: 'v26.0',
      now: clock.now,
    }),
    now: clock.now,
  };
  const service = testClientService(clients, secrets, { platformHasOpenAi: false });
  plaza = await service.create({
    name: 'Restaurante La Plaza',
    phone_number: '+34666777888',
    phone_number_id: String(numberSeq++),
    faqs: laPlazaFaqs,
    language: 'es',
    bot_enabled: true,
    retention_hours: 24,
    whatsapp_access_token: 'EAAGwindowTenantTokenPLZA',
  });
  // Set as stored: the check when it is set is tenant-templates.test.ts's.
  await clients.patch(plaza.id, {
    waba_id: '102290129340398',
    window_template: { name: 'respuesta_pendiente', language: 'es' },
  });
});

const router = () => createCachedTenantRouter((id) => clients.findRoute(id), { ttlMs: 0, missTtlMs: 0 });

async function post(payload: Record<string, unknown>) {
  const rawBody = Buffer.from(metaJson(payload));
  await receiveWebhook(
    { rawBody, signature: signWebhookBody(rawBody, APP_SECRET) },
    {
      appSecret: APP_SECRET,
      router: router(),
      enqueue: (messages) => sendFifoMessages(aws.sqs, queue.url, messages),
    },
  );
}

/** The customer writes now (by the test's clock), as Meta delivers it. */
async function customerWrites(from: string, text: string) {
  const messageId = `wamid.${from}.${Math.random()}`;
  await post(
    graph.simulator.buildInboundPayload({
      phoneNumberId: plaza.phone_number_id,
      from,
      text,
      messageId,
      name: 'Cliente',
      timestamp: Math.floor(clock.now().getTime() / 1000),
    }),
  );
  return messageId;
}

const drain = (handler: (event: SQSEvent) => Promise<SQSBatchResponse>) => drainQueue(aws, queue, handler);

const answerAll = () => drain(createAssistantHandler(async () => deps));
const sentTo = (to: string) => graph.simulator.sent.filter((m) => m.to === to || m.recipient === to);
const sendCalls = () => graph.simulator.graphCalls.filter((c) => c.operation === 'send');

describe('given a customer whose message is answered more than 24 hours after they wrote it', () => {
  it('then the Graph API gets the template once, with its name, language and the reply as its parameter', async () => {
    const from = String(contactSeq++);
    await customerWrites(from, '¿Tenéis menú del día?');
    clock.advance(25 * HOUR);

    await answerAll();

    const sent = sentTo(from);
    expect(sent).toHaveLength(1);
    expect(sent[0]?.template).toEqual({
      name: 'respuesta_pendiente',
      language: 'es',
      parameters: [expect.stringContaining('12€')],
    });
    expect(sent[0]?.text).toMatch(/^Hola, te respondemos a tu mensaje: .*12€/);
    const stored = await conversations.listMessages(plaza.id, from, { limit: 10 });
    expect(stored.items.find((m) => m.direction === 'outbound')).toMatchObject({
      id: sent[0]?.id,
      type: 'template',
      template: { name: 'respuesta_pendiente', language: 'es' },
    });
  });

  it('given no window_template, then nothing reaches the Graph API and the conversation says why', async () => {
    const stored = await clients.require(plaza.id);
    const { window_template: _none, ...withoutTemplate } = stored;
    await clients.replace(stored, withoutTemplate);
    const from = String(contactSeq++);
    await customerWrites(from, '¿Tenéis menú del día?');
    clock.advance(25 * HOUR);

    await answerAll();

    expect(sendCalls()).toHaveLength(0);
    const messages = await conversations.listMessages(plaza.id, from, { limit: 10 });
    expect(messages.items.find((m) => m.status === 'not_sent')?.not_sent_reason).toBe(
      'window_closed: no window_template is set',
    );
  });
});

describe('given Meta refuses a free-form reply with 131047', () => {
  it('then the template goes out once, and the contact shows its window closed', async () => {
    const from = String(contactSeq++);
    await customerWrites(from, '¿Hacéis reservas?');
    graph.simulator.failNext(1, { httpStatus: 400, code: 131047, operation: 'send' });

    await answerAll();

    expect(sendCalls().map((c) => c.status)).toEqual([400, 200]);
    expect(sentTo(from).map((m) => m.template?.name)).toEqual(['respuesta_pendiente']);
    // Marked on the customer's message whose window Meta found closed: a later message reopens it.
    const contact = await conversations.getContact(plaza.id, from);
    expect(contact?.window_closed_at).toBe(contact?.last_customer_message_at);
    expect(contact?.window_closed_at).toBeDefined();
  });

  it('and the template too, then nothing more is tried', async () => {
    const from = String(contactSeq++);
    await customerWrites(from, '¿Hacéis reservas?');
    graph.simulator.failNext(2, { httpStatus: 400, code: 131047, operation: 'send' });

    await answerAll();

    expect(sendCalls().map((c) => c.status)).toEqual([400, 400]);
    expect(sentTo(from)).toEqual([]);
  });
});

describe('given Meta accepts a text and reports 131047 in its status', () => {
  it('then the Graph API gets the template once, even when the failed status comes twice', async () => {
    const from = String(contactSeq++);
    await customerWrites(from, '¿Hacéis reservas?');
    await answerAll();
    const text = sentTo(from).at(-1)!;
    expect(text.template).toBeUndefined();
    const failed = buildStatusPayload({
      phoneNumberId: plaza.phone_number_id,
      messageId: text.id,
      status: 'failed',
      recipientId: from,
      timestamp: Math.floor(clock.now().getTime() / 1000),
      errors: [{ code: 131047, title: 'Re-engagement message' }],
    });
    await post(failed);
    await post(failed);

    await answerAll();

    expect(
      sentTo(from)
        .filter((m) => m.template)
        .map((m) => m.template?.name),
    ).toEqual(['respuesta_pendiente']);
  });
});

describe('given the statuses of a reply carry its pricing', () => {
  it('then the daily statistics count the message once, in its category', async () => {
    const from = String(contactSeq++);
    await customerWrites(from, '¿Tenéis menú del día?');
    clock.advance(25 * HOUR);
    await answerAll();
    const template = sentTo(from)[0]!;
    const timestamp = Math.floor(clock.now().getTime() / 1000);
    for (const status of ['sent', 'delivered', 'read'] as const) {
      await post(
        buildStatusPayload({
          phoneNumberId: plaza.phone_number_id,
          messageId: template.id,
          status,
          recipientId: from,
          timestamp,
          pricing: { billable: true, pricing_model: 'PMP', category: 'utility', type: 'regular' },
        }),
      );
    }

    await answerAll();

    const series = (await stats.sumDays([plaza.id], dayWindow(clock.now(), 1))).get(plaza.id);
    expect(series?.[0]?.billable).toEqual({ utility: 1 });
    const stored = await conversations.listMessages(plaza.id, from, { limit: 10 });
    expect(stored.items.find((m) => m.id === template.id)).toMatchObject({
      status: 'read',
      pricing: { category: 'utility', type: 'regular', billable: true },
    });
  });
});

describe('the window in DynamoDB', () => {
  it('keeps the latest time the customer wrote, whatever order their messages are recorded in', async () => {
    const key = String(contactSeq++);
    const ref = { key, wa_id: key };
    const t = (hours: number) => new Date(Date.parse('2026-12-01T10:00:00.000Z') + hours * HOUR);

    await conversations.touchInbound(plaza.id, ref, t(0), 24, t(2));
    const late = await conversations.touchInbound(plaza.id, ref, t(5), 24, t(1));
    expect(late.last_customer_message_at).toBe(t(2).toISOString());
    const newer = await conversations.touchInbound(plaza.id, ref, t(6), 24, t(3));

    expect(newer.last_customer_message_at).toBe(t(3).toISOString());
    expect((await conversations.getContact(plaza.id, key))?.last_customer_message_at).toBe(
      t(3).toISOString(),
    );
  });
});
