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
import { drainQueue, freshFifoQueue, freshTable } from '../support/emulators.ts';
import { laPlazaFaqs, metaExample, metaJson } from '../support/fixtures.ts';
import { testClientService } from '../support/services.ts';

/**
 * The handoff end to end on the emulators: Meta's signed deliveries (customer messages and
 * `smb_message_echoes`) → webhook → SQS FIFO (fauxqs) → assistant handler → Graph stand-in, state in
 * DynamoDB Local, time on a fake clock (deps.now).
 */

const APP_SECRET = 'handoff-app-secret';
const MINUTE = 60_000;

let aws: AwsClients;
let graph: StandaloneSimulator;
let clients: ClientRepository;
let conversations: ConversationStore;
let service: ClientService;
let baseDeps: AnswerDeps;
let plaza: Client;
let queue: { url: string; arn: string };
let numberSeq = 760000;
let contactSeq = 34622000000;
let clockMs = Date.parse('2026-11-24T10:00:00.000Z');

const secrets = createLocalSecretBox('integration-local-key');
const deps = (changed: Partial<AnswerDeps> = {}): AnswerDeps => ({
  ...baseDeps,
  now: () => new Date(clockMs),
  ...changed,
});

beforeAll(async () => {
  const table = await freshTable();
  aws = table.aws;
  clients = new ClientRepository(aws.dynamo, table.tableName);
  conversations = new ConversationStore(aws.dynamo, table.tableName);
  graph = await startStandaloneSimulator({ appSecret: APP_SECRET });
  service = testClientService(clients, secrets, { platformHasOpenAi: false });
  baseDeps = {
    clients,
    conversations,
    claims: new MessageClaims(aws.dynamo, table.tableName, 30_000),
    sender: createGraphClient({ baseUrl: graph.graphBaseUrl, retries: 1, backoffMs: 5, maxBackoffMs: 20 }),
    responder: withFallback(undefined, createFaqResponder()),
    secrets,
    platformWhatsAppToken: async () => 'platform-token',
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
    language: 'es',
    bot_enabled: true,
    retention_hours: 24,
    handoff_minutes: 30,
    whatsapp_access_token: 'tenant-token-PLZA',
  });
});

async function post(body: unknown) {
  const rawBody = Buffer.from(metaJson(body));
  const router = createCachedTenantRouter((id) => clients.findRoute(id), { ttlMs: 0, missTtlMs: 0 });
  return receiveWebhook(
    { rawBody, signature: signWebhookBody(rawBody, APP_SECRET) },
    { appSecret: APP_SECRET, router, enqueue: (messages) => sendFifoMessages(aws.sqs, queue.url, messages) },
  );
}

/** A customer's message, as Meta delivers it. */
const deliver = (from: string, text: string) =>
  post(
    graph.simulator.buildInboundPayload({
      phoneNumberId: plaza.phone_number_id,
      from,
      text,
      messageId: `wamid.${from}.${Math.random()}`,
      name: 'Cliente',
    }),
  );

/** What the business sent to `to` from the WhatsApp Business app (or our own send, echoed). */
function deliverEcho(to: string, id = `wamid.ECHO.${Math.random()}`) {
  const body = metaExample('smb_message_echo_text');
  const value = body.entry[0].changes[0].value;
  value.metadata.phone_number_id = plaza.phone_number_id;
  Object.assign(value.message_echoes[0], { to, id });
  return post(body);
}

/** Runs the handler as Lambda's event source mapping would until the queue is empty. */
const drain = (handler: (event: SQSEvent) => Promise<SQSBatchResponse>) => drainQueue(aws, queue, handler);

const answer = (changed: Partial<AnswerDeps> = {}) =>
  drain(createAssistantHandler(async () => deps(changed)));

const repliesTo = (to: string) =>
  graph.simulator.sent.filter((m) => m.phoneNumberId === plaza.phone_number_id && m.to === to);

async function welcomed(key: string) {
  await conversations.touchInbound(plaza.id, { key, wa_id: key }, new Date(clockMs), 24);
  await conversations.updateContact(plaza.id, key, { welcomed_at: new Date(clockMs).toISOString() });
}

describe('smb_message_echoes on a coexistence number', () => {
  it('given the echo of a reply we sent, then it is ours: the bot keeps answering that customer', async () => {
    const from = String(contactSeq++);
    await welcomed(from);
    await deliver(from, '¿Tenéis menú del día?');
    await answer();
    const [reply] = repliesTo(from);
    expect(reply?.text).toContain('12€');

    await deliverEcho(from, reply!.id);
    await answer();

    expect((await conversations.getContact(plaza.id, from))?.handoff_until).toBeUndefined();
    await deliver(from, '¿Hacéis reservas?');
    await answer();
    expect(repliesTo(from)).toHaveLength(2);
  });

  it("given a person's echo, then the bot is silent in that chat only, and answers again after handoff_minutes of their silence", async () => {
    const from = String(contactSeq++);
    const other = String(contactSeq++);
    await welcomed(from);
    await welcomed(other);
    await deliverEcho(from);
    await answer();
    expect(await conversations.getContact(plaza.id, from)).toMatchObject({
      handoff_by: 'person',
      handoff_until: new Date(clockMs + 30 * MINUTE).toISOString(),
    });

    clockMs += 29 * MINUTE;
    await deliver(from, '¿Tenéis menú del día?');
    await deliver(other, '¿Tenéis menú del día?');
    await answer();
    expect(repliesTo(from)).toEqual([]);
    expect(repliesTo(other)).toHaveLength(1);

    clockMs += 2 * MINUTE;
    await deliver(from, '¿Tenéis menú del día?');
    await answer();
    expect(repliesTo(from).map((r) => r.text)).toEqual([expect.stringContaining('12€')]);
  });

  it('given a person writes while the reply is being composed, then that reply is not sent after', async () => {
    const from = String(contactSeq++);
    await welcomed(from);
    const faq = baseDeps.responder;
    // While the answer is composed, the person's echo arrives and another worker handles it: it is
    // in its own FIFO group, so the answer in flight does not hold it back.
    const slowResponder: Responder = {
      async reply(request) {
        await deliverEcho(from);
        const { Messages = [] } = await aws.sqs.send(
          new ReceiveMessageCommand({ QueueUrl: queue.url, MaxNumberOfMessages: 10 }),
        );
        expect(Messages.map((m) => JSON.parse(m.Body!).kind)).toEqual(['owner_message']);
        const result = await createAssistantHandler(async () => deps())(sqsEvent(Messages, queue.arn));
        expect(result.batchItemFailures).toEqual([]);
        return faq.reply(request);
      },
    };
    await deliver(from, '¿Tenéis menú del día?');

    await answer({ responder: slowResponder });

    expect(repliesTo(from)).toEqual([]);
    expect((await conversations.getContact(plaza.id, from))?.handoff_by).toBe('person');
  });
});

describe('a customer who asks for a person', () => {
  it('is told a person will answer, the chat is flagged customer_request, and the bot stays silent meanwhile', async () => {
    const from = String(contactSeq++);
    await welcomed(from);
    await deliver(from, 'Quiero hablar con una persona, por favor');
    await answer();
    expect(repliesTo(from).map((r) => r.text)).toEqual([expect.stringContaining('una persona del equipo')]);
    expect(await conversations.getContact(plaza.id, from)).toMatchObject({ handoff_by: 'customer_request' });

    await deliver(from, '¿Tenéis menú del día?');
    await answer();
    expect(repliesTo(from)).toHaveLength(1);
  });
});
