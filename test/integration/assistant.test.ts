import { ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createAssistantHandler } from '../../functions/assistant.ts';
import { sqsEvent } from '../../infra/local/lambda-events.ts';
import { type StandaloneSimulator, startStandaloneSimulator } from '../../infra/local/whatsapp-simulator.ts';
import type { AwsClients } from '../../lib/aws-clients.ts';
import type { AnswerDeps } from '../../lib/conversation/answer-message.ts';
import { ConversationStore } from '../../lib/conversation/conversation-store.ts';
import { withFallback } from '../../lib/conversation/fallback-responder.ts';
import { MessageClaims } from '../../lib/conversation/message-claims.ts';
import { SendFailure, type WhatsAppSender } from '../../lib/conversation/ports.ts';
import { InMemoryTelemetry } from '../../lib/observability/telemetry.ts';
import { sendFifoMessages } from '../../lib/queue/sqs-publisher.ts';
import { createFaqResponder } from '../../lib/responders/faq-responder.ts';
import { createLocalSecretBox } from '../../lib/secrets/secret-box.ts';
import type { Client } from '../../lib/tenants/client.ts';
import { ClientRepository } from '../../lib/tenants/client-repository.ts';
import type { ClientService } from '../../lib/tenants/client-service.ts';
import { receiveWebhook } from '../../lib/webhook/receive-webhook.ts';
import { signWebhookBody } from '../../lib/webhook/signature.ts';
import { createCachedTenantRouter } from '../../lib/webhook/tenant-router.ts';
import { createGraphClient } from '../../lib/whatsapp/graph-client.ts';
import { drainQueue, freshFifoQueue, freshTable } from '../support/emulators.ts';
import { laPlazaFaqs, metaJson } from '../support/fixtures.ts';
import { testClientService } from '../support/services.ts';

/**
 * Webhook → SQS FIFO (fauxqs) → assistant handler → Graph API (the simulator's stand-in), with
 * state in DynamoDB Local: the delivery guarantees of the core loop.
 */

const APP_SECRET = 'integration-app-secret';
const PLATFORM_TOKEN = 'platform-token-PLAT';
const LEASE_MS = 400;

let aws: AwsClients;
let graph: StandaloneSimulator;
let clients: ClientRepository;
let conversations: ConversationStore;
let service: ClientService;
let deps: AnswerDeps;
let plaza: Client;
let clinic: Client;
let queue: { url: string; arn: string };
let numberSeq = 700000;
let contactSeq = 34611000000;

const secrets = createLocalSecretBox('integration-local-key');

beforeAll(async () => {
  const table = await freshTable();
  aws = table.aws;
  clients = new ClientRepository(aws.dynamo, table.tableName);
  conversations = new ConversationStore(aws.dynamo, table.tableName);
  graph = await startStandaloneSimulator({ appSecret: APP_SECRET });
  service = testClientService(clients, secrets, { platformHasOpenAi: false });
  deps = {
    clients,
    conversations,
    claims: new MessageClaims(aws.dynamo, table.tableName, LEASE_MS),
    sender: createGraphClient({ baseUrl: graph.graphBaseUrl, retries: 3, backoffMs: 5, maxBackoffMs: 20 }),
    responder: withFallback(undefined, createFaqResponder()),
    secrets,
    platformWhatsAppToken: async () => PLATFORM_TOKEN,
    retentionHours: 24,
  };
});

afterAll(async () => {
  await graph?.stop();
});

beforeEach(async () => {
  graph.simulator.reset();
  queue = await freshFifoQueue(aws, 2);
  plaza = await service.create({
    name: 'Restaurante La Plaza',
    phone_number: '+34666777888',
    phone_number_id: String(numberSeq++),
    faqs: laPlazaFaqs,
    welcome_message: '¡Hola! Soy el asistente virtual del Restaurante La Plaza.',
    language: 'es',
    bot_enabled: true,
    retention_hours: 24,
    whatsapp_access_token: 'tenant-token-PLZA',
  });
  clinic = await service.create({
    name: 'Clínica Dental Sonrisa',
    phone_number: '+34911222333',
    phone_number_id: String(numberSeq++),
    faqs: [
      { q: '¿Atendéis urgencias?', a: 'Sí, atendemos urgencias dentales todos los días de 9:00 a 21:00.' },
    ],
    language: 'es',
    bot_enabled: true,
    retention_hours: 24,
  });
});

