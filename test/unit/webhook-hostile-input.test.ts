import { afterEach, describe, expect, it, vi } from 'vitest';
import { createWebhookHandler } from '../../functions/webhook.ts';
import { httpApiEvent } from '../../infra/local/lambda-events.ts';
import { type QueueEvent, queueEventSchema } from '../../lib/conversation/inbound-event.ts';
import { logger } from '../../lib/logger.ts';
import { type FifoMessage, publishFifoMessages, sqsSafeId } from '../../lib/queue/sqs-publisher.ts';
import { receiveWebhook } from '../../lib/webhook/receive-webhook.ts';
import { signWebhookBody } from '../../lib/webhook/signature.ts';
import { createCachedTenantRouter } from '../../lib/webhook/tenant-router.ts';
import { metaExample, metaJson } from '../support/fixtures.ts';
import { deliveryOfTexts, fakeSqs, isSqsValid } from './webhook-helpers.ts';

/**
 * Issue 7, "one hostile message must never block a delivery": text SQS cannot carry, and values
 * beyond what Meta ever sends, are cleaned, escaped, truncated or dropped item by item; the
 * delivery is answered 200 once everything that can be queued is queued.
 */

const SECRET = 'hostile-secret';
const LA_PLAZA = '631261586727899';

function setup(enqueue?: (messages: FifoMessage[]) => Promise<unknown>) {
  const queued: FifoMessage[] = [];
  const lookups: string[] = [];
  const handler = createWebhookHandler(async () => ({
    appSecret: SECRET,
    verifyToken: 'v',
    router: createCachedTenantRouter(async (id: string) => {
      lookups.push(id);
      return id === LA_PLAZA ? { client_id: 'cl_plaza', active: true } : undefined;
    }),
    enqueue:
      (enqueue as never) ??
      (async (messages: FifoMessage[]) => {
        queued.push(...messages);
      }),
  }));
  const post = async (payload: unknown) => {
    const body = typeof payload === 'string' ? payload : metaJson(payload);
    const res = await handler(
      httpApiEvent({
        method: 'POST',
        path: '/webhook',
        headers: { 'content-type': 'application/json', 'x-hub-signature-256': signWebhookBody(body, SECRET) },
        body,
      }),
    );
    return res.statusCode;
  };
  const events = () => queued.map((m) => queueEventSchema.parse(JSON.parse(m.body)));
  return { post, queued, events, lookups };
}

const textOf = (event: QueueEvent | undefined) =>
  event?.kind === 'message' ? event.message.text : undefined;

