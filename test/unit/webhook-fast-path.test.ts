import { describe, expect, it } from 'vitest';
import { encodeQueueEvent, HAS_UNIT_NOT_CARRIED_BY_SQS } from '../../lib/conversation/inbound-event.ts';
import {
  parseChange,
  parseChangeValue,
  parseContact,
  parseEntry,
  parseInboundMessage,
  parseStatus,
  parseWebhookBody,
} from '../../lib/webhook/payload-fast-path.ts';
import {
  changeSchema,
  changeValueSchema,
  contactSchema,
  entrySchema,
  inboundMessageSchema,
  statusSchema,
  webhookBodySchema,
} from '../../lib/webhook/payload-schema.ts';
import { metaExample } from '../support/fixtures.ts';

/**
 * The fast paths of the payload schemas give exactly what zod's safeParse gives (the same data, the
 * same errors) on every item of Meta's examples and on seeded mutations of them with hostile values.
 */

type Reader = (raw: unknown) => unknown;
type Schema = { safeParse(raw: unknown): unknown };

const READERS: Record<string, [Reader, Schema]> = {
  body: [parseWebhookBody, webhookBodySchema],
  entry: [parseEntry, entrySchema],
  change: [parseChange, changeSchema],
  value: [parseChangeValue, changeValueSchema],
  message: [parseInboundMessage, inboundMessageSchema],
  status: [parseStatus, statusSchema],
  contact: [parseContact, contactSchema],
};

const asArray = (value: unknown): unknown[] => (Array.isArray(value) ? value : []);
const field = (value: unknown, key: string): unknown =>
  value && typeof value === 'object' ? (value as Record<string, unknown>)[key] : undefined;

/** Every item of a body, as the webhook reads it, with the reader of its level. */
function items(body: unknown): [string, unknown][] {
  const found: [string, unknown][] = [['body', body]];
  for (const entry of asArray(field(body, 'entry'))) {
    found.push(['entry', entry]);
    for (const change of asArray(field(entry, 'changes'))) {
      found.push(['change', change]);
      const value = field(change, 'value');
      found.push(['value', value]);
      for (const message of asArray(field(value, 'messages'))) found.push(['message', message]);
      for (const status of asArray(field(value, 'statuses'))) found.push(['status', status]);
      for (const contact of asArray(field(value, 'contacts'))) found.push(['contact', contact]);
    }
  }
  return found;
}

function expectSameAsZod(body: unknown): number {
  let fast = 0;
  for (const [level, item] of items(body)) {
    const [read, schema] = READERS[level]!;
    const expected = schema.safeParse(item);
    expect(read(item), level).toStrictEqual(expected);
    if ((expected as { success: boolean }).success) fast++;
  }
  return fast;
}

const EXAMPLES = [
  'text',
  'text_username_no_phone',
  'image',
  'interactive_button_reply',
  'status_failed_outside_window',
  'smb_message_echo_text',
  'batch_two_entries_three_messages',
  'account_error',
];

let seed = 20261202;
const random = () => {
  seed = (seed * 1103515245 + 12345) % 2 ** 31;
  return seed / 2 ** 31;
};
const pick = <T>(values: T[]): T => values[Math.floor(random() * values.length)]!;

const WEIRD_VALUES: unknown[] = [
  null,
  undefined,
  0,
  12.5,
  '',
  ' ',
  'x'.repeat(5000),
  'a b',
  'ñ',
  [],
  [1],
  {},
  true,
  '\u0000',
  '😀'.repeat(3000),
  'hola \uffff',
  '\ud800',
  '9'.repeat(12),
  '9'.repeat(65),
  '00017',
  { body: 'x'.repeat(5000) },
  { body: 7 },
  { name: '\ud800'.repeat(300), username: 5 },
  { id: 'wamid.X' },
  { code: 1.5 },
];

