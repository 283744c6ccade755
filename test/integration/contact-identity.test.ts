import { GetCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import type { AwsClients } from '../../lib/aws-clients.ts';
import { type AnswerDeps, handleQueueEvent } from '../../lib/conversation/answer-message.ts';
import { ConversationStore } from '../../lib/conversation/conversation-store.ts';
import type { ContactRef, InboundMessageEvent } from '../../lib/conversation/inbound-event.ts';
import { contactAliasKeys, contactKeys, messageKeys } from '../../lib/conversation/keys.ts';
import { RetentionStore } from '../../lib/retention/retention-store.ts';
import {
  InMemoryClaims,
  InMemoryClients,
  manualClock,
  RecordingSender,
  ScriptedResponder,
  taggedSecrets,
  plazaTenant as tenant,
  PLAZA_WELCOME as WELCOME,
} from '../fakes/conversation-ports.ts';
import { freshTable } from '../support/emulators.ts';

/**
 * One customer, one contact, over DynamoDB Local: a customer Meta names by phone (wa_id) and by a
 * business-scoped user id, in any order and any mix, has one conversation, one OpenAI conversation
 * and one welcome; replies go to the id the message carried.
 */

let aws: AwsClients;
let tableName: string;

beforeAll(async () => {
  ({ aws, tableName } = await freshTable());
});

function given() {
  const clock = manualClock('2026-06-01T10:00:00.000Z');
  const conversations = new ConversationStore(aws.dynamo, tableName);
  const sender = new RecordingSender();
  let conversationSeq = 0;
  const responder = new ScriptedResponder((request) => ({
    text: `Respuesta: ${request.text}`,
    source: 'openai',
    conversationId: request.contact.conversationId ?? `conv_${++conversationSeq}`,
  }));
  // A tenant of its own per test: the table is shared.
  const client = tenant({ id: `cl_${Math.random().toString(36).slice(2, 10)}` });
  client.whatsapp_access_token_enc = `enc:${client.id}:tenant-token`;
  const deps: AnswerDeps = {
    clients: new InMemoryClients([client]),
    conversations,
    claims: new InMemoryClaims(60_000),
    sender,
    responder,
    secrets: taggedSecrets,
    platformWhatsAppToken: async () => 'platform-token',
    retentionHours: 24,
    now: clock.now,
  };
  let seq = 0;
  const send = async (contact: Omit<ContactRef, 'key'>, text: string) => {
    clock.advance(60_000);
    const event: InboundMessageEvent = {
      v: 1,
      kind: 'message',
      tenant_id: client.id,
      phone_number_id: client.phone_number_id,
      // The webhook's rule: the user id when Meta gave one, else the phone.
      contact: { key: (contact.user_id ?? contact.wa_id) as string, ...contact },
      message: {
        id: `wamid.${client.id}.${++seq}`,
        type: 'text',
        timestamp: Math.floor(clock.now().getTime() / 1000),
        text,
      },
      received_at: clock.now().toISOString(),
    };
    return handleQueueEvent(event, deps);
  };
  const contactsOf = async () => {
    const { Items } = await aws.dynamo.send(
      new QueryCommand({
        TableName: tableName,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :contact)',
        ExpressionAttributeValues: { ':pk': `CLIENT#${client.id}`, ':contact': 'CONTACT#' },
      }),
    );
    return Items ?? [];
  };
  const inboundTexts = async (contactKey: string) =>
    (await conversations.listMessages(client.id, contactKey, { limit: 50 })).items
      .filter((message) => message.direction === 'inbound')
      .map((message) => message.text)
      .reverse();
  return { client, conversations, sender, responder, send, contactsOf, inboundTexts };
}

const WA_ID = '34611222333';
const USER_ID = 'ES.1234567890abcdef';

