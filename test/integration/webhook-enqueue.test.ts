import { DeleteMessageBatchCommand, type Message, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { beforeAll, describe, expect, it } from 'vitest';
import { createWebhookHandler } from '../../functions/webhook.ts';
import { httpApiEvent } from '../../infra/local/lambda-events.ts';
import type { AwsClients } from '../../lib/aws-clients.ts';
import { queueEventSchema } from '../../lib/conversation/inbound-event.ts';
import { publishFifoMessages } from '../../lib/queue/sqs-publisher.ts';
import { createLocalSecretBox } from '../../lib/secrets/secret-box.ts';
import type { Client } from '../../lib/tenants/client.ts';
import { ClientRepository } from '../../lib/tenants/client-repository.ts';
import { signWebhookBody } from '../../lib/webhook/signature.ts';
import { createCachedTenantRouter } from '../../lib/webhook/tenant-router.ts';
import { freshFifoQueue, freshTable } from '../support/emulators.ts';
import { laPlazaFaqs, metaJson } from '../support/fixtures.ts';
import { testClientService } from '../support/services.ts';
import { deliveryOfTexts, isSqsValid } from '../unit/webhook-helpers.ts';

/**
 * Issue 7 against fauxqs (which refuses what SQS refuses, and more: it checks UTF-16 code units, so
 * even an emoji): a delivery whose first message SQS cannot carry is answered 200 and every one of
 * its messages reaches the queue, through the real SQS client and publisher.
 */

const APP_SECRET = 'webhook-enqueue-secret';

let aws: AwsClients;
let clients: ClientRepository;
let plaza: Client;

beforeAll(async () => {
  const table = await freshTable();
  aws = table.aws;
  clients = new ClientRepository(aws.dynamo, table.tableName);
  const service = testClientService(clients, createLocalSecretBox('webhook-enqueue-key'), {
    platformHasOpenAi: false,
  });
  plaza = await service.create({
    name: 'Restaurante La Plaza',
    phone_number: '+34666777888',
    phone_number_id: '7007007001',
    faqs: laPlazaFaqs,
    language: 'es',
    bot_enabled: true,
    retention_hours: 24,
  });
});

function webhookInto(queueUrl: string) {
  return createWebhookHandler(async () => ({
    appSecret: APP_SECRET,
    verifyToken: 'v',
    router: createCachedTenantRouter((id) => clients.findRoute(id)),
    // As functions/webhook.ts wires it in production.
    enqueue: (messages) => publishFifoMessages(aws.sqs, queueUrl, messages),
  }));
}

function signedPost(payload: unknown) {
  const body = metaJson(payload);
  return httpApiEvent({
    method: 'POST',
    path: '/webhook',
    headers: { 'content-type': 'application/json', 'x-hub-signature-256': signWebhookBody(body, APP_SECRET) },
    body,
  });
}

/** Receives and deletes until `count` messages came or the queue stays empty (fauxqs serves one per group per receive). */
async function receiveAll(queueUrl: string, count: number): Promise<Message[]> {
  const received: Message[] = [];
  for (let empty = 0; received.length < count && empty < 3; ) {
    const { Messages = [] } = await aws.sqs.send(
      new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }),
    );
    if (Messages.length === 0) empty++;
    else {
      received.push(...Messages);
      await aws.sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: queueUrl,
          Entries: Messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle! })),
        }),
      );
    }
  }
  return received;
}

const POISONED = 'hola \uffff';

describe('a delivery whose first message SQS cannot carry (fauxqs)', () => {
  it('answers 200 and queues all 13 messages, the poisoned text restored exactly', async () => {
    const queue = await freshFifoQueue(aws);
    const texts = [
      POISONED,
      '¿Abrís el domingo? 😀',
      'roto \ud800',
      ...Array.from({ length: 10 }, (_, i) => `mensaje ${i + 4}`),
    ];
    const res = await webhookInto(queue.url)(signedPost(deliveryOfTexts(texts, plaza.phone_number_id)));
    expect(res.statusCode).toBe(200);

    const received = await receiveAll(queue.url, 13);
    expect(received).toHaveLength(13);
    const events = received.map((m) => {
      expect(isSqsValid(m.Body ?? '')).toBe(true);
      // What the assistant function does with a record's body.
      return queueEventSchema.parse(JSON.parse(m.Body ?? ''));
    });
    const textById = Object.fromEntries(
      events.map((e) => (e.kind === 'message' ? [e.message.id, e.message.text] : [])),
    );
    expect(textById['wamid.HOSTILE0']).toBe(POISONED);
    expect(textById['wamid.HOSTILE1']).toBe('¿Abrís el domingo? 😀');
    // A lone surrogate is not a character (no UTF-8 for it): it arrives as U+FFFD.
    expect(textById['wamid.HOSTILE2']).toBe('roto \ufffd');
    expect(Object.keys(textById)).toHaveLength(13);
    expect(events.every((e) => e.tenant_id === plaza.id)).toBe(true);
  });

  it('answers 200 when Meta redelivers it, and queues nothing twice', async () => {
    const queue = await freshFifoQueue(aws);
    const handler = webhookInto(queue.url);
    const payload = deliveryOfTexts([POISONED, 'segundo'], plaza.phone_number_id);
    expect((await handler(signedPost(payload))).statusCode).toBe(200);
    expect((await handler(signedPost(payload))).statusCode).toBe(200);
    expect(await receiveAll(queue.url, 4)).toHaveLength(2);
  });
});
