import { CreateQueueCommand, GetQueueAttributesCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { afterAll, beforeAll, beforeEach } from 'vitest';
import { sqsEvent } from '../../infra/local/lambda-events.ts';
import { type StandaloneSimulator, startStandaloneSimulator } from '../../infra/local/whatsapp-simulator.ts';
import type { AwsClients } from '../../lib/aws-clients.ts';
import type { AnswerDeps } from '../../lib/conversation/answer-message.ts';
import type { BurstWakeups } from '../../lib/conversation/burst-ports.ts';
import { BurstStore } from '../../lib/conversation/burst-store.ts';
import { SqsBurstWakeups } from '../../lib/conversation/burst-wakeup-queue.ts';
import { ConversationStore } from '../../lib/conversation/conversation-store.ts';
import { withFallback } from '../../lib/conversation/fallback-responder.ts';
import type { InboundMessageEvent } from '../../lib/conversation/inbound-event.ts';
import { MessageClaims } from '../../lib/conversation/message-claims.ts';
import type { Responder } from '../../lib/conversation/ports.ts';
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
import { drainQueue, freshFifoQueue, freshTable, uniqueName } from './emulators.ts';
import { laPlazaFaqs, metaJson } from './fixtures.ts';
import { testClientService } from './services.ts';

/**
 * The emulators and stand-ins of the reply-burst tests (test/integration/reply-burst*.test.ts):
 * webhook → inbound FIFO queue → assistant (collects the burst in DynamoDB Local) → delayed wake-up
 * on a standard queue (fauxqs) → reply-burst consumer → Graph stand-in. The exported bindings are
 * live: `useBurstHarness()` sets them before each test.
 */

const APP_SECRET = 'burst-app-secret';
export const LEASE_MS = 400;
export const WELCOME = '¡Hola! Soy el asistente virtual del Restaurante La Plaza.';
export const BURST = ['hola', 'una pregunta', '¿tenéis menú del día?'];

let aws: AwsClients;
export let graph: StandaloneSimulator;
let clients: ClientRepository;
export let conversations: ConversationStore;
export let bursts: BurstStore;
let service: ClientService;
let tableName: string;
export let inbound: { url: string; arn: string };
export let wakeQueue: { url: string; arn: string };
export let plaza: Client;
let numberSeq = 810000;
let contactSeq = 34622000000;

/** A customer nobody else in the file writes as. */
export const nextContact = () => String(contactSeq++);
/** What the responder was asked, in order. */
export let asked: string[];

const secrets = createLocalSecretBox('burst-local-key');

const spyingResponder = (): Responder => {
  const inner = withFallback(undefined, createFaqResponder());
  return {
    reply: (request) => {
      asked.push(request.text);
      return inner.reply(request);
    },
  };
};

export function depsWith(overrides: Partial<AnswerDeps> & { wakeups?: BurstWakeups } = {}): AnswerDeps {
  const { wakeups, ...rest } = overrides;
  return {
    clients,
    conversations,
    claims: new MessageClaims(aws.dynamo, tableName, LEASE_MS),
    sender: createGraphClient({ baseUrl: graph.graphBaseUrl, retries: 3, backoffMs: 5, maxBackoffMs: 20 }),
    responder: spyingResponder(),
    secrets,
    platformWhatsAppToken: async () => 'platform-token',
    retentionHours: 24,
    bursts: {
      store: bursts,
      wakeups: wakeups ?? new SqsBurstWakeups(aws.sqs, wakeQueue.url),
      contacts: conversations,
    },
    ...rest,
  };
}

async function freshStandardQueue(visibilityTimeoutSeconds: number) {
  const { QueueUrl } = await aws.sqs.send(
    new CreateQueueCommand({
      QueueName: uniqueName('wake'),
      Attributes: { VisibilityTimeout: String(visibilityTimeoutSeconds) },
    }),
  );
  const { Attributes } = await aws.sqs.send(
    new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }),
  );
  return { url: QueueUrl!, arn: Attributes!.QueueArn! };
}

