import { describe, expect, it } from 'vitest';
import { createWebhookHandler } from '../../functions/webhook.ts';
import { httpApiEvent } from '../../infra/local/lambda-events.ts';
import { queueEventSchema } from '../../lib/conversation/inbound-event.ts';
import type { FifoMessage } from '../../lib/queue/sqs-publisher.ts';
import { signWebhookBody } from '../../lib/webhook/signature.ts';
import { metaExample, metaJson } from '../support/fixtures.ts';

/**
 * Mutates Meta's example bodies at random (seeded) and signs them correctly: whatever arrives, the
 * webhook answers 200 or 400, never a 5xx, and whatever it queues matches the queue contract.
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
    const queued: FifoMessage[] = [];
    const handler = createWebhookHandler(async () => ({
      appSecret: SECRET,
      verifyToken: 'v',
      router: { resolve: async (id) => (id.length > 0 ? { client_id: 'cl_fuzz', active: true } : undefined) },
      enqueue: async (messages) => {
        queued.push(...messages);
      },
    }));
    const statuses = new Map<number, number>();
    for (let i = 0; i < 600; i++) {
      const body = metaJson(mutate(metaExample(pick(EXAMPLES))));
      const event = httpApiEvent({
        method: 'POST',
        path: '/webhook',
        headers: { 'content-type': 'application/json', 'x-hub-signature-256': signWebhookBody(body, SECRET) },
        body,
      });
      const res = await handler(event);
      statuses.set(res.statusCode ?? 0, (statuses.get(res.statusCode ?? 0) ?? 0) + 1);
      expect([200, 400]).toContain(res.statusCode);
    }
    expect(statuses.get(200)).toBeGreaterThan(100);
    for (const message of queued)
      expect(queueEventSchema.safeParse(JSON.parse(message.body)).success).toBe(true);
  });
});
