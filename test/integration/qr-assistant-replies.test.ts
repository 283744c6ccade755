import { CreateQueueCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import type { AwsClients } from '../../lib/aws-clients.ts';
import { type AnswerDeps, handleQueueEvent } from '../../lib/conversation/answer-message.ts';
import type { BurstWakeup } from '../../lib/conversation/burst-ports.ts';
import { BurstStore } from '../../lib/conversation/burst-store.ts';
import { ConversationStore } from '../../lib/conversation/conversation-store.ts';
import { withFallback } from '../../lib/conversation/fallback-responder.ts';
import type { InboundMessageEvent, OwnerMessageEvent } from '../../lib/conversation/inbound-event.ts';
import { MessageClaims } from '../../lib/conversation/message-claims.ts';
import type { WhatsAppSender } from '../../lib/conversation/ports.ts';
import { answerBurst } from '../../lib/conversation/reply-burst.ts';
import { SqsQrCommandQueue } from '../../lib/qr/command-queue.ts';
import { qrCommandSchema } from '../../lib/qr/commands.ts';
import { QrCommandSender, routeByChannel } from '../../lib/qr/qr-sender.ts';
import { qrPhoneNumberId, shardOf } from '../../lib/qr/shards.ts';
import { createFaqResponder } from '../../lib/responders/faq-responder.ts';
import { createLocalSecretBox } from '../../lib/secrets/secret-box.ts';
import { type Client, clientKeys } from '../../lib/tenants/client.ts';
import { ClientRepository } from '../../lib/tenants/client-repository.ts';
import { freshTable, uniqueName } from '../support/emulators.ts';
import { laPlazaFaqs } from '../support/fixtures.ts';
import { testClientService } from '../support/services.ts';

/**
 * A QR tenant's replies: the assistant answers its inbound event like a Cloud API one (claim, FAQ
 * responder) and the reply becomes a `send` command on the command queue of the tenant's shard
 * (fauxqs), not a Graph call; a Cloud API tenant of the same deployment still goes to Graph.
 */
const SHARDS = 2;
let aws: AwsClients;
let tableName: string;
let queueUrls: string[];
let deps: AnswerDeps;
let conversations: ConversationStore;
const graphCalls: string[] = [];
let numberSeq = 910_000;

const secrets = createLocalSecretBox('integration-local-key');

const cloudApi: WhatsAppSender = {
  async sendText(request) {
    graphCalls.push(request.phoneNumberId);
    return { messageId: `wamid.${graphCalls.length}` };
  },
  async sendTemplate(request) {
    graphCalls.push(request.phoneNumberId);
    return { messageId: `wamid.${graphCalls.length}` };
  },
  async markRead() {},
  deliveryFailureKind: () => undefined,
};

beforeAll(async () => {
  ({ aws, tableName } = await freshTable());
  queueUrls = [];
  for (let shard = 0; shard < SHARDS; shard++) {
    const { QueueUrl } = await aws.sqs.send(new CreateQueueCommand({ QueueName: uniqueName(`qr-${shard}`) }));
    queueUrls.push(QueueUrl!);
  }
  const clients = new ClientRepository(aws.dynamo, tableName);
  conversations = new ConversationStore(aws.dynamo, tableName);
  deps = {
    clients,
    conversations,
    claims: new MessageClaims(aws.dynamo, tableName, 30_000),
    sender: routeByChannel(cloudApi, new QrCommandSender(new SqsQrCommandQueue(aws.sqs, queueUrls), SHARDS)),
    responder: withFallback(undefined, createFaqResponder()),
    secrets,
    // No platform token: a QR tenant needs none.
    platformWhatsAppToken: async () => undefined,
    retentionHours: 24,
  };
});

async function createTenant(channel: 'cloud_api' | 'qr'): Promise<Client> {
  const service = testClientService(new ClientRepository(aws.dynamo, tableName), secrets, {
    platformHasOpenAi: false,
  });
  const client = await service.create({
    name: 'Restaurante La Plaza',
    phone_number: '+34666777888',
    phone_number_id: String(numberSeq++),
    faqs: laPlazaFaqs,
    language: 'es',
    bot_enabled: true,
    retention_hours: 24,
    ...(channel === 'cloud_api' ? { whatsapp_access_token: `tenant-token-${numberSeq}` } : {}),
  });
  if (channel === 'cloud_api') return client;
  // What switching to QR mode stores (the switch itself is the tenant API's).
  await aws.dynamo.send(
    new UpdateCommand({
      TableName: tableName,
      Key: clientKeys.profile(client.id),
      UpdateExpression: 'SET #channel = :qr, phone_number_id = :pnid, qr_shard = :shard',
      ExpressionAttributeNames: { '#channel': 'channel' },
      ExpressionAttributeValues: {
        ':qr': 'qr',
        ':pnid': qrPhoneNumberId(client.id),
        ':shard': shardOf(client.id, SHARDS),
      },
    }),
  );
  return { ...client, channel: 'qr', phone_number_id: qrPhoneNumberId(client.id) };
}

function customerMessage(
  tenant: Client,
  from: string,
  text: string,
  id = uniqueName('qrmsg'),
): InboundMessageEvent {
  return {
    v: 1,
    kind: 'message',
    channel: 'qr',
    tenant_id: tenant.id,
    phone_number_id: tenant.phone_number_id,
    contact: { key: from, wa_id: from },
    message: { id, type: 'text', timestamp: Math.floor(Date.now() / 1000), text },
    received_at: new Date().toISOString(),
  };
}

async function drain(url: string) {
  const commands = [];
  for (;;) {
    const { Messages } = await aws.sqs.send(
      new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }),
    );
    if (!Messages?.length) return commands;
    commands.push(...Messages.map((m) => qrCommandSchema.parse(JSON.parse(m.Body!))));
  }
}