function expectSqsValid(messages: FifoMessage[]) {
  for (const m of messages) {
    expect(isSqsValid(m.body)).toBe(true);
    expect(isSqsValid(sqsSafeId(m.groupId))).toBe(true);
    expect(isSqsValid(sqsSafeId(m.deduplicationId))).toBe(true);
  }
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('text SQS cannot carry', () => {
  it.each([
    ['a noncharacter U+FFFF', 'hola \uffff', 'hola \uffff'],
    ['a noncharacter U+FFFE', 'hola \ufffe', 'hola \ufffe'],
    ['control characters', 'a\u0000b\u0008c\u000bd', 'a\u0000b\u0008c\u000bd'],
    ['an emoji (a valid surrogate pair)', 'hola 😀', 'hola 😀'],
    ['a lone high surrogate', 'hola \ud800', 'hola \ufffd'],
    ['a lone low surrogate', '\udc00 hola', '\ufffd hola'],
  ])(
    'given a text with %s, then 200, the body is SQS-valid and the text reaches the responder as decided',
    async (_, text, expected) => {
      const { post, queued, events } = setup();
      expect(await post(deliveryOfTexts([text]))).toBe(200);
      expect(queued).toHaveLength(1);
      expectSqsValid(queued);
      expect(textOf(events()[0])).toBe(expected);
    },
  );

  it('given a profile name with U+FFFE and a lone surrogate, then the name is carried SQS-valid', async () => {
    const { post, queued, events } = setup();
    const body = deliveryOfTexts(['hola']);
    body.entry[0].changes[0].value.contacts[0].profile.name = 'Lu\ufffec\ud800ía';
    expect(await post(body)).toBe(200);
    expectSqsValid(queued);
    const [event] = events();
    expect(event?.kind === 'message' && event.contact.name).toBe('Lu\ufffec\ufffdía');
  });

  it('given 13 messages with the poisoned one first, through the real publisher, then 200 and all 13 are queued', async () => {
    const sqs = fakeSqs();
    const { post } = setup((messages) => publishFifoMessages(sqs.client, 'queue-url', messages));
    const texts = ['hola \uffff', ...Array.from({ length: 12 }, (_, i) => `mensaje ${i + 1}`)];
    expect(await post(deliveryOfTexts(texts))).toBe(200);
    expect(sqs.accepted).toHaveLength(13);
    const bodies = sqs.accepted.map((e) => queueEventSchema.parse(JSON.parse(e.MessageBody ?? '')));
    // Distinct contacts are distinct FIFO groups, sent side by side: compare as sets.
    expect(bodies.map(textOf).sort()).toEqual([...texts].sort());
  });
});

describe('values beyond what Meta sends', () => {
  it('given a 1 MB text, then 200 and the text is queued truncated to 4096 characters', async () => {
    const { post, queued, events } = setup();
    expect(await post(deliveryOfTexts(['a'.repeat(1_000_000)]))).toBe(200);
    expect(queued).toHaveLength(1);
    expect(textOf(events()[0])).toBe('a'.repeat(4096));
    expect(Buffer.byteLength(queued[0]!.body)).toBeLessThan(256 * 1024);
  });

  it('given a long text ending in an emoji at the bound, then the pair is not split', async () => {
    const { post, events } = setup();
    await post(deliveryOfTexts([`${'a'.repeat(4095)}😀 and more`]));
    expect(textOf(events()[0])).toBe('a'.repeat(4095));
  });

  it('given a caption beyond 1024 characters, then it is truncated to 1024', async () => {
    const { post, events } = setup();
    const body = metaExample('image');
    body.entry[0].changes[0].value.messages[0].image.caption = 'c'.repeat(5000);
    expect(await post(body)).toBe(200);
    expect(textOf(events()[0])).toBe('c'.repeat(1024));
  });

  it('given a 10,000-character profile name, then it is truncated', async () => {
    const { post, events } = setup();
    const body = deliveryOfTexts(['hola']);
    body.entry[0].changes[0].value.contacts[0].profile.name = 'n'.repeat(10_000);
    expect(await post(body)).toBe(200);
    const [event] = events();
    expect(event?.kind === 'message' && event.contact.name).toBe('n'.repeat(256));
  });

  it.each([
    ['a 400-digit timestamp', (m: Record<string, any>) => (m.timestamp = '9'.repeat(400)), 'timestamp'],
    ['a 20-digit timestamp', (m: Record<string, any>) => (m.timestamp = '9'.repeat(20)), 'timestamp'],
    ['a 3,000-character message id', (m: Record<string, any>) => (m.id = `wamid.${'x'.repeat(3000)}`), 'id'],
    ['a message id with a control character', (m: Record<string, any>) => (m.id = 'wamid.\u0001'), 'id'],
    ['a 3,000-character wa_id', (m: Record<string, any>) => (m.from = '3'.repeat(3000)), 'from'],
    [
      'a 3,000-character user id',
      (m: Record<string, any>) => (m.from_user_id = 'U'.repeat(3000)),
      'from_user_id',
    ],
  ])(
    'given a message with %s, then 200, it alone is dropped with a WARN naming the field, the others are queued',
    async (_, spoil, field) => {
      const { post, events } = setup();
      const warn = vi.spyOn(logger, 'warn');
      const body = deliveryOfTexts(['first', 'spoiled', 'third']);
      spoil(body.entry[0].changes[0].value.messages[1]);
      expect(await post(body)).toBe(200);
      expect(events().map(textOf)).toEqual(['first', 'third']);
      const logged = JSON.stringify(warn.mock.calls);
      expect(logged).toContain(field);
      expect(logged).not.toContain('spoiled');
      expect(logged).not.toContain('x'.repeat(100));
    },
  );

  it('given a status with a 400-digit timestamp, then 200, it is dropped with a WARN and nothing null is queued', async () => {
    const { post, queued } = setup();
    const warn = vi.spyOn(logger, 'warn');
    const body = metaExample('status_failed_outside_window');
    body.entry[0].changes[0].value.statuses[0].timestamp = '1'.repeat(400);
    expect(await post(body)).toBe(200);
    expect(queued).toHaveLength(0);
    expect(JSON.stringify(warn.mock.calls)).toContain('timestamp');
  });

  it('given a 3,000-character phone_number_id, then 200, no lookup, and a WARN', async () => {
    const { post, queued, lookups } = setup();
    const warn = vi.spyOn(logger, 'warn');
    expect(await post(deliveryOfTexts(['hola'], '1'.repeat(3000)))).toBe(200);
    expect(queued).toHaveLength(0);
    expect(lookups).toEqual([]);
    expect(JSON.stringify(warn.mock.calls)).toContain('phone_number_id');
  });

  it('given a contacts[] entry with an absurd user id, then the contact is ignored and the message keyed on its own ids', async () => {
    const { post, events } = setup();
    const body = deliveryOfTexts(['hola']);
    const value = body.entry[0].changes[0].value;
    delete value.messages[0].from_user_id;
    value.contacts[0].user_id = 'U'.repeat(5000);
    expect(await post(body)).toBe(200);
    const [event] = events();
    expect(event?.kind === 'message' && event.contact.key).toBe(value.messages[0].from);
  });

  it('given one malformed entry among good ones, then the good ones are still queued', async () => {
    const { post, events } = setup();
    const body = deliveryOfTexts(['hola']);
    body.entry.unshift({ id: 'x', changes: 'not a list' });
    expect(await post(body)).toBe(200);
    expect(events().map(textOf)).toEqual(['hola']);
  });

  it('given a context id beyond any wamid, then the message is kept without its context', async () => {
    const { post, events } = setup();
    const body = deliveryOfTexts(['hola']);
    body.entry[0].changes[0].value.messages[0].context = { id: 'c'.repeat(3000) };
    expect(await post(body)).toBe(200);
    const [event] = events();
    expect(event?.kind === 'message' && event.message).not.toHaveProperty('context_id');
    expect(textOf(event)).toBe('hola');
  });

  it('given a contact profile of the wrong shape, then the message is kept without a name', async () => {
    const { post, events } = setup();
    const body = deliveryOfTexts(['hola']);
    body.entry[0].changes[0].value.contacts[0].profile = { name: 42 };
    expect(await post(body)).toBe(200);
    const [event] = events();
    expect(event?.kind === 'message' && event.contact).not.toHaveProperty('name');
  });

  it('counts every rejected entry, change, message and status in the report as invalidItems', async () => {
    const body = deliveryOfTexts(['uno', 'dos']);
    const value = body.entry[0].changes[0].value;
    value.messages[0].timestamp = '9'.repeat(400);
    value.statuses = [{ id: 'wamid.S', status: 'read', timestamp: 'x' }];
    body.entry[0].changes.push({ field: 'messages', value: { metadata: { phone_number_id: 'abc' } } });
    body.entry.push({ changes: 7 });
    const rawBody = Buffer.from(metaJson(body));
    const report = await receiveWebhook(
      { rawBody, signature: signWebhookBody(rawBody, SECRET) },
      {
        appSecret: SECRET,
        router: createCachedTenantRouter(async () => ({ client_id: 'cl_plaza', active: true })),
        enqueue: async () => undefined,
      },
    );
    expect(report).toMatchObject({ messages: 2, statuses: 1, enqueued: 1, invalidItems: 4 });
  });

  it('given a status whose error code overflows to Infinity, then it is dropped, never queued as null', async () => {
    const { post, queued } = setup();
    const body = metaJson(metaExample('status_failed_outside_window')).replace('131047', '1e400');
    expect(await post(body)).toBe(200);
    expect(queued).toHaveLength(0);
  });
});
