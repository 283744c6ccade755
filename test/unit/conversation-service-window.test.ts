import { describe, expect, it } from 'vitest';
import { type AnswerDeps, answerMessage, handleQueueEvent } from '../../lib/conversation/answer-message.ts';
import type { InboundMessageEvent, StatusEvent } from '../../lib/conversation/inbound-event.ts';
import type { ApprovedTemplate, TemplateDirectory } from '../../lib/conversation/ports.ts';
import { isWindowClosed, WINDOW_MS } from '../../lib/conversation/service-window.ts';
import { InMemoryConversationStats } from '../../lib/stats/conversation-stats.ts';
import type { Client } from '../../lib/tenants/client.ts';
import { MAX_TEMPLATE_BODY, templateParameters } from '../../lib/whatsapp/message-templates.ts';
import {
  failsAs,
  InMemoryClaims,
  InMemoryClients,
  InMemoryConversations,
  manualClock,
  RecordingSender,
  ScriptedResponder,
  taggedSecrets,
  plazaTenant as tenant,
} from '../fakes/conversation-ports.ts';

/**
 * The 24-hour customer service window on in-memory ports: replies outside it go out once as the
 * tenant's template (or not at all, with why), a 131047 gets the template once, QR tenants are not
 * bound by it, and the pricing of statuses is counted once per message.
 */

const CUSTOMER = '34600111222';
const TEMPLATE = { name: 'respuesta_pendiente', language: 'es' };
const HOUR = 3_600_000;

/** A directory that knows the given templates and counts its lookups. */
function templateDirectory(templates: ApprovedTemplate[]) {
  const lookups: string[] = [];
  const directory: TemplateDirectory = {
    async findApproved(_tenantId, wabaId, _token, wanted) {
      lookups.push(wabaId);
      return templates.find((t) => t.name === wanted.name && t.language === wanted.language);
    },
  };
  return { directory, lookups };
}

const approved = (overrides: Partial<ApprovedTemplate> = {}): ApprovedTemplate => ({
  ...TEMPLATE,
  status: 'APPROVED',
  body_parameters: 1,
  body_text: 'Hola, te respondemos a tu mensaje: {{1}}',
  ...overrides,
});

function given(options: { client?: Partial<Client>; templates?: ApprovedTemplate[] } = {}) {
  const clock = manualClock('2026-05-04T10:00:00.000Z');
  const client = tenant({
    welcome_message: undefined,
    waba_id: '102290129340398',
    window_template: TEMPLATE,
    ...options.client,
  });
  const clients = new InMemoryClients([client]);
  const conversations = new InMemoryConversations();
  const claims = new InMemoryClaims(120_000);
  const sender = new RecordingSender({ 131047: 'window_closed' });
  const stats = new InMemoryConversationStats();
  const templates = templateDirectory(options.templates ?? [approved()]);
  const deps: AnswerDeps = {
    clients,
    conversations,
    claims,
    sender,
    responder: new ScriptedResponder((request) => ({ text: `Respuesta: ${request.text}`, source: 'faq' })),
    secrets: taggedSecrets,
    platformWhatsAppToken: async () => 'platform-token',
    retentionHours: 24,
    stats,
    templates: templates.directory,
    now: clock.now,
  };
  let sequence = 0;
  /** A message the customer wrote now (by the clock), for the test to answer whenever it likes. */
  const message = (text: string, writtenAt = clock.now()): InboundMessageEvent => ({
    v: 1,
    kind: 'message',
    tenant_id: client.id,
    phone_number_id: client.phone_number_id,
    contact: { key: CUSTOMER, wa_id: CUSTOMER },
    message: { id: `wamid.in.${++sequence}`, type: 'text', timestamp: writtenAt.getTime() / 1000, text },
    ...(client.channel ? { channel: client.channel } : {}),
    received_at: clock.now().toISOString(),
  });
  const answer = (event: InboundMessageEvent) => answerMessage(event, deps);
  return { clock, client, conversations, claims, sender, stats, templates, deps, message, answer };
}

