import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { receiveWebhook } from '../../lib/webhook/receive-webhook.ts';
import { signWebhookBody } from '../../lib/webhook/signature.ts';
import { createCachedTenantRouter, LOOKUP_CONCURRENCY } from '../../lib/webhook/tenant-router.ts';
import { metaJson } from '../support/fixtures.ts';
import { textMessage } from './webhook-helpers.ts';

/**
 * The worst delivery Meta may sign (1000 entries, here 30 changes each, every change for another
 * number) must be routed within the webhook's 10 s: distinct numbers are looked up once each, in
 * bounded parallel. No timing asserts: the observed concurrency and the lookup counts say it.
 * Here the router is built on a one-number lookup (LOOKUP_CONCURRENCY at a time); production reads
 * the numbers in batches of 100 (webhook-route-batches.test.ts, unit and integration).
 */

const SECRET = 'lookup-secret';

/** 1000 entries × 30 changes, each change one message for its own phone_number_id. */
function deliveryForDistinctNumbers(entries: number, changesPerEntry: number) {
  let n = 0;
  return {
    object: 'whatsapp_business_account',
    entry: Array.from({ length: entries }, (_, e) => ({
      id: `waba${e}`,
      changes: Array.from({ length: changesPerEntry }, () => {
        const index = n++;
        return {
          field: 'messages',
          value: {
            messaging_product: 'whatsapp',
            metadata: { phone_number_id: String(100_000_000 + index) },
            messages: [textMessage(index, 'hola')],
          },
        };
      }),
    })),
  };
}

/** A lookup of `delayMs` that records how many run at once and how often each number is asked. */
function slowLookup(delayMs: number) {
  const calls = new Map<string, number>();
  let running = 0;
  let maxRunning = 0;
  const lookup = async (id: string) => {
    calls.set(id, (calls.get(id) ?? 0) + 1);
    running++;
    maxRunning = Math.max(maxRunning, running);
    await (delayMs > 0 ? sleep(delayMs) : Promise.resolve());
    running--;
    return id === 'known' ? { client_id: 'cl_known', active: true } : undefined;
  };
  return { lookup, calls, maxRunning: () => maxRunning };
}

describe('routing a delivery for 30,000 distinct numbers', () => {
  it('looks each distinct number up once, in parallel but never more than the bound at once', async () => {
    const slow = slowLookup(2);
    const router = createCachedTenantRouter(slow.lookup);
    const rawBody = Buffer.from(metaJson(deliveryForDistinctNumbers(1000, 30)));
    const report = await receiveWebhook(
      { rawBody, signature: signWebhookBody(rawBody, SECRET) },
      { appSecret: SECRET, router, enqueue: async () => undefined },
    );
    expect(report.unknownNumbers).toBe(30_000);
    expect(slow.calls.size).toBe(30_000);
    expect([...slow.calls.values()].every((count) => count === 1)).toBe(true);
    expect(slow.maxRunning()).toBeGreaterThan(1);
    expect(slow.maxRunning()).toBeLessThanOrEqual(LOOKUP_CONCURRENCY);
  }, 60_000);

  it('looks a number repeated across changes up once', async () => {
    const slow = slowLookup(1);
    const router = createCachedTenantRouter(slow.lookup);
    const body = deliveryForDistinctNumbers(10, 5);
    for (const entry of body.entry)
      for (const change of entry.changes) change.value.metadata.phone_number_id = '631261586727899';
    const rawBody = Buffer.from(metaJson(body));
    const report = await receiveWebhook(
      { rawBody, signature: signWebhookBody(rawBody, SECRET) },
      { appSecret: SECRET, router, enqueue: async () => undefined },
    );
    expect(report.unknownNumbers).toBe(50);
    expect(slow.calls.get('631261586727899')).toBe(1);
  });
});

describe('the cached router under more distinct numbers than it keeps', () => {
  it('keeps at most maxEntries, evicting the oldest, and still answers every number', async () => {
    const slow = slowLookup(0);
    const router = createCachedTenantRouter(slow.lookup, { maxEntries: 10_000 });
    const ids = Array.from({ length: 30_000 }, (_, i) => String(100_000_000 + i));
    for (const id of ids) await router.resolve(id);
    expect(router.size()).toBe(10_000);
    // The newest 10,000 are cached; the first ones were evicted and are looked up again.
    for (const id of ids.slice(-10_000)) await router.resolve(id);
    expect(slow.calls.size).toBe(30_000);
    expect([...slow.calls.values()].every((count) => count === 1)).toBe(true);
    await router.resolve(ids[0]!);
    expect(slow.calls.get(ids[0]!)).toBe(2);
  });

  it('refreshing an expired entry when full does not evict a live one', async () => {
    let clock = 0;
    const slow = slowLookup(0);
    const router = createCachedTenantRouter(slow.lookup, { maxEntries: 2, missTtlMs: 10, now: () => clock });
    await router.resolve('known'); // cached 60 s
    await router.resolve('unknown'); // cached 10 ms
    clock = 20;
    await router.resolve('unknown'); // expired: refreshed in place
    await router.resolve('known');
    expect(slow.calls.get('known')).toBe(1);
    expect(router.size()).toBe(2);
  });
});
