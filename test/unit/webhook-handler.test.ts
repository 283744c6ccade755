import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { createWebhookHandler } from '../../functions/webhook.ts';
import { httpApiEvent } from '../../infra/local/lambda-events.ts';
import type { QueueEvent } from '../../lib/conversation/inbound-event.ts';
import { TransientError } from '../../lib/errors.ts';
import { InMemoryTelemetry } from '../../lib/observability/telemetry.ts';
import type { FifoMessage } from '../../lib/queue/sqs-publisher.ts';
import { signWebhookBody } from '../../lib/webhook/signature.ts';
import { createCachedTenantRouter } from '../../lib/webhook/tenant-router.ts';
import { metaExample, metaJson } from '../support/fixtures.ts';

const APP_SECRET = 'test-app-secret';
const VERIFY_TOKEN = 'verify-me';
const LA_PLAZA = '631261586727899';

function setup(options: { enqueueFails?: boolean; telemetry?: InMemoryTelemetry } = {}) {
  const enqueued: FifoMessage[] = [];
  const routes: Record<string, { client_id: string; active: boolean }> = {
    [LA_PLAZA]: { client_id: 'cl_plaza', active: true },
    '700100200300400': { client_id: 'cl_clinic', active: true },
    '999000111': { client_id: 'cl_gone', active: false },
  };
  let lookups = 0;
  const router = createCachedTenantRouter(async (id) => {
    lookups++;
    return routes[id];
  });
  const handler = createWebhookHandler(
    async () => ({
      appSecret: APP_SECRET,
      verifyToken: VERIFY_TOKEN,
      router,
      enqueue: async (messages) => {
        if (options.enqueueFails) throw new TransientError('SQS is down');
        enqueued.push(...messages);
      },
    }),
    options.telemetry ? { telemetry: options.telemetry } : {},
  );
  const events = () => enqueued.map((m) => JSON.parse(m.body) as QueueEvent);
  return { handler, enqueued, events, lookups: () => lookups };
}

function post(body: string, signature?: string | null, base64 = false): APIGatewayProxyEventV2 {
  // API Gateway base64-encodes bodies it does not take for text.
  const headers: Record<string, string> = {
    'content-type': base64 ? 'application/octet-stream' : 'application/json',
  };
  const sig = signature === undefined ? signWebhookBody(Buffer.from(body, 'utf8'), APP_SECRET) : signature;
  if (sig !== null) headers['x-hub-signature-256'] = sig;
  const event = httpApiEvent({ method: 'POST', path: '/webhook', headers, body });
  expect(event.isBase64Encoded).toBe(base64);
  return event;
}

const get = (query: Record<string, string>) => httpApiEvent({ method: 'GET', path: '/webhook', query });

describe('GET /webhook (verification)', () => {
  it('given the right verify token, when Meta subscribes, then it answers 200 with the challenge', async () => {
    const { handler } = setup();
    const res = await handler(
      get({ 'hub.mode': 'subscribe', 'hub.verify_token': VERIFY_TOKEN, 'hub.challenge': '1158201444' }),
    );
    expect(res.statusCode).toBe(200);
    expect(res.body).toBe('1158201444');
  });

  it.each([
    ['a wrong token', { 'hub.mode': 'subscribe', 'hub.verify_token': 'nope', 'hub.challenge': '1' }],
    ['no token', { 'hub.mode': 'subscribe', 'hub.challenge': '1' }],
    ['a wrong mode', { 'hub.mode': 'unsubscribe', 'hub.verify_token': VERIFY_TOKEN, 'hub.challenge': '1' }],
  ])('given %s, then it answers 403', async (_, query) => {
    const { handler } = setup();
    expect((await handler(get(query))).statusCode).toBe(403);
  });
});