describe('given a customer who wrote more than 24 hours before the answer goes out', () => {
  it('when the tenant has an approved window_template, then the reply goes out once as that template, its parameter filled from the reply', async () => {
    const world = given();
    const event = world.message('¿Abrís el domingo?');
    world.clock.advance(25 * HOUR);

    expect(await world.answer(event)).toBe('replied');

    expect(world.sender.sent).toEqual([]);
    expect(world.sender.templates).toEqual([
      expect.objectContaining({
        name: 'respuesta_pendiente',
        language: 'es',
        to: { wa_id: CUSTOMER },
        bodyParameters: [{ text: 'Respuesta: ¿Abrís el domingo?' }],
      }),
    ]);
    expect(world.templates.lookups).toEqual(['102290129340398']);
    const outbound = world.conversations
      .history('cl_plaza', CUSTOMER)
      .filter((m) => m.direction === 'outbound');
    expect(outbound).toEqual([
      expect.objectContaining({ type: 'template', template: TEMPLATE, status: 'accepted' }),
    ]);
    expect(await world.answer(event)).toBe('duplicate');
    expect(world.sender.templates).toHaveLength(1);
  });

  it('when the reply has several parts, then they go out in one template, not one each', async () => {
    const world = given({ client: { welcome_message: '¡Hola!\nSoy el asistente.' } });
    const event = world.message('¿Abrís el domingo?');
    world.clock.advance(24 * HOUR);

    await world.answer(event);

    expect(world.sender.templates).toHaveLength(1);
    expect(world.sender.templates[0]?.bodyParameters).toEqual([
      { text: '¡Hola! Soy el asistente. Respuesta: ¿Abrís el domingo?' },
    ]);
  });

  it('when the tenant has no window_template, then nothing is sent and why is recorded on the claim and in the conversation', async () => {
    const world = given({ client: { window_template: undefined } });
    const event = world.message('¿Abrís el domingo?');
    world.clock.advance(25 * HOUR);

    expect(await world.answer(event)).toBe('window_closed');

    expect(world.sender.sendAttempts).toBe(0);
    expect(world.claims.get('cl_plaza', event.message.id)).toMatchObject({
      state: 'done',
      outcome: 'window_closed',
    });
    const notSent = world.conversations.history('cl_plaza', CUSTOMER).find((m) => m.status === 'not_sent');
    expect(notSent).toMatchObject({
      direction: 'outbound',
      not_sent_reason: 'window_closed: no window_template is set',
      in_reply_to: event.message.id,
    });
    expect(await world.answer(event)).toBe('duplicate');
  });

  it('when the template is no longer approved on the WABA, then nothing is sent, with that reason', async () => {
    const world = given({ templates: [] });
    const event = world.message('¿Abrís el domingo?');
    world.clock.advance(25 * HOUR);

    expect(await world.answer(event)).toBe('window_closed');

    expect(world.sender.sendAttempts).toBe(0);
    const notSent = world.conversations.history('cl_plaza', CUSTOMER).find((m) => m.status === 'not_sent');
    expect(notSent?.not_sent_reason).toMatch(/"respuesta_pendiente" \(es\) is not an approved template/);
  });

  it('when the template has two body parameters, then both are filled, the reply in order', async () => {
    const world = given({ templates: [approved({ body_parameters: 2, body_text: '{{1}} {{2}}' })] });
    const event = world.message('¿Tenéis menú del día los sábados?');
    world.clock.advance(25 * HOUR);

    await world.answer(event);

    const parameters = world.sender.templates[0]?.bodyParameters.map((p) => p.text) ?? [];
    expect(parameters).toHaveLength(2);
    expect(parameters.join(' ')).toBe('Respuesta: ¿Tenéis menú del día los sábados?');
  });
});