describe('the assistant answering a QR tenant', () => {
  it('given a QR tenant, when a customer asks a FAQ, then the answer is a send command on its shard queue only', async () => {
    const tenant = await createTenant('qr');
    const event = customerMessage(tenant, '34600111222', '¿Cuál es el horario?');
    const outcome = await handleQueueEvent(event, deps);
    expect(outcome).toBe('replied');

    const shard = Number(shardOf(tenant.id, SHARDS));
    const commands = await drain(queueUrls[shard]!);
    const other = await drain(queueUrls[1 - shard]!);
    expect(other).toEqual([]);
    expect(commands.length).toBeGreaterThanOrEqual(1);
    const [first] = commands;
    expect(first).toMatchObject({
      kind: 'send',
      tenant_id: tenant.id,
      to: '34600111222',
      reply_to: event.message.id,
    });
    expect(first?.kind === 'send' && first.text).toMatch(/lunes a viernes/);
    expect(Date.parse(first!.expires_at)).toBeGreaterThan(Date.now());

    // The reply is stored under the command id, so the runner's status event finds it.
    const messages = await conversations.listMessages(tenant.id, '34600111222', { limit: 10 });
    const outbound = messages.items.filter((m) => m.direction === 'outbound');
    expect(outbound.map((m) => m.id)).toContain(first!.id);
    expect(graphCalls).not.toContain(tenant.phone_number_id);
  });

  it('given the same message delivered again, when it is handled, then no second command is queued', async () => {
    const tenant = await createTenant('qr');
    const event = customerMessage(tenant, '34600333444', '¿Tenéis terraza?');
    const queueUrl = queueUrls[Number(shardOf(tenant.id, SHARDS))]!;
    await handleQueueEvent(event, deps);
    const first = await drain(queueUrl);
    expect(first.length).toBeGreaterThanOrEqual(1);
    expect(first.every((c) => c.kind === 'send')).toBe(true);

    expect(await handleQueueEvent(event, deps)).not.toBe('replied');
    await handleQueueEvent(event, deps);
    expect(await drain(queueUrl)).toEqual([]);
  });

  it('given a Cloud API tenant on the same deployment, when its customer writes, then Graph sends and no command is queued', async () => {
    const tenant = await createTenant('cloud_api');
    const before = graphCalls.length;
    const event = { ...customerMessage(tenant, '34600555666', '¿Cuál es el horario?'), channel: undefined };
    delete event.channel;
    expect(await handleQueueEvent(event, deps)).toBe('replied');
    expect(graphCalls.slice(before)).toContain(tenant.phone_number_id);
    for (const url of queueUrls)
      expect((await drain(url)).filter((c) => c.tenant_id === tenant.id)).toEqual([]);
  });
});