describe('a customer named by phone and by user id', () => {
  it('given first the phone, then both, then only the user id, then one contact, one welcome, one OpenAI conversation', async () => {
    const world = given();
    expect(await world.send({ wa_id: WA_ID }, 'hola')).toBe('replied');
    expect(await world.send({ wa_id: WA_ID, user_id: USER_ID }, '¿Tenéis menú del día?')).toBe('replied');
    expect(await world.send({ user_id: USER_ID }, '¿Y el domingo?')).toBe('replied');

    const contacts = await world.contactsOf();
    expect(contacts).toHaveLength(1);
    expect(contacts[0]).toMatchObject({
      contact_key: WA_ID,
      wa_id: WA_ID,
      user_id: USER_ID,
      openai_conversation_id: 'conv_1',
    });
    expect(await world.inboundTexts(WA_ID)).toEqual(['hola', '¿Tenéis menú del día?', '¿Y el domingo?']);
    // One welcome, and every later question asked in the same OpenAI conversation.
    expect(world.sender.sent.filter((request) => request.text === WELCOME)).toHaveLength(1);
    // ("hola" got the welcome only; the first question opened the OpenAI conversation.)
    expect(world.responder.requests.map((request) => request.contact)).toEqual([
      { key: WA_ID },
      { key: WA_ID, conversationId: 'conv_1' },
    ]);
    // Replies go where Meta requires for each message: the user id when the message had one.
    expect(world.sender.sent.map((request) => request.to)).toEqual([
      { wa_id: WA_ID },
      { user_id: USER_ID, wa_id: WA_ID },
      { user_id: USER_ID },
    ]);
  });

  it('given first the user id, then both, then only the phone, then the user id keys the one contact', async () => {
    const world = given();
    await world.send({ user_id: USER_ID }, 'hola');
    await world.send({ user_id: USER_ID, wa_id: WA_ID }, '¿Tenéis menú del día?');
    await world.send({ wa_id: WA_ID }, 'gracias');

    const contacts = await world.contactsOf();
    expect(contacts.map((contact) => contact.contact_key)).toEqual([USER_ID]);
    expect(await world.inboundTexts(USER_ID)).toEqual(['hola', '¿Tenéis menú del día?', 'gracias']);
    expect(world.sender.sent.filter((request) => request.text === WELCOME)).toHaveLength(1);
  });

  it('given a contact stored under its phone before aliases existed, then a message naming both ids continues it', async () => {
    const world = given();
    await aws.dynamo.send(
      new PutCommand({
        TableName: tableName,
        Item: {
          ...contactKeys.contact(world.client.id, WA_ID),
          item_type: 'contact',
          contact_key: WA_ID,
          wa_id: WA_ID,
          first_seen_at: '2026-05-01T10:00:00.000Z',
          last_activity_at: '2026-05-01T10:00:00.000Z',
          bot_paused: false,
          welcomed_at: '2026-05-01T10:00:00.000Z',
          openai_conversation_id: 'conv_old',
        },
      }),
    );
    await world.send({ wa_id: WA_ID, user_id: USER_ID }, '¿Tenéis menú del día?');
    await world.send({ user_id: USER_ID }, '¿Y el domingo?');

    expect((await world.contactsOf()).map((contact) => contact.contact_key)).toEqual([WA_ID]);
    expect(world.sender.sent.some((request) => request.text === WELCOME)).toBe(false);
    expect(world.responder.requests.map((request) => request.contact.conversationId)).toEqual([
      'conv_old',
      'conv_old',
    ]);
  });

  it('given two customers, then each keeps its own contact (an alias never joins strangers)', async () => {
    const world = given();
    await world.send({ wa_id: WA_ID, user_id: USER_ID }, 'hola');
    await world.send({ wa_id: '34699888777', user_id: 'ES.other' }, 'hola');
    await world.send({ user_id: 'ES.other' }, '¿Tenéis menú del día?');

    const keys = (await world.contactsOf()).map((contact) => contact.contact_key).sort();
    expect(keys).toEqual(['ES.1234567890abcdef', 'ES.other']);
    expect(await world.inboundTexts('ES.other')).toEqual(['hola', '¿Tenéis menú del día?']);
  });

  it('given a phone that changed hands (another user id brings it), then the new owner gets a contact of its own and the phone', async () => {
    const world = given();
    await world.send({ wa_id: WA_ID, user_id: 'ES.alice' }, 'hola');
    await world.send({ wa_id: WA_ID, user_id: 'ES.bob' }, 'hola, soy nuevo');
    await world.send({ wa_id: WA_ID }, '¿Tenéis menú del día?');

    const keys = (await world.contactsOf()).map((contact) => contact.contact_key).sort();
    expect(keys).toEqual(['ES.alice', 'ES.bob']);
    expect(await world.inboundTexts('ES.alice')).toEqual(['hola']);
    // The phone alone now names its new owner.
    expect(await world.inboundTexts('ES.bob')).toEqual(['hola, soy nuevo', '¿Tenéis menú del día?']);
    // Each got its own welcome: nothing of Alice's conversation reached Bob.
    expect(world.sender.sent.filter((request) => request.text === WELCOME)).toHaveLength(2);
  });

  it('given two first messages racing, one by phone and one by phone and user id, then both name one contact', async () => {
    const world = given();
    const at = new Date('2026-06-01T10:00:00.000Z');
    for (let round = 0; round < 20; round++) {
      const wa = `3462200${String(round).padStart(4, '0')}`;
      const uid = `ES.race${round}`;
      const [byPhone, byBoth] = await Promise.all([
        world.conversations.resolveContact(world.client.id, { key: wa, wa_id: wa }, at, 24),
        world.conversations.resolveContact(world.client.id, { key: uid, user_id: uid, wa_id: wa }, at, 24),
      ]);
      expect(byPhone.key).toBe(byBoth.key);
      // And whoever comes later, by either id, finds the same one.
      const later = await world.conversations.resolveContact(
        world.client.id,
        { key: uid, user_id: uid },
        at,
        24,
      );
      expect(later.key).toBe(byPhone.key);
    }
  });

  it('given the contact is erased, then its aliases go with it and the customer starts afresh', async () => {
    const world = given();
    await world.send({ wa_id: WA_ID }, 'hola');
    await world.send({ wa_id: WA_ID, user_id: USER_ID }, 'otra vez');
    const aliasOf = async (kind: 'uid' | 'wa', id: string) =>
      (
        await aws.dynamo.send(
          new GetCommand({ TableName: tableName, Key: contactAliasKeys.alias(world.client.id, kind, id) }),
        )
      ).Item;
    expect(await aliasOf('uid', USER_ID)).toMatchObject({ contact_key: WA_ID, item_type: 'contact_alias' });
    expect((await aliasOf('wa', WA_ID))?.expires_at).toBeGreaterThan(
      Date.parse('2026-06-02T10:00:00Z') / 1000,
    );

    const retention = new RetentionStore(aws.dynamo, tableName);
    const taken = await retention.takeContactForErasure(world.client.id, WA_ID, 'run-1', 60_000);
    expect(taken.outcome).toBe('taken');
    expect(await retention.deleteContact(world.client.id, WA_ID, 'run-1')).toBeDefined();
    expect(await aliasOf('uid', USER_ID)).toBeUndefined();
    expect(await aliasOf('wa', WA_ID)).toBeUndefined();

    await world.send({ user_id: USER_ID }, 'hola de nuevo');
    expect((await world.contactsOf()).map((contact) => contact.contact_key)).toEqual([USER_ID]);
    const messages = await aws.dynamo.send(
      new QueryCommand({
        TableName: tableName,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': messageKeys.partition(world.client.id, USER_ID) },
      }),
    );
    expect(messages.Items?.some((item) => item.text === 'hola de nuevo')).toBe(true);
  });
});
