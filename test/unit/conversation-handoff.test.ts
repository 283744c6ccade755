import { describe, expect, it } from 'vitest';
import { type AnswerDeps, handleQueueEvent } from '../../lib/conversation/answer-message.ts';
import type { InboundMessageEvent, OwnerMessageEvent } from '../../lib/conversation/inbound-event.ts';
import { InMemoryConversationStats } from '../../lib/stats/conversation-stats.ts';
import type { Client } from '../../lib/tenants/client.ts';
import {
  InMemoryClaims,
  InMemoryClients,
  InMemoryConversations,
  manualClock,
  RecordingSender,
  ScriptedResponder,
  taggedSecrets,
  plazaTenant as tenant,
  PLAZA_WELCOME as WELCOME,
} from '../fakes/conversation-ports.ts';

/**
 * The handoff on in-memory ports: a person's message (QR, or a Cloud API echo that is not of our own
 * send) pauses the bot in that chat for the tenant's handoff_minutes from the person's last message;
 * a reply planned before the person wrote is not sent after; a customer who asks for a person is
 * told one will answer. The same over DynamoDB Local, fauxqs and the Graph stand-in:
 * test/integration/handoff.test.ts.
 */

const CUSTOMER = '34600111222';
const MINUTE = 60_000;

function given(client: Client = tenant()) {
  const clock = manualClock('2026-05-04T10:00:00.000Z');
  const conversations = new InMemoryConversations();
  const sender = new RecordingSender();
  const stats = new InMemoryConversationStats();
  let beforeReply: () => Promise<void> = async () => undefined;
  const responder = new ScriptedResponder((request) => ({
    text: `Respuesta: ${request.text}`,
    source: 'faq',
  }));
  const deps: AnswerDeps = {
    clients: new InMemoryClients([client]),
    conversations,
    claims: new InMemoryClaims(120_000),
    sender,
    responder: {
      // The hook runs while the reply is being composed: after planning started, before any send.
      async reply(request) {
        await beforeReply();
        return responder.reply(request);
      },
    },
    secrets: taggedSecrets,
    platformWhatsAppToken: async () => 'platform-token',
    retentionHours: 24,
    stats,
    now: clock.now,
  };
  let sequence = 0;
  const message = (text: string, from = CUSTOMER): InboundMessageEvent => ({
    v: 1,
    kind: 'message',
    tenant_id: client.id,
    phone_number_id: client.phone_number_id,
    contact: { key: from, wa_id: from },
    message: { id: `wamid.in.${++sequence}`, type: 'text', timestamp: 1795560000, text },
    received_at: clock.now().toISOString(),
  });
  const ownerMessage = (id = `wamid.echo.${++sequence}`, to = CUSTOMER): OwnerMessageEvent => ({
    v: 1,
    kind: 'owner_message',
    channel: 'cloud_api',
    tenant_id: client.id,
    phone_number_id: client.phone_number_id,
    contact: { key: to, wa_id: to },
    message: { id, timestamp: 1795560000 },
    received_at: clock.now().toISOString(),
  });
  const handle = (event: InboundMessageEvent | OwnerMessageEvent) => handleQueueEvent(event, deps);
  const welcomed = async (contactKey = CUSTOMER) => {
    await conversations.touchInbound(client.id, { key: contactKey, wa_id: contactKey }, clock.now(), 24);
    await conversations.updateContact(client.id, contactKey, { welcomed_at: clock.now().toISOString() });
  };
  return {
    clock,
    conversations,
    sender,
    stats,
    message,
    ownerMessage,
    handle,
    welcomed,
    whileComposing(hook: () => Promise<void>) {
      beforeReply = hook;
    },
  };
}