const router = () => createCachedTenantRouter((id) => clients.findRoute(id), { ttlMs: 0, missTtlMs: 0 });

/** Delivers a customer message as Meta would: signed body through the webhook use case into the queue. */
async function deliver(
  tenant: Client,
  from: string,
  text: string,
  messageId = `wamid.${from}.${Date.now()}.${Math.random()}`,
) {
  const body = metaJson(
    graph.simulator.buildInboundPayload({
      phoneNumberId: tenant.phone_number_id,
      from,
      text,
      messageId,
      name: 'Cliente',
    }),
  );
  const rawBody = Buffer.from(body);
  await receiveWebhook(
    { rawBody, signature: signWebhookBody(rawBody, APP_SECRET) },
    {
      appSecret: APP_SECRET,
      router: router(),
      enqueue: (messages) => sendFifoMessages(aws.sqs, queue.url, messages),
    },
  );
  return messageId;
}

async function receiveAll(): Promise<SQSEvent> {
  const messages = [];
  for (let i = 0; i < 5; i++) {
    const { Messages = [] } = await aws.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queue.url,
        MaxNumberOfMessages: 10,
        MessageSystemAttributeNames: ['All'],
      }),
    );
    messages.push(...Messages);
    if (Messages.length === 0) break;
  }
  return sqsEvent(messages, queue.arn);
}

/** Runs the handler as Lambda's event source mapping would until the queue is empty. */
const drain = (handler: (event: SQSEvent) => Promise<SQSBatchResponse>, timeoutMs = 15_000) =>
  drainQueue(aws, queue, handler, timeoutMs);

const repliesTo = (phoneNumberId: string, to: string) =>
  graph.simulator.sent.filter(
    (m) => m.phoneNumberId === phoneNumberId && (m.to === to || m.recipient === to),
  );