describe('given a customer who wrote a few minutes ago', () => {
  it('when the answer goes out, then as free text, and the template is not looked up', async () => {
    const world = given();
    const event = world.message('¿Abrís el domingo?');
    world.clock.advance(5 * 60_000);

    expect(await world.answer(event)).toBe('replied');

    expect(world.sender.textsTo(CUSTOMER)).toEqual(['Respuesta: ¿Abrís el domingo?']);
    expect(world.sender.templates).toEqual([]);
    expect(world.templates.lookups).toEqual([]);
  });

  it('when Meta refuses the text with 131047 anyway, then the template goes out once and the window is recorded closed', async () => {
    const world = given();
    world.sender.script(failsAs('window_closed'));
    const event = world.message('¿Abrís el domingo?');

    expect(await world.answer(event)).toBe('replied');

    expect(world.sender.sendAttempts).toBe(2);
    expect(world.sender.sent).toEqual([]);
    expect(world.sender.templates).toHaveLength(1);
    const contact = world.conversations.contact('cl_plaza', CUSTOMER);
    expect(contact?.window_closed_at).toBe(world.clock.now().toISOString());
    expect(contact && isWindowClosed(contact, world.clock.now())).toBe(true);
  });

  it('when Meta refuses the template too, then the attempt ends: no second template, no loop, not retried', async () => {
    const world = given();
    world.sender.script(failsAs('window_closed'), failsAs('window_closed'));
    const event = world.message('¿Abrís el domingo?');

    expect(await world.answer(event)).toBe('window_closed');
    expect(await world.answer(event)).toBe('duplicate');

    expect(world.sender.sendAttempts).toBe(2);
    expect(world.sender.templates).toEqual([]);
  });

  it('when the customer writes again after a 131047, then the window is open again and the reply is free text', async () => {
    const world = given();
    world.sender.script(failsAs('window_closed'));
    await world.answer(world.message('¿Abrís el domingo?'));
    world.clock.advance(60_000);

    await world.answer(world.message('¿Y el lunes?'));

    expect(world.sender.textsTo(CUSTOMER)).toEqual(['Respuesta: ¿Y el lunes?']);
  });
});

describe('given Meta accepts a reply and refuses it afterwards, in a 131047 status', () => {
  const refusal = (world: ReturnType<typeof given>, messageId: string, at: Date): StatusEvent => ({
    v: 1,
    kind: 'status',
    tenant_id: world.client.id,
    phone_number_id: world.client.phone_number_id,
    contact_key: CUSTOMER,
    status: {
      message_id: messageId,
      status: 'failed',
      timestamp: Math.floor(at.getTime() / 1000),
      error_codes: [131047],
    },
    received_at: world.clock.now().toISOString(),
  });

  it('then the reply goes out once as the template, however often the refusals come', async () => {
    const world = given();
    await world.answer(world.message('¿Abrís el domingo?'));
    expect(world.sender.textsTo(CUSTOMER)).toEqual(['Respuesta: ¿Abrís el domingo?']);
    world.clock.advance(5_000);
    const failed = refusal(world, 'wamid.out.1', world.clock.now());

    await handleQueueEvent(failed, world.deps);
    await handleQueueEvent(failed, world.deps); // Meta delivers it again

    expect(world.sender.templates).toHaveLength(1);
    expect(world.sender.templates[0]).toMatchObject({
      name: TEMPLATE.name,
      language: TEMPLATE.language,
      bodyParameters: [{ text: 'Respuesta: ¿Abrís el domingo?' }],
    });
  });

  it('when the customer wrote again since, then no template: their new message gets its own answer', async () => {
    const world = given();
    await world.answer(world.message('¿Abrís el domingo?'));
    const refusedAt = world.clock.now();
    world.clock.advance(60_000);
    await world.answer(world.message('¿Y el lunes?'));

    await handleQueueEvent(refusal(world, 'wamid.out.1', refusedAt), world.deps);

    expect(world.sender.templates).toEqual([]);
  });

  it('without a window_template, then nothing more is sent and the conversation says why', async () => {
    const world = given({ client: { window_template: undefined } });
    await world.answer(world.message('¿Abrís el domingo?'));

    await handleQueueEvent(refusal(world, 'wamid.out.1', world.clock.now()), world.deps);

    expect(world.sender.templates).toEqual([]);
    const notSent = world.conversations
      .history(world.client.id, CUSTOMER)
      .filter((message) => message.status === 'not_sent');
    expect(notSent).toHaveLength(1);
  });
});