describe('POST /webhook signature', () => {
  const body = metaJson(metaExample('text'));

  it('given a valid signature over the \\u-escaped bytes, then 200 and one message is enqueued', async () => {
    const { handler, enqueued } = setup();
    const res = await handler(post(body));
    expect(res.statusCode).toBe(200);
    expect(enqueued).toHaveLength(1);
  });

  it('given a valid signature and a base64-encoded body (API Gateway), then it verifies the decoded bytes', async () => {
    const { handler, enqueued } = setup();
    expect((await handler(post(body, undefined, true))).statusCode).toBe(200);
    expect(enqueued).toHaveLength(1);
  });

  it('given a signature computed over the unescaped UTF-8 text, then 401 (signatures cover the exact bytes)', async () => {
    const { handler, enqueued } = setup();
    const reencoded = JSON.stringify(JSON.parse(body));
    const res = await handler(post(body, signWebhookBody(Buffer.from(reencoded), APP_SECRET)));
    expect(res.statusCode).toBe(401);
    expect(enqueued).toHaveLength(0);
  });

  it.each([
    ['missing', null],
    ['wrong', `sha256=${'0'.repeat(64)}`],
    ['malformed', 'sha1=abc'],
    [
      'signed with another secret',
      signWebhookBody(Buffer.from(metaJson(metaExample('text'))), 'other-secret'),
    ],
  ])('given a %s signature, then 401 and nothing is enqueued', async (_, signature) => {
    const { handler, enqueued } = setup();
    const res = await handler(post(body, signature));
    expect(res.statusCode).toBe(401);
    expect(enqueued).toHaveLength(0);
  });
});

describe('POST /webhook routing and validation', () => {
  it('given a batch with 2 entries (two tenants) and 3 messages, then each message goes to its tenant and contact group', async () => {
    const { handler, enqueued } = setup();
    const res = await handler(post(metaJson(metaExample('batch_two_entries_three_messages'))));
    expect(res.statusCode).toBe(200);
    const byId = Object.fromEntries(enqueued.map((m) => [JSON.parse(m.body).message.id, m.groupId]));
    expect(byId).toEqual({
      'wamid.B1': 'cl_plaza:ES.1111',
      'wamid.B2': 'cl_plaza:ES.2222',
      'wamid.B3': 'cl_clinic:ES.3333',
    });
    expect(new Set(enqueued.map((m) => m.deduplicationId)).size).toBe(3);
  });

  it('given a message from a user with a username and no phone, then the contact is keyed on the user id', async () => {
    const { handler, events } = setup();
    await handler(post(metaJson(metaExample('text_username_no_phone'))));
    const [event] = events();
    expect(event?.kind === 'message' && event.contact).toEqual({
      key: 'ES.8812736450019283',
      user_id: 'ES.8812736450019283',
      name: 'Lucía',
    });
  });

  it('given a legacy message without user id, then the contact is keyed on the wa_id', async () => {
    const { handler, events } = setup();
    await handler(post(metaJson(metaExample('text_legacy_without_bsuid'))));
    const [event] = events();
    expect(event?.kind === 'message' && event.contact.key).toBe('34600111222');
  });

  it('given an unknown phone_number_id, then 200 and nothing is enqueued (Meta must not retry)', async () => {
    const { handler, enqueued } = setup();
    const body = metaExample('text');
    body.entry[0].changes[0].value.metadata.phone_number_id = '123456789';
    expect((await handler(post(metaJson(body)))).statusCode).toBe(200);
    expect(enqueued).toHaveLength(0);
  });

  it('given an inactive tenant, then 200 and nothing is enqueued', async () => {
    const { handler, enqueued } = setup();
    const body = metaExample('text');
    body.entry[0].changes[0].value.metadata.phone_number_id = '999000111';
    expect((await handler(post(metaJson(body)))).statusCode).toBe(200);
    expect(enqueued).toHaveLength(0);
  });

  it('given status updates, then they are enqueued as status events (to be recorded, never answered)', async () => {
    const { handler, events } = setup();
    for (const name of ['status_sent', 'status_delivered', 'status_read', 'status_failed_outside_window']) {
      expect((await handler(post(metaJson(metaExample(name))))).statusCode).toBe(200);
    }
    const statuses = events().filter((e) => e.kind === 'status');
    expect(statuses.map((s) => s.kind === 'status' && s.status.status)).toEqual([
      'sent',
      'delivered',
      'read',
      'failed',
    ]);
    const failed = statuses[3];
    expect(failed?.kind === 'status' && failed.status.error_codes).toEqual([131047]);
  });

  it('given statuses with pricing, then the category, type and billable are queued with them; a pricing we cannot read is dropped, the status kept', async () => {
    const { handler, events } = setup();
    const odd = metaExample('status_sent');
    odd.entry[0].changes[0].value.statuses[0].id = 'wamid.ODD';
    odd.entry[0].changes[0].value.statuses[0].pricing = { category: 42, billable: 'yes' };
    for (const body of [metaExample('status_sent'), odd, metaExample('status_delivered')]) {
      expect((await handler(post(metaJson(body)))).statusCode).toBe(200);
    }
    const statuses = events().flatMap((e) => (e.kind === 'status' ? [e.status] : []));
    expect(statuses.map((s) => [s.message_id, s.pricing])).toEqual([
      ['wamid.OUTGOING1', { category: 'service', type: 'regular', billable: true }],
      ['wamid.ODD', undefined],
      ['wamid.OUTGOING1', undefined],
    ]);
  });

  it('given every example message type, then each is enqueued with its readable text when it has one', async () => {
    const { handler, events } = setup();
    for (const name of [
      'image',
      'interactive_button_reply',
      'interactive_list_reply',
      'template_quick_reply_button',
      'reaction',
      'location',
      'audio_voice_note',
    ]) {
      expect((await handler(post(metaJson(metaExample(name))))).statusCode).toBe(200);
    }
    const texts = Object.fromEntries(
      events().map((e) => (e.kind === 'message' ? [e.message.type, e.message.text] : [])),
    );
    expect(texts.image).toBe('¿Tenéis esta mesa libre?');
    expect(texts.interactive).toBeTypeOf('string');
    expect(texts.button).toBe('No quiero promociones');
    expect(texts.reaction).toBeUndefined();
    expect(texts.audio).toBeUndefined();
  });

  it('given a non-messages field or an account error, then 200 and nothing is enqueued', async () => {
    const { handler, enqueued } = setup();
    expect(
      (await handler(post(metaJson(metaExample('non_messages_field_template_status'))))).statusCode,
    ).toBe(200);
    expect((await handler(post(metaJson(metaExample('account_error'))))).statusCode).toBe(200);
    expect(enqueued).toHaveLength(0);
  });

  it.each([
    ['not JSON', '{"object":'],
    ['JSON without entries', '{"object":"whatsapp_business_account"}'],
    ['entries of the wrong type', '{"object":"whatsapp_business_account","entry":"x"}'],
  ])('given a body that is %s, then 400 with a reason', async (_, body) => {
    const { handler, enqueued } = setup();
    const res = await handler(post(body));
    expect(res.statusCode).toBe(400);
    expect(JSON.parse(res.body ?? '{}').message).toBeTruthy();
    expect(enqueued).toHaveLength(0);
  });

  it('given the queue is unavailable, then 5xx so that Meta delivers again', async () => {
    const { handler } = setup({ enqueueFails: true });
    const res = await handler(post(metaJson(metaExample('text'))));
    expect(res.statusCode).toBeGreaterThanOrEqual(500);
  });

  it('given many deliveries for one number, then the tenant lookup is cached', async () => {
    const { handler, lookups } = setup();
    for (let i = 0; i < 5; i++) await handler(post(metaJson(metaExample('text'))));
    expect(lookups()).toBe(1);
  });
});