describe('exactly one reply per customer message', () => {
  it('given one message delivered 4 times by Meta, then it is answered once', async () => {
    const from = String(contactSeq++);
    const id = 'wamid.DUPLICATE-1';
    for (let i = 0; i < 4; i++) await deliver(plaza, from, '¿Tenéis menú del día?', id);
    await drain(createAssistantHandler(async () => deps));
    // Past SQS's 5-minute deduplication window Meta may still redeliver: the claim stops it too.
    const telemetry = new InMemoryTelemetry();
    const handler = createAssistantHandler(async () => deps, { telemetry });
    const event = {
      v: 1,
      kind: 'message',
      tenant_id: plaza.id,
      phone_number_id: plaza.phone_number_id,
      contact: { key: from, wa_id: from },
      message: { id, type: 'text', timestamp: 1795560000, text: '¿Tenéis menú del día?' },
      received_at: new Date().toISOString(),
    };
    for (let i = 0; i < 3; i++) {
      const result = await handler({
        Records: [
          { ...sqsEvent([{ MessageId: `m${i}`, Body: JSON.stringify(event) }], queue.arn).Records[0]! },
        ],
      });
      expect(result.batchItemFailures).toEqual([]);
    }
    const replies = repliesTo(plaza.phone_number_id, from);
    // Welcome + the FAQ answer, each once.
    expect(replies.map((r) => r.text)).toEqual([
      '¡Hola! Soy el asistente virtual del Restaurante La Plaza.',
      expect.stringContaining('12€'),
    ]);
    expect(replies[0]?.context?.message_id).toBe(id);
    expect(telemetry.total('DuplicatesSuppressed')).toBe(3);
  });

  it('given a worker that dies in the middle of a batch, then every message is answered exactly once', async () => {
    const customers = [String(contactSeq++), String(contactSeq++), String(contactSeq++)];
    for (const from of customers) await deliver(plaza, from, '¿Hacéis reservas?');
    await conversationsWelcomed(customers);

    // The first worker answers the first customer, then hangs for good while sending to the second
    // (as if its process were killed): it never finishes, never deletes anything, never releases.
    const dyingSender = senderFailingOnSend(2, 'hang');
    const batch = await receiveAll();
    expect(batch.Records).toHaveLength(3);
    void createAssistantHandler(async () => ({ ...deps, sender: dyingSender }))(batch);
    await waitFor(() => graph.simulator.sent.length === 1);

    // After the visibility timeout the queue redelivers the whole batch to a healthy worker.
    await new Promise((resolve) => setTimeout(resolve, LEASE_MS + 2100));
    await drain(createAssistantHandler(async () => deps));
    for (const from of customers) expect(repliesTo(plaza.phone_number_id, from)).toHaveLength(1);
  });

  it('given a worker that dies between the two parts of its reply, then the takeover sends only the missing part', async () => {
    const from = String(contactSeq++);
    await deliver(plaza, from, '¿Tenéis menú del día?');
    // Plan: [welcome, answer]. The worker sends the welcome, then hangs forever on the answer.
    const dyingSender = senderFailingOnSend(2, 'hang');
    const batch = await receiveAll();
    void createAssistantHandler(async () => ({ ...deps, sender: dyingSender }))(batch);
    await waitFor(() => repliesTo(plaza.phone_number_id, from).length === 1);
    await new Promise((resolve) => setTimeout(resolve, LEASE_MS + 2100));
    await drain(createAssistantHandler(async () => deps));
    expect(repliesTo(plaza.phone_number_id, from).map((r) => r.text)).toEqual([
      '¡Hola! Soy el asistente virtual del Restaurante La Plaza.',
      expect.stringContaining('12€'),
    ]);
  });

  it('given a worker that fails (throws) in the middle of a batch, then the failed messages are retried and answered once', async () => {
    const customers = [String(contactSeq++), String(contactSeq++), String(contactSeq++)];
    for (const from of customers) await deliver(plaza, from, '¿Hacéis reservas?');
    await conversationsWelcomed(customers);
    const flakySender = senderFailingOnSend(2, 'throw');
    const handler = createAssistantHandler(async () => ({ ...deps, sender: flakySender }));
    await drain(handler);
    for (const from of customers) expect(repliesTo(plaza.phone_number_id, from)).toHaveLength(1);
  });
});

/**
 * The real Graph client, except that its `nth` send fails: 'hang' never settles (the process died
 * there), 'throw' rejects like a dropped connection.
 */
function senderFailingOnSend(nth: number, how: 'hang' | 'throw'): WhatsAppSender {
  const realSender = deps.sender;
  let sends = 0;
  return {
    ...realSender,
    sendText: (r) => {
      if (++sends !== nth) return realSender.sendText(r);
      return how === 'hang'
        ? new Promise<never>(() => undefined)
        : Promise.reject(new Error('connection reset'));
    },
  };
}

/** Marks contacts as already welcomed so each gets exactly one reply (keeps the counting simple). */
async function conversationsWelcomed(contacts: string[]) {
  for (const key of contacts) {
    await conversations.touchInbound(plaza.id, { key, wa_id: key }, new Date(), 24);
    await conversations.updateContact(plaza.id, key, { welcomed_at: new Date().toISOString() });
  }
}