/** Registers the hooks of a reply-burst test file: fresh queues, a fresh tenant and a reset Graph stand-in per test. */
export function useBurstHarness() {
  beforeAll(async () => {
    const table = await freshTable();
    aws = table.aws;
    tableName = table.tableName;
    clients = new ClientRepository(aws.dynamo, tableName);
    conversations = new ConversationStore(aws.dynamo, tableName);
    bursts = new BurstStore(aws.dynamo, tableName);
    graph = await startStandaloneSimulator({ appSecret: APP_SECRET });
    service = testClientService(clients, secrets, { platformHasOpenAi: false });
  });

  afterAll(async () => {
    await graph?.stop();
  });

  beforeEach(async () => {
    graph.simulator.reset();
    asked = [];
    inbound = await freshFifoQueue(aws, 2);
    wakeQueue = await freshStandardQueue(2);
    plaza = await createPlaza(1);
  });
}

export function createPlaza(replyDelaySeconds: number) {
  return service.create({
    name: 'Restaurante La Plaza',
    phone_number: '+34666777888',
    phone_number_id: String(numberSeq++),
    faqs: laPlazaFaqs,
    welcome_message: WELCOME,
    language: 'es',
    bot_enabled: true,
    retention_hours: 24,
    whatsapp_access_token: 'tenant-token-PLZA',
    reply_delay_seconds: replyDelaySeconds,
  });
}

const router = () => createCachedTenantRouter((id) => clients.findRoute(id), { ttlMs: 0, missTtlMs: 0 });

/** A customer message as Meta delivers it: signed, through the webhook use case, into the FIFO queue. */
export async function deliver(tenant: Client, from: string, text: string, messageId: string) {
  const rawBody = Buffer.from(
    metaJson(
      graph.simulator.buildInboundPayload({
        phoneNumberId: tenant.phone_number_id,
        from,
        text,
        messageId,
        name: 'Cliente',
      }),
    ),
  );
  await receiveWebhook(
    { rawBody, signature: signWebhookBody(rawBody, APP_SECRET) },
    {
      appSecret: APP_SECRET,
      router: router(),
      enqueue: (messages) => sendFifoMessages(aws.sqs, inbound.url, messages),
    },
  );
}

/** The queue event of a message, for handing it to a handler directly (a redelivery past SQS's dedup). */
export function messageEvent(tenant: Client, from: string, text: string, id: string): InboundMessageEvent {
  return {
    v: 1,
    kind: 'message',
    tenant_id: tenant.id,
    phone_number_id: tenant.phone_number_id,
    contact: { key: from, wa_id: from },
    // Written just now: inside the 24-hour window, which bursts obey like single messages.
    message: { id, type: 'text', timestamp: Math.floor(Date.now() / 1000), text },
    received_at: new Date().toISOString(),
  };
}

export const recordOf = (body: unknown, arn: string, n = 0) =>
  sqsEvent([{ MessageId: `direct-${n}-${Math.random()}`, Body: JSON.stringify(body) }], arn);

/** Runs a consumer as Lambda's event source mapping would until its queue is empty. */
export const drain = (
  queue: { url: string; arn: string },
  handler: (event: SQSEvent) => Promise<SQSBatchResponse>,
) => drainQueue(aws, queue, handler, 20_000);

export const repliesTo = (phoneNumberId: string, to: string) =>
  graph.simulator.sent.filter(
    (m) => m.phoneNumberId === phoneNumberId && (m.to === to || m.recipient === to),
  );

/** Receives what the wake-up queue holds (waiting out the delays), at most `expected` messages. */
export async function receiveWakeups(expected: number) {
  const messages = [];
  const deadline = Date.now() + (expected === 0 ? 1500 : 10_000);
  while (messages.length < expected || (expected === 0 && Date.now() < deadline)) {
    if (Date.now() > deadline) break;
    const { Messages = [] } = await aws.sqs.send(
      new ReceiveMessageCommand({ QueueUrl: wakeQueue.url, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }),
    );
    messages.push(...Messages);
  }
  return messages;
}

export async function waitFor(condition: () => Promise<boolean>, timeoutMs = 5000) {
  const start = Date.now();
  while (!(await condition())) {
    if (Date.now() - start > timeoutMs) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