describe('the webhook metrics', () => {
  it('given a signed delivery, when it is queued, then the delivery and its events are counted and flushed with no tenant', async () => {
    const telemetry = new InMemoryTelemetry();
    const { handler, enqueued } = setup({ telemetry });
    const body = metaJson(metaExample('text'));

    expect((await handler(post(body))).statusCode).toBe(200);

    expect(telemetry.total('WebhookDeliveries')).toBe(1);
    expect(telemetry.total('MessagesEnqueued')).toBe(enqueued.length);
    expect(enqueued.length).toBeGreaterThan(0);
    expect(telemetry.total('SignatureRejected')).toBe(0);
    expect(telemetry.flushes).toEqual([{}]);
  });

  it('given a wrong signature, when it is refused, then the rejection is counted and nothing else', async () => {
    const telemetry = new InMemoryTelemetry();
    const { handler } = setup({ telemetry });

    expect((await handler(post(metaJson(metaExample('text')), 'sha256=00'))).statusCode).toBe(401);

    expect(telemetry.total('SignatureRejected')).toBe(1);
    expect(telemetry.total('WebhookDeliveries')).toBe(0);
    expect(telemetry.flushes).toHaveLength(1);
  });

  it('given a delivery with an invalid message, when it is accepted, then the dropped item is counted', async () => {
    const telemetry = new InMemoryTelemetry();
    const { handler } = setup({ telemetry });
    const body = metaExample('text');
    body.entry[0].changes[0].value.messages[0].timestamp = '9'.repeat(400);

    expect((await handler(post(metaJson(body)))).statusCode).toBe(200);

    expect(telemetry.total('ItemsDropped')).toBe(1);
  });
});