describe('given a person of the business writes to a customer', () => {
  it('when the echo is of a message we sent, then it is ours: the bot keeps answering', async () => {
    const world = given();
    await world.welcomed();
    expect(await world.handle(world.message('¿Tenéis menú del día?'))).toBe('replied');

    // RecordingSender numbers its sends: the first reply went out as wamid.out.1.
    expect(await world.handle(world.ownerMessage('wamid.out.1'))).toBe('own_echo');

    expect(world.conversations.contact('cl_plaza', CUSTOMER)?.handoff_until).toBeUndefined();
    expect(await world.handle(world.message('¿Abrís el domingo?'))).toBe('replied');
  });

  it('when the echo is not ours, then the bot is silent there, over "activar bot" too, while other chats are answered', async () => {
    const world = given();
    await world.welcomed();
    await world.welcomed('34600999888');

    expect(await world.handle(world.ownerMessage())).toBe('handoff_recorded');

    expect(await world.handle(world.message('¿Tenéis menú del día?'))).toBe('no_reply');
    expect(await world.handle(world.message('activar bot'))).toBe('no_reply');
    expect(await world.handle(world.message('¿Tenéis menú?', '34600999888'))).toBe('replied');
    expect(world.sender.textsTo(CUSTOMER)).toEqual([]);
  });

  it("when the tenant's handoff_minutes of silence from the person pass, then the bot answers again; each message of theirs extends it", async () => {
    const world = given(tenant({ handoff_minutes: 30 }));
    await world.welcomed();
    await world.handle(world.ownerMessage());
    world.clock.advance(20 * MINUTE);
    await world.handle(world.ownerMessage()); // the person writes again: 30 more minutes from now

    world.clock.advance(29 * MINUTE);
    expect(await world.handle(world.message('¿Tenéis menú del día?'))).toBe('no_reply');

    world.clock.advance(2 * MINUTE);
    expect(await world.handle(world.message('¿Tenéis menú del día?'))).toBe('replied');
    expect(world.sender.textsTo(CUSTOMER)).toEqual(['Respuesta: ¿Tenéis menú del día?']);
  });

  it('when a person writes while a reply is being composed, then that reply is not sent after', async () => {
    const world = given();
    await world.welcomed();
    world.whileComposing(async () => {
      expect(await world.handle(world.ownerMessage())).toBe('handoff_recorded');
    });

    expect(await world.handle(world.message('¿Tenéis menú del día?'))).toBe('handed_off');

    expect(world.sender.sent).toEqual([]);
    // Composed, never delivered: the message is counted as received, not as answered.
    expect(world.stats.tallies.map(({ tally }) => tally)).toEqual([{ at: expect.any(Date), messagesIn: 1 }]);
  });

  it('when a person writes between two parts of a reply, then the rest is not sent', async () => {
    const world = given();
    // A new customer: the plan is the welcome, then the answer.
    world.sender.script(async () => {
      await world.handle(world.ownerMessage());
    });

    expect(await world.handle(world.message('¿Tenéis menú del día?'))).toBe('handed_off');

    expect(world.sender.textsTo(CUSTOMER)).toEqual([WELCOME]);
  });
});

describe('given a customer asks for a person', () => {
  it.each([
    ['Quiero hablar con una persona', 'es', 'una persona del equipo'],
    ['¿Puedo HABLAR CON UN HUMANO?', 'es', 'una persona del equipo'],
    ['talk to a human please', 'en', 'a person from the team'],
    ['Can I speak to an agent?', 'en', 'a person from the team'],
    ['quero falar com um atendente', 'pt', 'uma pessoa da equipe'],
  ])(
    'when they write "%s", then they are told a person will answer (%s) and the chat is handed off',
    async (text, _language, reply) => {
      const world = given();
      await world.welcomed();

      expect(await world.handle(world.message(text))).toBe('replied');

      expect(world.sender.textsTo(CUSTOMER)).toEqual([expect.stringContaining(reply)]);
      const contact = world.conversations.contact('cl_plaza', CUSTOMER);
      expect(contact).toMatchObject({
        handoff_by: 'customer_request',
        handoff_until: '2026-05-04T11:00:00.000Z',
      });
      expect(await world.handle(world.message('¿Hola?'))).toBe('no_reply');
    },
  );

  it('when a new customer asks at once, then the request is answered, not the welcome', async () => {
    const world = given();
    expect(await world.handle(world.message('hablar con un humano'))).toBe('replied');
    expect(world.sender.textsTo(CUSTOMER)).toEqual([expect.stringContaining('una persona del equipo')]);
  });

  it('when a question only mentions staff ("¿tenéis personal que hable inglés?"), then it is answered as usual', async () => {
    const world = given();
    await world.welcomed();
    for (const question of [
      '¿Tenéis personal que hable inglés?',
      'Do you have staff who speak English?',
      '¿Cuántas personas caben en la terraza?',
    ]) {
      expect(await world.handle(world.message(question))).toBe('replied');
    }
    expect(world.conversations.contact('cl_plaza', CUSTOMER)?.handoff_until).toBeUndefined();
  });

  it('when nobody of the business answers within handoff_minutes, then the bot answers the next message', async () => {
    const world = given();
    await world.welcomed();
    await world.handle(world.message('talk to a human'));
    world.clock.advance(61 * MINUTE);
    expect(await world.handle(world.message('¿Tenéis menú del día?'))).toBe('replied');
  });

  it('when a person then writes, then the chat is theirs (flagged person) from their message on', async () => {
    const world = given();
    await world.welcomed();
    await world.handle(world.message('talk to a human'));
    world.clock.advance(10 * MINUTE);
    await world.handle(world.ownerMessage());
    expect(world.conversations.contact('cl_plaza', CUSTOMER)).toMatchObject({
      handoff_by: 'person',
      handoff_until: '2026-05-04T11:10:00.000Z',
    });
  });
});
