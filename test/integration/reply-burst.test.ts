import { CreateQueueCommand, GetQueueAttributesCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createAssistantHandler } from '../../functions/assistant.ts';
import { createReplyBurstHandler } from '../../functions/reply-burst.ts';
import { sqsEvent } from '../../infra/local/lambda-events.ts';
import { startQueuePoller } from '../../infra/local/queue-poller.ts';
import { type StandaloneSimulator, startStandaloneSimulator } from '../../infra/local/whatsapp-simulator.ts';
import type { AwsClients } from '../../lib/aws-clients.ts';
import type { AnswerDeps } from '../../lib/conversation/answer-message.ts';
import type { BurstWakeup, BurstWakeups } from '../../lib/conversation/burst-ports.ts';
import { BurstStore } from '../../lib/conversation/burst-store.ts';
import { SqsBurstWakeups } from '../../lib/conversation/burst-wakeup-queue.ts';
import { ConversationStore } from '../../lib/conversation/conversation-store.ts';
import { withFallback } from '../../lib/conversation/fallback-responder.ts';
import type { InboundMessageEvent } from '../../lib/conversation/inbound-event.ts';
import { MessageClaims } from '../../lib/conversation/message-claims.ts';
import type { Responder } from '../../lib/conversation/ports.ts';
import { REPLY_BURST_CAP_SECONDS } from '../../lib/conversation/reply-burst.ts';
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
import { freshFifoQueue, freshTable, uniqueName } from '../support/emulators.ts';
import { laPlazaFaqs, metaJson } from '../support/fixtures.ts';
import { testClientService } from '../support/services.ts';

/**
 * The durable debounce on the emulators: webhook → inbound FIFO queue → assistant (collects the
 * burst in DynamoDB Local) → delayed wake-up on a standard queue (fauxqs) → reply-burst consumer →
 * Graph stand-in. Where time matters (the cap), the clock is fake and wake-ups are played by hand.
 */

const APP_SECRET = 'burst-app-secret';
const LEASE_MS = 400;
const WELCOME = '¡Hola! Soy el asistente virtual del Restaurante La Plaza.';
const BURST = ['hola', 'una pregunta', '¿tenéis menú del día?'];

let aws: AwsClients;
let graph: StandaloneSimulator;
let clients: ClientRepository;
let conversations: ConversationStore;
let bursts: BurstStore;
let service: ClientService;
let tableName: string;
let inbound: { url: string; arn: string };
let wakeQueue: { url: string; arn: string };
let plaza: Client;
let numberSeq = 810000;
let contactSeq = 34622000000;
/** What the responder was asked, in order. */
let asked: string[];

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

