import { BatchGetCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { createWebhookHandler } from '../../functions/webhook.ts';
import { httpApiEvent } from '../../infra/local/lambda-events.ts';
import { TransientError } from '../../lib/errors.ts';
import type { FifoMessage } from '../../lib/queue/sqs-publisher.ts';
import { clientKeys } from '../../lib/tenants/client.ts';
import { ClientRepository, type PhoneRoute, ROUTES_PER_BATCH } from '../../lib/tenants/client-repository.ts';
import { signWebhookBody } from '../../lib/webhook/signature.ts';
import {
  BATCH_CONCURRENCY,
  createCachedTenantRouter,
  type RouteStore,
} from '../../lib/webhook/tenant-router.ts';
import { metaJson } from '../support/fixtures.ts';
import { deliveryOfTexts } from './webhook-helpers.ts';

/**
 * Issue 7: the numbers of a delivery are routed in one resolveMany, which serves what the router
 * has cached and reads the rest in batches (BatchGetItem, 100 keys a request, several at once).
 */

const ids = (count: number, from = 0) =>
  Array.from({ length: count }, (_, i) => String(500_000_000 + from + i));

/** A RouteStore that knows `known`, records each findRoutes call, and may fail. */
function fakeStore(
  known: Record<string, PhoneRoute>,
  options: { failing?: () => boolean; delayMs?: number } = {},
) {
  const batches: string[][] = [];
  const singles: string[] = [];
  let running = 0;
  let maxRunning = 0;
  const store: RouteStore = {
    async findRoute(id) {
      singles.push(id);
      return known[id];
    },
    async findRoutes(batch) {
      batches.push([...batch]);
      running++;
      maxRunning = Math.max(maxRunning, running);
      try {
        await new Promise((resolve) => setTimeout(resolve, options.delayMs ?? 0));
        if (options.failing?.()) throw new Error('DynamoDB is down');
        return new Map(batch.filter((id) => known[id]).map((id) => [id, known[id]!]));
      } finally {
        running--;
      }
    },
  };
  const fetched = () => batches.flat();
  return { store, batches, singles, fetched, maxRunning: () => maxRunning };
}

const PLAZA: PhoneRoute = { client_id: 'cl_plaza', active: true };
const GONE: PhoneRoute = { client_id: 'cl_gone', active: false };

describe('resolveMany on the cached router', () => {
  it('reads the numbers it has not cached in batches of 100, several at once, and answers every known one', async () => {
    const all = ids(2_050);
    const known = { [all[7]!]: PLAZA, [all[2_049]!]: GONE };
    const fake = fakeStore(known, { delayMs: 2 });
    const router = createCachedTenantRouter(fake.store, { maxEntries: 5_000 });
    const routes = await router.resolveMany([...all, ...all.slice(0, 10)]);
    expect(routes).toEqual(
      new Map([
        [all[7]!, PLAZA],
        [all[2_049]!, GONE],
      ]),
    );
    expect(fake.batches).toHaveLength(Math.ceil(2_050 / ROUTES_PER_BATCH));
    expect(fake.batches.every((batch) => batch.length <= ROUTES_PER_BATCH)).toBe(true);
    expect(fake.fetched().sort()).toEqual([...all].sort()); // each distinct number once
    expect(fake.maxRunning()).toBeGreaterThan(1);
    expect(fake.maxRunning()).toBeLessThanOrEqual(BATCH_CONCURRENCY);
    expect(fake.singles).toEqual([]);
  });

  it('serves cached numbers, known or unknown, without reading them again', async () => {
    const fake = fakeStore({ '1': PLAZA });
    const router = createCachedTenantRouter(fake.store);
    await router.resolveMany(['1', '2']);
    const routes = await router.resolveMany(['1', '2', '3']);
    expect(routes).toEqual(new Map([['1', PLAZA]]));
    expect(fake.batches).toEqual([['1', '2'], ['3']]);
    // resolve shares the cache: no GetItem either.
    expect(await router.resolve('1')).toEqual(PLAZA);
    expect(await router.resolve('2')).toBeUndefined();
    expect(fake.singles).toEqual([]);
  });

  it('caches unknown numbers for the miss TTL only, known ones for the TTL', async () => {
    let clock = 0;
    const fake = fakeStore({ known: PLAZA });
    const router = createCachedTenantRouter(fake.store, {
      ttlMs: 60_000,
      missTtlMs: 5_000,
      now: () => clock,
    });
    await router.resolveMany(['known', 'unknown']);
    clock = 4_999;
    await router.resolveMany(['known', 'unknown']);
    expect(fake.fetched()).toEqual(['known', 'unknown']);
    clock = 5_001;
    await router.resolveMany(['known', 'unknown']);
    expect(fake.fetched()).toEqual(['known', 'unknown', 'unknown']);
    clock = 60_001;
    await router.resolveMany(['known', 'unknown']);
    expect(fake.fetched()).toEqual(['known', 'unknown', 'unknown', 'known', 'unknown']);
  });

  it('given a number already being read by another call, then it waits for that read', async () => {
    const fake = fakeStore({ '1': PLAZA }, { delayMs: 20 });
    const router = createCachedTenantRouter(fake.store);
    const [first, second, single] = await Promise.all([
      router.resolveMany(['1', '2']),
      router.resolveMany(['1', '2', '3']),
      router.resolve('1'),
    ]);
    expect(first).toEqual(new Map([['1', PLAZA]]));
    expect(second).toEqual(new Map([['1', PLAZA]]));
    expect(single).toEqual(PLAZA);
    expect(fake.fetched().sort()).toEqual(['1', '2', '3']);
    expect(fake.singles).toEqual([]);
  });

  it('given a failed batch, then resolveMany rejects and caches nothing of it', async () => {
    let failing = true;
    const fake = fakeStore({ '1': PLAZA }, { failing: () => failing });
    const router = createCachedTenantRouter(fake.store);
    await expect(router.resolveMany(ids(250))).rejects.toThrow('DynamoDB is down');
    expect(router.size()).toBe(0);
    failing = false;
    expect(await router.resolveMany(['1'])).toEqual(new Map([['1', PLAZA]]));
  });

  it('given a one-number lookup instead of a store, then it looks the misses up one by one, each once', async () => {
    const asked: string[] = [];
    const router = createCachedTenantRouter(async (id) => {
      asked.push(id);
      return id === '1' ? PLAZA : undefined;
    });
    expect(await router.resolveMany(['1', '2', '1'])).toEqual(new Map([['1', PLAZA]]));
    expect(await router.resolveMany(['1', '2'])).toEqual(new Map([['1', PLAZA]]));
    expect(asked.sort()).toEqual(['1', '2']);
  });
});

describe('the webhook and a failed batch', () => {
  const SECRET = 'route-batch-secret';
  function post(payload: unknown) {
    const body = metaJson(payload);
    return httpApiEvent({
      method: 'POST',
      path: '/webhook',
      headers: { 'content-type': 'application/json', 'x-hub-signature-256': signWebhookBody(body, SECRET) },
      body,
    });
  }

  it('given a failed BatchGetItem, then it answers 503 and enqueues nothing; once reads work, 200', async () => {
    let failing = true;
    const fake = fakeStore({ '631261586727899': PLAZA }, { failing: () => failing });
    const queued: FifoMessage[] = [];
    const handler = createWebhookHandler(async () => ({
      appSecret: SECRET,
      verifyToken: 'v',
      router: createCachedTenantRouter(fake.store),
      enqueue: async (messages) => {
        queued.push(...messages);
      },
    }));
    const res = await handler(post(deliveryOfTexts(['hola'])));
    expect(res.statusCode).toBe(503);
    expect(queued).toEqual([]);
    failing = false;
    expect((await handler(post(deliveryOfTexts(['hola'])))).statusCode).toBe(200);
    expect(queued).toHaveLength(1);
  });

  it('routes the whole delivery in one resolveMany', async () => {
    const calls: string[][] = [];
    const router = createCachedTenantRouter(fakeStore({}).store);
    const resolveMany = router.resolveMany.bind(router);
    router.resolveMany = async (numbers) => {
      calls.push([...numbers]);
      return resolveMany(numbers);
    };
    router.resolve = async () => {
      throw new Error('the webhook must not resolve number by number');
    };
    const body = deliveryOfTexts(['hola']);
    const change = body.entry[0].changes[0];
    body.entry[0].changes = ['1', '2', '3', '1'].map((id) => ({
      ...change,
      value: { ...change.value, metadata: { ...change.value.metadata, phone_number_id: id } },
    }));
    const handler = createWebhookHandler(async () => ({
      appSecret: SECRET,
      verifyToken: 'v',
      router,
      enqueue: async () => undefined,
    }));
    expect((await handler(post(body))).statusCode).toBe(200);
    expect(calls).toHaveLength(1);
    expect(new Set(calls[0])).toEqual(new Set(['1', '2', '3']));
  });
});

/** A document client answering BatchGetItem from `items`, leaving unprocessed what `unprocess` says. */
function fakeDynamo(
  items: Record<string, PhoneRoute>,
  unprocess: (keys: Array<{ pk: string }>, request: number) => Array<{ pk: string }> = () => [],
) {
  const requests: BatchGetCommand['input'][] = [];
  const db = {
    async send(command: unknown) {
      if (!(command instanceof BatchGetCommand)) throw new Error('unexpected command');
      requests.push(command.input);
      const ask = command.input.RequestItems!.routes!;
      const keys = ask.Keys as Array<{ pk: string; sk: string }>;
      if (keys.length > ROUTES_PER_BATCH)
        throw new Error('Too many items requested for the BatchGetItem call');
      if (new Set(keys.map((k) => k.pk)).size !== keys.length) {
        throw new Error('Provided list of item keys contains duplicates');
      }
      const left = unprocess(keys, requests.length);
      const answered = keys.filter((k) => !left.includes(k));
      return {
        Responses: {
          routes: answered
            .filter((k) => items[k.pk])
            .map((k) => ({ pk: k.pk, client_id: items[k.pk]!.client_id, active: items[k.pk]!.active })),
        },
        UnprocessedKeys: left.length > 0 ? { routes: { ...ask, Keys: left } } : {},
      };
    },
  };
  return { db: db as unknown as DynamoDBDocumentClient, requests };
}

const pkOf = (id: string) => clientKeys.phoneRoute(id).pk;

describe('ClientRepository.findRoutes', () => {
  it('asks for 100 route keys a request, each number once, projecting only the key and the route', async () => {
    const numbers = ids(250);
    const dynamo = fakeDynamo({ [pkOf(numbers[3]!)]: PLAZA, [pkOf(numbers[249]!)]: GONE });
    const repository = new ClientRepository(dynamo.db, 'routes');
    const routes = await repository.findRoutes([...numbers, numbers[3]!, '1'.repeat(3_000)]);
    expect(routes).toEqual(
      new Map([
        [numbers[3]!, PLAZA],
        [numbers[249]!, GONE],
      ]),
    );
    expect(dynamo.requests.map((r) => r.RequestItems!.routes!.Keys!.length)).toEqual([100, 100, 50]);
    const ask = dynamo.requests[0]!.RequestItems!.routes!;
    expect(ask.Keys![0]).toEqual(clientKeys.phoneRoute(numbers[0]!));
    expect(ask.ProjectionExpression).toBe('#pk, #client, #active');
    expect(ask.ExpressionAttributeNames).toEqual({
      '#pk': 'pk',
      '#client': 'client_id',
      '#active': 'active',
    });
    expect(ask.ConsistentRead).toBeUndefined();
  });

  it('given keys left unprocessed (throttling), then it asks for those again until answered', async () => {
    const numbers = ids(100);
    const known = Object.fromEntries(numbers.map((id) => [pkOf(id), PLAZA]));
    // The first request leaves 60 keys, the second 10 of them, the third answers all.
    const dynamo = fakeDynamo(known, (keys, request) =>
      request === 1 ? keys.slice(40) : request === 2 ? keys.slice(50) : [],
    );
    const routes = await new ClientRepository(dynamo.db, 'routes').findRoutes(numbers);
    expect(routes.size).toBe(100);
    expect(dynamo.requests.map((r) => r.RequestItems!.routes!.Keys!.length)).toEqual([100, 60, 10]);
  });

  it('given keys that stay unprocessed, then it gives up with a TransientError after 5 requests', async () => {
    const dynamo = fakeDynamo({}, (keys) => keys.slice(0, 1));
    const failure = new ClientRepository(dynamo.db, 'routes').findRoutes(ids(3));
    await expect(failure).rejects.toBeInstanceOf(TransientError);
    await expect(failure).rejects.toThrow('1 phone routes stayed unprocessed after 5 BatchGetItem requests');
    expect(dynamo.requests).toHaveLength(5);
  });

  it('given no numbers, then it sends nothing', async () => {
    const dynamo = fakeDynamo({});
    expect(await new ClientRepository(dynamo.db, 'routes').findRoutes([])).toEqual(new Map());
    expect(dynamo.requests).toEqual([]);
  });
});