function mutate(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(mutate);
  if (value && typeof value === 'object') {
    const copy: Record<string, unknown> = {};
    for (const [key, child] of Object.entries(value)) {
      const roll = random();
      if (roll < 0.08) continue;
      copy[key] = roll < 0.2 ? pick(WEIRD_VALUES) : mutate(child);
    }
    if (random() < 0.05) copy[pick(['context', 'extra', 'errors', 'profile'])] = pick(WEIRD_VALUES);
    return copy;
  }
  return random() < 0.1 ? pick(WEIRD_VALUES) : value;
}

describe('the payload fast paths', () => {
  it("read every item of Meta's examples as zod does", () => {
    let valid = 0;
    for (const name of EXAMPLES) valid += expectSameAsZod(metaExample(name));
    expect(valid).toBeGreaterThan(20);
  });

  it('read mutated items, valid or not, as zod does', () => {
    for (let round = 0; round < 400; round++) expectSameAsZod(mutate(metaExample(pick(EXAMPLES))));
  });

  it('never carry a __proto__ key, as zod does not', () => {
    const body = JSON.parse(
      `{"object":"whatsapp_business_account","__proto__":{"x":1},"entry":[{"__proto__":1,"changes":[{"field":"messages","__proto__":[],"value":{"__proto__":2,"metadata":{"phone_number_id":"1","__proto__":3},"contacts":[{"wa_id":"34600000001","__proto__":4,"profile":{"name":"A","__proto__":5}}],"messages":[{"from":"34600000001","id":"wamid.P","timestamp":"1","type":"text","__proto__":6,"text":{"body":"hola","__proto__":7}}],"statuses":[{"id":"wamid.S","status":"read","timestamp":"1","__proto__":8}]}}]}]}`,
    );
    expect(expectSameAsZod(body)).toBe(7);
  });

  it('bound free text and turn epoch strings into numbers, as zod does', () => {
    const message = {
      from: '1',
      id: 'wamid.T',
      timestamp: '0017',
      type: 'text',
      text: { body: 'x'.repeat(5000) },
    };
    const parsed = parseInboundMessage(message);
    expect(parsed).toStrictEqual(inboundMessageSchema.safeParse(message));
    expect(parsed.success && parsed.data.timestamp).toBe(17);
    expect(parsed.success && parsed.data.text?.body.length).toBe(4096);
  });
});

describe('the quick check of encodeQueueEvent', () => {
  it('finds exactly the code units SQS refuses (#x9 | #xA | #xD | #x20–#xD7FF | #xE000–#xFFFD are carried)', () => {
    for (let unit = 0; unit <= 0xffff; unit++) {
      const carried =
        unit === 0x9 ||
        unit === 0xa ||
        unit === 0xd ||
        (unit >= 0x20 && unit <= 0xd7ff) ||
        (unit >= 0xe000 && unit <= 0xfffd);
      if (HAS_UNIT_NOT_CARRIED_BY_SQS.test(`a${String.fromCharCode(unit)}b`) === carried) {
        throw new Error(`code unit ${unit.toString(16)} misjudged`);
      }
    }
  });

  it('leaves a body without such units as JSON.stringify wrote it, and escapes the others', () => {
    const event = {
      v: 1,
      kind: 'message',
      tenant_id: 'cl_1',
      phone_number_id: '1',
      contact: { key: '34600000001' },
      message: { id: 'wamid.E', type: 'text', timestamp: 1, text: '¿Tenéis menú? ✓' },
      received_at: '2026-12-02T00:00:00.000Z',
    } as const;
    expect(encodeQueueEvent(event)).toBe(JSON.stringify(event));
    const hostile = { ...event, message: { ...event.message, text: 'a\uffffb😀' } };
    expect(encodeQueueEvent(hostile)).toBe(
      JSON.stringify(hostile).replace('\uffff', '\\uffff').replace('😀', '\\ud83d\\ude00'),
    );
    expect(JSON.parse(encodeQueueEvent(hostile))).toStrictEqual(hostile);
  });
});