function depsWith(overrides: Partial<AnswerDeps> & { wakeups?: BurstWakeups } = {}): AnswerDeps {
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

function createPlaza(replyDelaySeconds: number) {
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
async function deliver(tenant: Client, from: string, text: string, messageId: string) {
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
function messageEvent(tenant: Client, from: string, text: string, id: string): InboundMessageEvent {
  return {
    v: 1,
    kind: 'message',
    tenant_id: tenant.id,
    phone_number_id: tenant.phone_number_id,
    contact: { key: from, wa_id: from },
    message: { id, type: 'text', timestamp: 1795560000, text },
    received_at: new Date().toISOString(),
  };
}

const recordOf = (body: unknown, arn: string, n = 0) =>
  sqsEvent([{ MessageId: `direct-${n}-${Math.random()}`, Body: JSON.stringify(body) }], arn);

/** Runs a consumer as Lambda's event source mapping would until its queue is empty. */
async function drain(
  queue: { url: string; arn: string },
  handler: (event: SQSEvent) => Promise<SQSBatchResponse>,
) {
  const poller = startQueuePoller({
    sqs: aws.sqs,
    queueUrl: queue.url,
    queueArn: queue.arn,
    handler,
    retryDelaySeconds: 1,
  });
  try {
    await poller.drained(20_000);
  } finally {
    await poller.stop();
  }
}

const repliesTo = (phoneNumberId: string, to: string) =>
  graph.simulator.sent.filter(
    (m) => m.phoneNumberId === phoneNumberId && (m.to === to || m.recipient === to),
  );

describe('a burst of messages gets one answer', () => {
  it('given three messages in a burst, then one answer to the whole burst, in reply to the last, with typing shown', async () => {
    const from = String(contactSeq++);
    const ids = BURST.map((_, i) => `wamid.burst3.${from}.${i}`);
    for (const [i, text] of BURST.entries()) await deliver(plaza, from, text, ids[i]!);
    const telemetry = new InMemoryTelemetry();
    const deps = depsWith({ telemetry });
    // The inbound queue first: no wake-up is consumed while the burst is being collected.
    await drain(
      inbound,
      createAssistantHandler(async () => deps, { telemetry }),
    );
    expect(repliesTo(plaza.phone_number_id, from)).toEqual([]);
    await drain(
      wakeQueue,
      createReplyBurstHandler(async () => deps, { telemetry }),
    );

    expect(asked).toEqual([BURST.join('\n')]);
    const replies = repliesTo(plaza.phone_number_id, from);
    expect(replies.map((r) => r.text)).toEqual([WELCOME, expect.stringContaining('12€')]);
    expect(replies[0]?.context?.message_id).toBe(ids[2]);
    // Typing while each message was collected, and again while the burst was answered.
    const typing = graph.simulator.reads.filter((r) => r.phoneNumberId === plaza.phone_number_id && r.typing);
    expect(typing.map((r) => r.messageId)).toEqual([...ids, ids[2]]);
    expect(telemetry.total('MessagesCollected')).toBe(3);
    expect(telemetry.total('BurstsAnswered')).toBe(1);
    expect(telemetry.total('StaleWakeupsDropped')).toBe(2);
    expect(telemetry.total('MessagesAnswered', 'faq')).toBe(1);
    // Every message of the burst is recorded for the operator, and the reply once.
    const stored = await conversations.listMessages(plaza.id, from, { limit: 20 });
    expect(stored.items.filter((m) => m.direction === 'inbound').map((m) => m.text)).toEqual(
      [...BURST].reverse(),
    );
    expect(stored.items.filter((m) => m.direction === 'outbound')).toHaveLength(2);
    expect((await bursts.get(plaza.id, from))?.pending).toEqual([]);
  });

  it('given every message of the burst delivered 4 times, then still one answer', async () => {
    const from = String(contactSeq++);
    const ids = BURST.map((_, i) => `wamid.burst4x.${from}.${i}`);
    for (let copy = 0; copy < 4; copy++) {
      for (const [i, text] of BURST.entries()) await deliver(plaza, from, text, ids[i]!);
    }
    const deps = depsWith();
    await drain(
      inbound,
      createAssistantHandler(async () => deps),
    );
    // Only the redeliveries below are counted (SQS itself may have dropped some copies above).
    const telemetry = new InMemoryTelemetry();
    const assistant = createAssistantHandler(async () => deps, { telemetry });
    // Past SQS's deduplication window Meta may still deliver each again, before and after the answer.
    const again = async () => {
      for (const [i, text] of BURST.entries()) {
        const result = await assistant(recordOf(messageEvent(plaza, from, text, ids[i]!), inbound.arn, i));
        expect(result.batchItemFailures).toEqual([]);
      }
    };
    await again();
    await drain(
      wakeQueue,
      createReplyBurstHandler(async () => deps),
    );
    await again();
    await again();
    await drain(
      wakeQueue,
      createReplyBurstHandler(async () => deps),
    );

    expect(asked).toEqual([BURST.join('\n')]);
    expect(repliesTo(plaza.phone_number_id, from).map((r) => r.text)).toEqual([
      WELCOME,
      expect.stringContaining('12€'),
    ]);
    expect(telemetry.total('DuplicatesSuppressed')).toBe(9);
  });

  it('given a worker that dies after adding a message to the burst, then the redelivery takes over and the burst is answered once', async () => {
    const from = String(contactSeq++);
    const events = BURST.map((text, i) => messageEvent(plaza, from, text, `wamid.crash.${from}.${i}`));
    const deps = depsWith();
    const healthy = createAssistantHandler(async () => deps);
    await healthy(recordOf(events[0], inbound.arn));
    // The second message's worker joins it to the burst, then dies before its wake-up is sent.
    const dying = depsWith({ wakeups: { schedule: () => new Promise<never>(() => undefined) } });
    void createAssistantHandler(async () => dying)(recordOf(events[1], inbound.arn));
    await waitFor(async () => (await bursts.get(plaza.id, from))?.pending.length === 2);
    // Its lease runs out and the queue delivers the message again, then the third arrives.
    await new Promise((resolve) => setTimeout(resolve, LEASE_MS + 100));
    expect((await healthy(recordOf(events[1], inbound.arn))).batchItemFailures).toEqual([]);
    await healthy(recordOf(events[2], inbound.arn));
    expect((await bursts.get(plaza.id, from))?.pending.map((m) => m.text)).toEqual(BURST);
    await drain(
      wakeQueue,
      createReplyBurstHandler(async () => deps),
    );

    expect(asked).toEqual([BURST.join('\n')]);
    expect(repliesTo(plaza.phone_number_id, from)).toHaveLength(2);
  });

  it('given a wake-up worker that dies between the two parts of the answer, then the takeover sends only the missing part', async () => {
    const from = String(contactSeq++);
    const deps = depsWith();
    const assistant = createAssistantHandler(async () => deps);
    for (const [i, text] of BURST.entries()) {
      await assistant(recordOf(messageEvent(plaza, from, text, `wamid.wcrash.${from}.${i}`), inbound.arn));
    }
    let sends = 0;
    const hanging = depsWith({
      sender: {
        ...deps.sender,
        sendText: (request) =>
          ++sends === 2 ? new Promise<never>(() => undefined) : deps.sender.sendText(request),
      },
    });
    // Only the last wake-up is current; the dying worker takes it and hangs on the second part.
    const wakeups = await receiveWakeups(3);
    const current = wakeups.find((m) => JSON.parse(m.Body!).seq === 3)!;
    void createReplyBurstHandler(async () => hanging)(sqsEvent([current], wakeQueue.arn));
    await waitFor(async () => repliesTo(plaza.phone_number_id, from).length === 1);
    // After the lease and the visibility timeout the same wake-up comes back to a healthy worker.
    await new Promise((resolve) => setTimeout(resolve, 2100));
    await drain(
      wakeQueue,
      createReplyBurstHandler(async () => deps),
    );

    expect(asked).toEqual([BURST.join('\n')]);
    expect(repliesTo(plaza.phone_number_id, from).map((r) => r.text)).toEqual([
      WELCOME,
      expect.stringContaining('12€'),
    ]);
  });

  it('given a stale wake-up (a later message moved the burst on), then it is dropped and the current one answers', async () => {
    const from = String(contactSeq++);
    const scheduled: BurstWakeup[] = [];
    const deps = depsWith({ wakeups: { schedule: async (wakeup) => void scheduled.push(wakeup) } });
    const telemetry = new InMemoryTelemetry();
    const assistant = createAssistantHandler(async () => deps);
    const wake = createReplyBurstHandler(async () => deps, { telemetry });
    await assistant(recordOf(messageEvent(plaza, from, 'hola', `wamid.stale.${from}.0`), inbound.arn));
    await assistant(
      recordOf(messageEvent(plaza, from, '¿hacéis reservas?', `wamid.stale.${from}.1`), inbound.arn),
    );
    expect(scheduled.map((w) => w.seq)).toEqual([1, 2]);

    await wake(recordOf(scheduled[0], wakeQueue.arn));
    expect(repliesTo(plaza.phone_number_id, from)).toEqual([]);
    expect(telemetry.total('StaleWakeupsDropped')).toBe(1);
    await wake(recordOf(scheduled[1], wakeQueue.arn));
    expect(asked).toEqual(['hola\n¿hacéis reservas?']);
    expect(repliesTo(plaza.phone_number_id, from).map((r) => r.text)).toEqual([
      WELCOME,
      expect.stringContaining('reservar'),
    ]);
  });

  it('given reply_delay_seconds 0, then each message is answered on its own at once, with no wake-up', async () => {
    const tenant = await createPlaza(0);
    const from = String(contactSeq++);
    for (const [i, text] of ['¿Hacéis reservas?', '¿Tenéis menú del día?'].entries()) {
      await deliver(tenant, from, text, `wamid.nodelay.${from}.${i}`);
    }
    await drain(
      inbound,
      createAssistantHandler(async () => depsWith()),
    );
    expect(asked).toEqual(['¿Hacéis reservas?', '¿Tenéis menú del día?']);
    expect(repliesTo(tenant.phone_number_id, from).map((r) => r.text)).toEqual([
      WELCOME,
      expect.stringContaining('reservar'),
      expect.stringContaining('12€'),
    ]);
    expect(await receiveWakeups(0)).toEqual([]);
    expect(await bursts.get(tenant.id, from)).toBeUndefined();
  });
});

describe('what a burst holds', () => {
  /** Deps whose wake-ups are recorded, to be played by hand. */
  function recording() {
    const scheduled: BurstWakeup[] = [];
    const deps = depsWith({ wakeups: { schedule: async (wakeup) => void scheduled.push(wakeup) } });
    return {
      scheduled,
      assistant: createAssistantHandler(async () => deps),
      wake: createReplyBurstHandler(async () => deps),
    };
  }

  it('given "pausar bot" after a greeting, then the command is answered at once and the burst stays silent', async () => {
    const from = String(contactSeq++);
    const { scheduled, assistant, wake } = recording();
    await assistant(recordOf(messageEvent(plaza, from, 'hola', `wamid.cmd.${from}.0`), inbound.arn));
    await assistant(recordOf(messageEvent(plaza, from, 'pausar bot', `wamid.cmd.${from}.1`), inbound.arn));
    expect(repliesTo(plaza.phone_number_id, from).map((r) => r.text)).toEqual([
      expect.stringContaining('He pausado'),
    ]);
    expect(scheduled).toHaveLength(1);
    await wake(recordOf(scheduled[0], wakeQueue.arn));
    expect(repliesTo(plaza.phone_number_id, from)).toHaveLength(1);
    expect(asked).toEqual([]);
  });

  it('given a burst of photos without captions, then one "text only" reply; with a caption, the caption is the question', async () => {
    const from = String(contactSeq++);
    await conversations.touchInbound(plaza.id, { key: from, wa_id: from }, new Date(), 24);
    await conversations.updateContact(plaza.id, from, { welcomed_at: new Date().toISOString() });
    const { scheduled, assistant, wake } = recording();
    const photo = (n: number, caption?: string): InboundMessageEvent => {
      const event = messageEvent(plaza, from, '', `wamid.photo.${from}.${n}`);
      event.message = { id: event.message.id, type: 'image', timestamp: 1795560000 };
      if (caption) event.message.text = caption;
      return event;
    };
    await assistant(recordOf(photo(0), inbound.arn));
    await assistant(recordOf(photo(1), inbound.arn));
    await wake(recordOf(scheduled.at(-1), wakeQueue.arn));
    expect(repliesTo(plaza.phone_number_id, from).map((r) => r.text)).toEqual([
      expect.stringContaining('solo puedo leer mensajes de texto'),
    ]);
    await assistant(recordOf(photo(2), inbound.arn));
    await assistant(recordOf(photo(3, '¿tenéis menú del día?'), inbound.arn));
    await wake(recordOf(scheduled.at(-1), wakeQueue.arn));
    expect(asked).toEqual(['¿tenéis menú del día?']);
    expect(repliesTo(plaza.phone_number_id, from)).toHaveLength(2);
  });
});

describe('the cap on a busy customer', () => {
  it(`given a customer who writes every 2 s, then the answer comes ${REPLY_BURST_CAP_SECONDS} s after the first message and later messages start a new burst`, async () => {
    const tenant = await createPlaza(3);
    const from = String(contactSeq++);
    const start = Date.parse('2026-12-03T10:00:00Z');
    let now = start;
    const due: Array<{ wakeup: BurstWakeup; at: number }> = [];
    const answeredAt: number[] = [];
    const deps = depsWith({
      now: () => new Date(now),
      wakeups: { schedule: async (wakeup, delay) => void due.push({ wakeup, at: now + delay * 1000 }) },
    });
    const responder = deps.responder;
    deps.responder = {
      reply: (request) => {
        answeredAt.push(now);
        return responder.reply(request);
      },
    };
    const assistant = createAssistantHandler(async () => deps);
    const wake = createReplyBurstHandler(async () => deps);
    /** Plays the wake-ups due by `now`, in the order they fall due, as the delayed queue would. */
    const playDue = async () => {
      due.sort((a, b) => a.at - b.at);
      while (due[0] && due[0].at <= now) await wake(recordOf(due.shift()!.wakeup, wakeQueue.arn));
    };

    for (let k = 0; k <= 12; k++) {
      now = start + k * 2000;
      await playDue();
      await assistant(
        recordOf(messageEvent(tenant, from, `mensaje ${k}`, `wamid.cap.${from}.${k}`), inbound.arn),
      );
    }
    while (due.length > 0) {
      now = Math.max(now, due[0]!.at);
      await playDue();
    }

    const burst = (from: number, to: number) =>
      Array.from({ length: to - from + 1 }, (_, i) => `mensaje ${from + i}`).join('\n');
    expect(asked).toEqual([burst(0, 9), burst(10, 12)]);
    expect(answeredAt[0]).toBe(start + REPLY_BURST_CAP_SECONDS * 1000);
    expect(answeredAt[1]).toBe(start + 24_000 + 3000);
  });
});

/** Receives what the wake-up queue holds (waiting out the delays), at most `expected` messages. */
async function receiveWakeups(expected: number) {
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

async function waitFor(condition: () => Promise<boolean>, timeoutMs = 5000) {
  const start = Date.now();
  while (!(await condition())) {
    if (Date.now() - start > timeoutMs) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