describe('a QR tenant and the debounce', () => {
  it('given a burst of three messages from a QR session, then one send command answers the whole burst', async () => {
    const tenant = await createTenant('qr');
    const queueUrl = queueUrls[Number(shardOf(tenant.id, SHARDS))]!;
    const scheduled: BurstWakeup[] = [];
    const withBursts: AnswerDeps = {
      ...deps,
      bursts: {
        store: new BurstStore(aws.dynamo, tableName),
        wakeups: { schedule: async (wakeup) => void scheduled.push(wakeup) },
        contacts: conversations,
      },
    };
    const events = ['hola', 'una pregunta', '¿cuál es vuestro horario?'].map((text) =>
      customerMessage(tenant, '34600888111', text),
    );
    for (const event of events) expect(await handleQueueEvent(event, withBursts)).toBe('collected');
    expect(await drain(queueUrl)).toEqual([]);

    expect(await answerBurst(scheduled[0]!, withBursts)).toBe('stale');
    expect(await answerBurst(scheduled[2]!, withBursts)).toBe('replied');
    const commands = await drain(queueUrl);
    expect(commands).toHaveLength(1);
    expect(commands[0]).toMatchObject({ kind: 'send', to: '34600888111', reply_to: events[2]!.message.id });
    expect(commands[0]?.kind === 'send' && commands[0].text).toMatch(/lunes a viernes/);
  });
});

describe('the owner typing on the phone of a QR session', () => {
  function ownerMessage(tenant: Client, to: string): OwnerMessageEvent {
    return {
      v: 1,
      kind: 'owner_message',
      channel: 'qr',
      tenant_id: tenant.id,
      phone_number_id: tenant.phone_number_id,
      contact: { key: to, wa_id: to },
      message: { id: uniqueName('own'), timestamp: Math.floor(Date.now() / 1000) },
      received_at: new Date().toISOString(),
    };
  }

  it('pauses the bot in that chat only, over "activar bot" too, and it answers again 60 minutes after', async () => {
    const tenant = await createTenant('qr');
    const queueUrl = queueUrls[Number(shardOf(tenant.id, SHARDS))]!;
    const t0 = Date.now();
    const at = (minutes: number) => ({ ...deps, now: () => new Date(t0 + minutes * 60_000) });

    expect(await handleQueueEvent(ownerMessage(tenant, '34600777000'), at(0))).toBe('handoff_recorded');
    expect((await conversations.getContact(tenant.id, '34600777000'))?.handoff_by).toBe('person');

    const question = customerMessage(tenant, '34600777000', '¿Cuál es el horario?');
    expect(await handleQueueEvent(question, at(1))).toBe('no_reply');
    expect(await handleQueueEvent(customerMessage(tenant, '34600777000', 'activar bot'), at(2))).toBe(
      'no_reply',
    );
    expect(
      await handleQueueEvent(customerMessage(tenant, '34600777999', '¿Cuál es el horario?'), at(2)),
    ).toBe('replied');
    expect((await drain(queueUrl)).map((c) => c.kind === 'send' && c.to)).toEqual(['34600777999']);

    const later = customerMessage(tenant, '34600777000', '¿Tenéis terraza?');
    expect(await handleQueueEvent(later, at(61))).toBe('replied');
    expect((await drain(queueUrl)).map((c) => c.kind === 'send' && c.to)).toContain('34600777000');
  });
});
