import { describe, expect, it } from 'vitest';
import { createWebhookHandler } from '../../functions/webhook.ts';
import { httpApiEvent } from '../../infra/local/lambda-events.ts';
import { queueEventSchema } from '../../lib/conversation/inbound-event.ts';
import { type FifoMessage, sqsSafeId } from '../../lib/queue/sqs-publisher.ts';
import { signWebhookBody } from '../../lib/webhook/signature.ts';
import { createCachedTenantRouter } from '../../lib/webhook/tenant-router.ts';
import { metaExample, metaJson } from '../support/fixtures.ts';
import { isSqsValid } from './webhook-helpers.ts';

/**
 * Mutates Meta's example bodies at random (seeded) and signs them correctly: whatever arrives, the
 * webhook answers 200 or 400, never a 5xx, and whatever it queues matches the queue contract and
 * is a message SQS accepts (body, group id and deduplication id).
 */

const SECRET = 'fuzz-secret';
let seed = 20261124;
const random = () => {
  seed = (seed * 1103515245 + 12345) % 2 ** 31;
  return seed / 2 ** 31;
};
const pick = <T>(items: T[]): T => items[Math.floor(random() * items.length)]!;

const WEIRD_VALUES: unknown[] = [
  null,
  0,
  -1,
  1e308,
  '',
  'x'.repeat(5000),
  [],
  {},
  true,
  '\u0000',
  '😀',
  { nested: [1, 2] },
  'hola \uffff',
  '\ufffe',
  '\ud800',
  '9'.repeat(400),
];

/** Strings SQS refuses (noncharacters, lone surrogates, C0 controls) and lengths Meta never sends. */
const HOSTILE_STRINGS = [
  'hola \uffff',
  'x\ufffe',
  '\ud800',
  'a\udc00b',
  '\udbff\udbff',
  '\u0000\u0001\u0002\u0003\u0004\u0005\u0006\u0007\u0008',
  'tab\u000bvt',
  '😀'.repeat(3000),
  'x'.repeat(5000),
  '9'.repeat(400),
  '1'.repeat(3000),
  '\uffff'.repeat(50_000),
];

function mutate(value: unknown, depth = 0): unknown {
  if (Array.isArray(value)) {
    const copy = value.map((v) => mutate(v, depth + 1));
    if (random() < 0.1) copy.push(structuredClone(copy[0] ?? {}));
    if (random() < 0.1) copy.splice(0, 1);
    return copy;
  }
  if (value && typeof value === 'object') {
    const copy: Record<string, unknown> = {};
    for (const [key, child] of Object.entries(value)) {
      const roll = random();
      if (roll < 0.06) continue; // drop the field
      copy[key] = roll < 0.12 ? pick(WEIRD_VALUES) : mutate(child, depth + 1);
    }
    return copy;
  }
  return random() < 0.05 ? pick(WEIRD_VALUES) : value;
}

/** Paths of every string leaf of a body. */
function stringPaths(value: unknown, path: (string | number)[] = []): (string | number)[][] {
  if (typeof value === 'string') return [path];
  if (Array.isArray(value)) return value.flatMap((v, i) => stringPaths(v, [...path, i]));
  if (value && typeof value === 'object')
    return Object.entries(value).flatMap(([k, v]) => stringPaths(v, [...path, k]));
  return [];
}

function withLeaf(body: Record<string, any>, path: (string | number)[], leaf: string) {
  const copy = structuredClone(body);
  let node: any = copy;
  for (const key of path.slice(0, -1)) node = node[key];
  node[path.at(-1)!] = leaf;
  return copy;
}

/** A webhook handler whose router knows every number and whose queue keeps what it is given. */
function fuzzHandler() {
  const queued: FifoMessage[] = [];
  const handler = createWebhookHandler(async () => ({
    appSecret: SECRET,
    verifyToken: 'v',
    router: createCachedTenantRouter(async (id) =>
      id.length > 0 ? { client_id: 'cl_fuzz', active: true } : undefined,
    ),
    enqueue: async (messages) => {
      queued.push(...messages);
    },
  }));
  const post = async (payload: unknown) => {
    const body = metaJson(payload);
    const event = httpApiEvent({
      method: 'POST',
      path: '/webhook',
      headers: { 'content-type': 'application/json', 'x-hub-signature-256': signWebhookBody(body, SECRET) },
      body,
    });
    return (await handler(event)).statusCode ?? 0;
  };
  return { post, queued };
}

/** Everything queued matches the contract and is a message SQS accepts. */
function expectQueueable(queued: FifoMessage[]) {
  for (const message of queued) {
    expect(isSqsValid(message.body)).toBe(true);
    expect(isSqsValid(sqsSafeId(message.groupId))).toBe(true);
    expect(isSqsValid(sqsSafeId(message.deduplicationId))).toBe(true);
    expect(Buffer.byteLength(message.body)).toBeLessThanOrEqual(256 * 1024);
    expect(queueEventSchema.safeParse(JSON.parse(message.body)).success).toBe(true);
  }
}

const EXAMPLES = [
  'text',
  'text_username_no_phone',
  'image',
  'interactive_button_reply',
  'status_failed_outside_window',
  'batch_two_entries_three_messages',
  'account_error',
  'reaction',
];

describe('webhook robustness', () => {
  it('answers 200 or 400 (never 5xx) to 600 mutated, correctly signed bodies, and queues only valid events', async () => {
    const { post, queued } = fuzzHandler();
    const statuses = new Map<number, number>();
    for (let i = 0; i < 600; i++) {
      const status = await post(mutate(metaExample(pick(EXAMPLES))));
      statuses.set(status, (statuses.get(status) ?? 0) + 1);
      expect([200, 400]).toContain(status);
    }
    expect(statuses.get(200)).toBeGreaterThan(100);
    expect(queued.length).toBeGreaterThan(50);
    expectQueueable(queued);
  });

  it('answers 200 when any string of a body (text, names, ids, timestamps) is one SQS refuses or absurdly long, and queues only what SQS accepts', async () => {
    const { post, queued } = fuzzHandler();
    let posts = 0;
    for (const name of [...EXAMPLES, 'document', 'location', 'order', 'interactive_list_reply']) {
      const example = metaExample(name);
      for (const path of stringPaths(example)) {
        for (const leaf of HOSTILE_STRINGS) {
          expect(await post(withLeaf(example, path, leaf))).toBe(200);
          posts++;
        }
      }
    }
    expect(posts).toBeGreaterThan(500);
    expect(queued.length).toBeGreaterThan(posts / 3);
    expectQueueable(queued);
  });
});