async function waitFor(condition: () => boolean, timeoutMs = 5000) {
  const start = Date.now();
  while (!condition()) {
    if (Date.now() - start > timeoutMs) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('Graph API errors, by code', () => {
  it('given 130429 (throughput) twice, then the send is retried and answered once', async () => {
    const from = String(contactSeq++);
    await conversationsWelcomed([from]);
    graph.simulator.failNext(2, { httpStatus: 400, code: 130429, operation: 'send' });
    await deliver(plaza, from, '¿Hacéis reservas?');
    await drain(createAssistantHandler(async () => deps));
    expect(repliesTo(plaza.phone_number_id, from)).toHaveLength(1);
    expect(graph.simulator.graphCalls.filter((c) => c.operation === 'send' && c.status !== 200)).toHaveLength(
      2,
    );
  });

  it('given 130429 for longer than the client retries, then the queue redelivers and it is answered once', async () => {
    const from = String(contactSeq++);
    await conversationsWelcomed([from]);
    graph.simulator.failNext(6, { httpStatus: 400, code: 130429, operation: 'send' });
    await deliver(plaza, from, '¿Hacéis reservas?');
    const telemetry = new InMemoryTelemetry();
    await drain(createAssistantHandler(async () => deps, { telemetry }));
    // The client's own retries are inside one send; the attempt they ended is one Graph error.
    expect(telemetry.total('GraphErrors', 'rate_limited')).toBe(1);
    expect(telemetry.total('RepliesSent')).toBe(1);
    expect(telemetry.total('MessagesAnswered', 'faq')).toBe(1);
    expect(new Set(telemetry.flushes.map((metadata) => JSON.stringify(metadata)))).toEqual(
      new Set([JSON.stringify({ tenant_id: plaza.id })]),
    );
    expect(repliesTo(plaza.phone_number_id, from)).toHaveLength(1);
  });

  it('given 190 (token expired), then the tenant is flagged and nothing more is sent with that token', async () => {
    const from = String(contactSeq++);
    await conversationsWelcomed([from]);
    graph.simulator.failNext(1, {
      httpStatus: 401,
      code: 190,
      operation: 'send',
      phoneNumberId: plaza.phone_number_id,
    });
    await deliver(plaza, from, '¿Hacéis reservas?');
    await drain(createAssistantHandler(async () => deps));
    const flagged = await clients.get(plaza.id);
    expect(flagged?.credentials_status).toBe('invalid');
    expect(flagged?.credentials_status_reason).toContain('190');
    const callsBefore = graph.simulator.graphCalls.length;
    await deliver(plaza, from, '¿Tenéis menú del día?');
    await drain(createAssistantHandler(async () => deps));
    expect(graph.simulator.graphCalls.length).toBe(callsBefore);
    // The inbound message is still stored for the operator.
    const messages = await conversations.listMessages(plaza.id, from, { limit: 10 });
    expect(messages.items.filter((m) => m.direction === 'inbound')).toHaveLength(2);
    // Other tenants are unaffected.
    const other = String(contactSeq++);
    await deliver(clinic, other, '¿Atendéis urgencias?');
    await drain(createAssistantHandler(async () => deps));
    expect(repliesTo(clinic.phone_number_id, other)).toHaveLength(1);
  });

  it('given 131047 (24-hour window closed), then the contact records it and the message is not retried', async () => {
    const from = String(contactSeq++);
    await conversationsWelcomed([from]);
    graph.simulator.failNext(1, { httpStatus: 400, code: 131047, operation: 'send' });
    await deliver(plaza, from, '¿Hacéis reservas?');
    await drain(createAssistantHandler(async () => deps));
    expect((await conversations.getContact(plaza.id, from))?.window_closed_at).toBeTruthy();
    expect(graph.simulator.graphCalls.filter((c) => c.operation === 'send')).toHaveLength(1);
  });

  it('given 131048 (spam limit), then sending is paused for the tenant and not retried', async () => {
    const from = String(contactSeq++);
    await conversationsWelcomed([from]);
    graph.simulator.failNext(1, { httpStatus: 400, code: 131048, operation: 'send' });
    await deliver(plaza, from, '¿Hacéis reservas?');
    await drain(createAssistantHandler(async () => deps));
    const paused = await clients.get(plaza.id);
    expect((paused?.sending_paused_until ?? '') > new Date().toISOString()).toBe(true);
    expect(graph.simulator.graphCalls.filter((c) => c.operation === 'send')).toHaveLength(1);
  });
});

describe('races the worker must survive', () => {
  it('given a stale route (the number now belongs to another client), then the real owner answers and stores it', async () => {
    const from = String(contactSeq++);
    const handler = createAssistantHandler(async () => deps);
    const event = {
      v: 1,
      kind: 'message',
      tenant_id: plaza.id, // what a warm webhook's cache said
      phone_number_id: clinic.phone_number_id, // what Meta said
      contact: { key: from, wa_id: from },
      message: {
        id: `wamid.REROUTE${from}`,
        type: 'text',
        // Just now: an answer more than 24 h after the customer wrote would need a template.
        timestamp: Math.floor(Date.now() / 1000),
        text: '¿Atendéis urgencias?',
      },
      received_at: new Date().toISOString(),
    };
    const result = await handler(sqsEvent([{ MessageId: 'r1', Body: JSON.stringify(event) }], queue.arn));
    expect(result.batchItemFailures).toEqual([]);
    const replies = repliesTo(clinic.phone_number_id, from);
    expect(replies.at(-1)?.text).toContain('urgencias');
    expect(replies.every((r) => r.tokenSuffix === 'PLAT')).toBe(true);
    expect(await conversations.getContact(plaza.id, from)).toBeUndefined();
    expect(await conversations.getContact(clinic.id, from)).toBeDefined();
  });

  it('given a 190 for a token the operator replaced meanwhile, then the new token is not flagged invalid', async () => {
    const from = String(contactSeq++);
    await conversationsWelcomed([from]);
    const realSender = deps.sender;
    let rotated = false;
    const rotatingSender: WhatsAppSender = {
      ...realSender,
      sendText: async (r) => {
        if (!rotated) {
          rotated = true;
          await service.update(plaza.id, { whatsapp_access_token: 'tenant-token-NEW1' });
          graph.simulator.failNext(1, { httpStatus: 401, code: 190, operation: 'send' });
        }
        return realSender.sendText(r);
      },
    };
    await deliver(plaza, from, '¿Hacéis reservas?');
    await drain(createAssistantHandler(async () => ({ ...deps, sender: rotatingSender })));
    expect((await clients.get(plaza.id))?.credentials_status).toBe('ok');
  });

  it('given a send whose outcome is unknown (timeout after the request went out), then it is never repeated', async () => {
    const from = String(contactSeq++);
    await conversationsWelcomed([from]);
    let calls = 0;
    const timingOut: WhatsAppSender = {
      ...deps.sender,
      sendText: async () => {
        calls++;
        throw new SendFailure('send failed: timed out', { kind: 'ambiguous', detail: 'timed out' });
      },
    };
    await deliver(plaza, from, '¿Hacéis reservas?');
    await drain(createAssistantHandler(async () => ({ ...deps, sender: timingOut })));
    expect(calls).toBe(1);
    const stored = await conversations.listMessages(plaza.id, from, { limit: 10 });
    expect(stored.items.find((m) => m.direction === 'outbound')?.status).toBe('unknown');
  });

  it('given a failure after the reply was planned, then the retry still sends the welcome', async () => {
    const from = String(contactSeq++);
    const flaky = senderFailingOnSend(1, 'throw');
    await deliver(plaza, from, '¿Tenéis menú del día?');
    await drain(createAssistantHandler(async () => ({ ...deps, sender: flaky })));
    expect(repliesTo(plaza.phone_number_id, from).map((r) => r.text)).toEqual([
      '¡Hola! Soy el asistente virtual del Restaurante La Plaza.',
      expect.stringContaining('12€'),
    ]);
  });
});

describe('conversation behaviour', () => {
  it('welcomes a contact once, marks messages read with typing, and replies in context with the tenant token', async () => {
    const from = String(contactSeq++);
    await deliver(plaza, from, 'Hola');
    await drain(createAssistantHandler(async () => deps));
    await deliver(plaza, from, '¿Tenéis menú del día?');
    await drain(createAssistantHandler(async () => deps));
    const replies = repliesTo(plaza.phone_number_id, from);
    expect(replies.map((r) => r.text)).toEqual([
      '¡Hola! Soy el asistente virtual del Restaurante La Plaza.',
      expect.stringContaining('12€'),
    ]);
    expect(replies.every((r) => r.tokenSuffix === 'PLZA')).toBe(true);
    expect(graph.simulator.reads.filter((r) => r.typing)).toHaveLength(2);
  });

  it('"suspender bot" pauses replies for that conversation only; "activar bot" resumes them', async () => {
    const from = String(contactSeq++);
    const other = String(contactSeq++);
    await conversationsWelcomed([from, other]);
    await deliver(plaza, from, 'Suspender bot');
    await drain(createAssistantHandler(async () => deps));
    await deliver(plaza, from, '¿Hacéis reservas?');
    await deliver(plaza, other, '¿Hacéis reservas?');
    await drain(createAssistantHandler(async () => deps));
    expect(repliesTo(plaza.phone_number_id, from).map((r) => r.text)).toEqual([
      expect.stringContaining('activar bot'),
    ]);
    expect(repliesTo(plaza.phone_number_id, other)).toHaveLength(1);
    expect((await conversations.getContact(plaza.id, from))?.bot_paused).toBe(true);
    await deliver(plaza, from, 'activar bot');
    await drain(createAssistantHandler(async () => deps));
    await deliver(plaza, from, '¿Hacéis reservas?');
    await drain(createAssistantHandler(async () => deps));
    expect(repliesTo(plaza.phone_number_id, from)).toHaveLength(3);
    const stored = await conversations.listMessages(plaza.id, from, { limit: 20 });
    expect(stored.items.filter((m) => m.direction === 'inbound')).toHaveLength(4);
  });

  it('keeps two tenants apart: each replies from its own number and token, and stores its own contact', async () => {
    const from = String(contactSeq++);
    await deliver(plaza, from, '¿Tenéis menú del día?');
    await deliver(clinic, from, '¿Atendéis urgencias?');
    await drain(createAssistantHandler(async () => deps));
    const plazaReplies = repliesTo(plaza.phone_number_id, from);
    const clinicReplies = repliesTo(clinic.phone_number_id, from);
    expect(plazaReplies.at(-1)?.text).toContain('12€');
    expect(clinicReplies.at(-1)?.text).toContain('urgencias');
    expect(plazaReplies.every((r) => r.tokenSuffix === 'PLZA')).toBe(true);
    expect(clinicReplies.every((r) => r.tokenSuffix === 'PLAT')).toBe(true);
    const plazaMessages = await conversations.listMessages(plaza.id, from, { limit: 10 });
    const clinicMessages = await conversations.listMessages(clinic.id, from, { limit: 10 });
    expect(plazaMessages.items.some((m) => m.text?.includes('urgencias'))).toBe(false);
    expect(clinicMessages.items.some((m) => m.text?.includes('12€'))).toBe(false);
  });

  it('records delivery statuses on the outbound message and never answers them', async () => {
    const from = String(contactSeq++);
    await conversationsWelcomed([from]);
    await deliver(plaza, from, '¿Hacéis reservas?');
    await drain(createAssistantHandler(async () => deps));
    const [reply] = repliesTo(plaza.phone_number_id, from);
    for (const status of ['delivered', 'read', 'sent']) {
      const body = metaJson({
        object: 'whatsapp_business_account',
        entry: [
          {
            id: '1',
            changes: [
              {
                field: 'messages',
                value: {
                  messaging_product: 'whatsapp',
                  metadata: { phone_number_id: plaza.phone_number_id, display_phone_number: '34666777888' },
                  statuses: [{ id: reply!.id, status, timestamp: '1795560010', recipient_id: from }],
                },
              },
            ],
          },
        ],
      });
      const rawBody = Buffer.from(body);
      await receiveWebhook(
        { rawBody, signature: signWebhookBody(rawBody, APP_SECRET) },
        { appSecret: APP_SECRET, router: router(), enqueue: (m) => sendFifoMessages(aws.sqs, queue.url, m) },
      );
    }
    const sendsBefore = graph.simulator.sent.length;
    await drain(createAssistantHandler(async () => deps));
    expect(graph.simulator.sent.length).toBe(sendsBefore);
    const stored = await conversations.listMessages(plaza.id, from, { limit: 10 });
    // "sent" arrived after "read": statuses only move forward.
    expect(stored.items.find((m) => m.id === reply!.id)?.status).toBe('read');
  });

  it('does not answer for a deactivated tenant, even for messages queued before the deactivation', async () => {
    const from = String(contactSeq++);
    await deliver(plaza, from, '¿Hacéis reservas?');
    await service.deactivate(plaza.id);
    await drain(createAssistantHandler(async () => deps));
    expect(repliesTo(plaza.phone_number_id, from)).toHaveLength(0);
  });
});