describe('a backlog: an old message answered just before a fresh one', () => {
  it('given no template, when the old one cannot be sent, then the fresh one still gets free text', async () => {
    const world = given({ client: { window_template: undefined } });
    const start = world.clock.now();
    const old = world.message('¿Abrís hoy?', start);
    world.clock.advance(25 * HOUR);
    const fresh = world.message('¿Y mañana?');
    world.clock.advance(60_000); // both queued; the old one is handled first

    expect(await world.answer(old)).toBe('window_closed');
    expect(await world.answer(fresh)).toBe('replied');

    expect(world.sender.textsTo(CUSTOMER)).toEqual(['Respuesta: ¿Y mañana?']);
  });

  it('given a 131047 status handled late, after the customer wrote again, then the new window stays open', async () => {
    const world = given();
    await world.answer(world.message('¿Abrís el domingo?'));
    const failedAt = world.clock.now();
    world.clock.advance(10 * 60_000);
    const fresh = world.message('¿Y el lunes?');
    world.clock.advance(60_000);
    // The status of the first reply, refused by Meta when it was sent, arrives only now.
    const status: StatusEvent = {
      v: 1,
      kind: 'status',
      tenant_id: world.client.id,
      phone_number_id: world.client.phone_number_id,
      contact_key: CUSTOMER,
      status: {
        message_id: 'wamid.out.1',
        status: 'failed',
        timestamp: Math.floor(failedAt.getTime() / 1000),
        error_codes: [131047],
      },
      received_at: world.clock.now().toISOString(),
    };
    await handleQueueEvent(status, world.deps);

    await world.answer(fresh);

    expect(world.sender.textsTo(CUSTOMER)).toEqual([
      'Respuesta: ¿Abrís el domingo?',
      'Respuesta: ¿Y el lunes?',
    ]);
  });
});

describe('the window follows what the customer wrote, by their own time', () => {
  it('given a message written 30 hours ago that arrives now, after a newer one, then the window stays where the newer one put it', async () => {
    const world = given();
    const start = world.clock.now();
    const newer = world.message('¿Y mañana?', new Date(start.getTime() + 2 * HOUR));
    const older = world.message('¿Abrís hoy?', start);
    world.clock.advance(2 * HOUR);
    await world.answer(newer);
    world.clock.advance(28 * HOUR); // the old one is delivered again, 30 h after it was written

    await world.answer(older);

    const contact = world.conversations.contact('cl_plaza', CUSTOMER);
    expect(contact?.last_customer_message_at).toBe(new Date(start.getTime() + 2 * HOUR).toISOString());
    // 28 h after the newer message: closed, so the late one was answered with the template.
    expect(world.sender.templates).toHaveLength(1);
  });

  it('given a person of the business writing from the app, then the window does not move', async () => {
    const world = given();
    await world.answer(world.message('Hola'));
    world.clock.advance(23 * HOUR);
    await handleQueueEvent(
      {
        v: 1,
        kind: 'owner_message',
        tenant_id: 'cl_plaza',
        phone_number_id: world.client.phone_number_id,
        contact: { key: CUSTOMER, wa_id: CUSTOMER },
        message: { id: 'wamid.owner.1', timestamp: world.clock.now().getTime() / 1000, text: 'Te llamo' },
        received_at: world.clock.now().toISOString(),
      },
      world.deps,
    );
    world.clock.advance(2 * HOUR);

    const contact = world.conversations.contact('cl_plaza', CUSTOMER);
    expect(contact && isWindowClosed(contact, world.clock.now())).toBe(true);
  });

  it('closes exactly 24 hours after the customer wrote', () => {
    const wrote = '2026-05-04T10:00:00.000Z';
    const contact = { last_customer_message_at: wrote };
    expect(isWindowClosed(contact, new Date(Date.parse(wrote) + WINDOW_MS - 1))).toBe(false);
    expect(isWindowClosed(contact, new Date(Date.parse(wrote) + WINDOW_MS))).toBe(true);
    expect(isWindowClosed({}, new Date(wrote))).toBe(true);
  });
});

describe('given a QR tenant', () => {
  it('when the answer goes out more than 24 hours after the customer wrote, then as free text: a linked account has no window', async () => {
    const world = given({ client: { channel: 'qr', phone_number_id: 'qr:cl_plaza' } });
    const event = world.message('¿Abrís el domingo?');
    world.clock.advance(30 * HOUR);

    expect(await world.answer(event)).toBe('replied');

    expect(world.sender.textsTo(CUSTOMER)).toEqual(['Respuesta: ¿Abrís el domingo?']);
    expect(world.sender.templates).toEqual([]);
  });
});

describe('pricing of statuses', () => {
  const status = (state: string, pricing?: StatusEvent['status']['pricing']): StatusEvent => ({
    v: 1,
    kind: 'status',
    tenant_id: 'cl_plaza',
    phone_number_id: '700001',
    status: {
      message_id: 'wamid.out.1',
      status: state,
      timestamp: 1_777_900_000,
      error_codes: [],
      ...(pricing ? { pricing } : {}),
    },
    received_at: '2026-05-04T10:00:00.000Z',
  });

  it('given sent, delivered and read (twice) with pricing, then the message keeps its pricing and is counted once', async () => {
    const world = given();
    await world.answer(world.message('¿Abrís el domingo?'));
    const pricing = { category: 'service', type: 'regular', billable: true };

    for (const state of ['sent', 'delivered', 'read', 'read']) {
      expect(await handleQueueEvent(status(state, pricing), world.deps)).toBe('status_recorded');
    }

    expect(world.stats.billable).toEqual([
      {
        tenantId: 'cl_plaza',
        message: { messageId: 'wamid.out.1', at: new Date(1_777_900_000_000), category: 'service' },
      },
    ]);
    const sent = world.conversations.history('cl_plaza', CUSTOMER).find((m) => m.id === 'wamid.out.1');
    expect(sent).toMatchObject({ status: 'read', pricing });
  });

  it('given a free or non-billable pricing, or none, then nothing is counted', async () => {
    const world = given();
    await handleQueueEvent(
      status('sent', { category: 'service', type: 'free_customer_service' }),
      world.deps,
    );
    await handleQueueEvent(status('sent', { category: 'utility', billable: false }), world.deps);
    await handleQueueEvent(status('delivered'), world.deps);
    expect(world.stats.billable).toEqual([]);
  });
});

describe('template parameters', () => {
  it('are one line, within the body Meta allows, and never empty', () => {
    const [only] = templateParameters(approved(), 'Primera línea\n\nSegunda\tparte     y más');
    expect(only?.text).toBe('Primera línea Segunda parte y más');

    const long = templateParameters(approved(), 'palabra '.repeat(500));
    const fixed = 'Hola, te respondemos a tu mensaje: '.length;
    expect(long[0]?.text.length).toBe(MAX_TEMPLATE_BODY - fixed);
    expect(long[0]?.text.endsWith('…')).toBe(true);

    const three = templateParameters(
      approved({ body_parameters: 3, body_text: '{{1}} {{2}} {{3}}' }),
      'Hola',
    );
    expect(three.every((parameter) => parameter.text.length > 0)).toBe(true);
    expect(templateParameters(approved({ body_parameters: 0 }), 'Hola')).toEqual([]);
  });

  it('carry their names for a template of named parameters', () => {
    const named = templateParameters(
      approved({ body_parameters: 1, parameter_names: ['respuesta'], body_text: 'Hola: {{respuesta}}' }),
      'Sí',
    );
    expect(named).toEqual([{ text: 'Sí', name: 'respuesta' }]);
  });
});
