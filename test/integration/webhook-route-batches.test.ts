import { BatchGetCommand } from '@aws-sdk/lib-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import type { AwsClients } from '../../lib/aws-clients.ts';
import { createLocalSecretBox } from '../../lib/secrets/secret-box.ts';
import { ClientRepository, type PhoneRoute, ROUTES_PER_BATCH } from '../../lib/tenants/client-repository.ts';
import { forEachConcurrently } from '../../lib/webhook/for-each-concurrently.ts';
import { receiveWebhook } from '../../lib/webhook/receive-webhook.ts';
import { signWebhookBody } from '../../lib/webhook/signature.ts';
import { createCachedTenantRouter } from '../../lib/webhook/tenant-router.ts';
import { freshTable } from '../support/emulators.ts';
import { laPlazaFaqs, metaJson } from '../support/fixtures.ts';
import { testClientService } from '../support/services.ts';
import { textMessage } from '../unit/webhook-helpers.ts';

/**
 * Issue 7 against DynamoDB Local: the 30,000 numbers of the worst delivery Meta signs are routed
 * with BatchGetItem, 100 keys a request, through the real repository and SDK.
 */

const APP_SECRET = 'route-batches-secret';
const KNOWN = 250;
const ASKED = 30_000;

let aws: AwsClients;
let clients: ClientRepository;
/** Every stored route by number (every 10th client deactivated: its route stays, inactive). */
const stored = new Map<string, PhoneRoute>();
/** BatchGetItem requests sent, and how many of their answers left keys unprocessed. */
const sent = { batchGets: 0, withUnprocessed: 0 };

const numberOf = (i: number) => String(800_000_000_000 + i);

beforeAll(async () => {
  const table = await freshTable();
  aws = table.aws;
  const send = aws.dynamo.send.bind(aws.dynamo) as (command: unknown) => Promise<Record<string, unknown>>;
  aws.dynamo.send = (async (command: unknown) => {
    const output = await send(command);
    if (command instanceof BatchGetCommand) {
      sent.batchGets++;
      if (Object.keys((output.UnprocessedKeys as object | undefined) ?? {}).length > 0)
        sent.withUnprocessed++;
    }
    return output;
  }) as never;
  clients = new ClientRepository(aws.dynamo, table.tableName);
  const service = testClientService(clients, createLocalSecretBox('route-batches-key'), {
    platformHasOpenAi: false,
  });
  // Known numbers spread over the asked range: every 120th of 30,000.
  const indexes = Array.from({ length: KNOWN }, (_, k) => k * (ASKED / KNOWN));
  await forEachConcurrently(indexes, 10, async (i) => {
    const client = await service.create({
      name: `Tenant ${i}`,
      phone_number: `+3466${String(i).padStart(7, '0')}`,
      phone_number_id: numberOf(i),
      faqs: laPlazaFaqs.slice(0, 1),
      language: 'es',
      bot_enabled: true,
      retention_hours: 24,
    });
    if (i % 10 === 0) {
      await service.deactivate(client.id);
      stored.set(numberOf(i), { client_id: client.id, active: false });
    } else {
      stored.set(numberOf(i), { client_id: client.id, active: true });
    }
  });
}, 120_000);

describe('routing 30,000 numbers with BatchGetItem', () => {
  it('answers exactly the stored routes, in at most ceil(30,000 / 100) requests plus retries', async () => {
    const router = createCachedTenantRouter(clients, { maxEntries: ASKED });
    const asked = Array.from({ length: ASKED }, (_, i) => numberOf(i));
    sent.batchGets = 0;
    sent.withUnprocessed = 0;
    const routes = await router.resolveMany(asked);
    expect(routes.size).toBe(KNOWN);
    expect(routes).toEqual(stored);
    expect(sent.batchGets).toBeGreaterThanOrEqual(ASKED / ROUTES_PER_BATCH);
    // Each answer leaving keys unprocessed costs one more request (a batch holds at most 100 keys).
    expect(sent.batchGets).toBeLessThanOrEqual(Math.ceil(ASKED / ROUTES_PER_BATCH) + sent.withUnprocessed);
    // Asked again, every number (known or not) is served from the cache.
    const again = await router.resolveMany(asked);
    expect(again).toEqual(stored);
    expect(sent.batchGets).toBeLessThanOrEqual(Math.ceil(ASKED / ROUTES_PER_BATCH) + sent.withUnprocessed);
  }, 60_000);

  it('agrees with findRoute number by number', async () => {
    const sample = [numberOf(0), numberOf(120), numberOf(121), numberOf(29_880), numberOf(29_999)];
    const batch = await clients.findRoutes(sample);
    for (const id of sample) expect(batch.get(id)).toEqual(await clients.findRoute(id));
  });

  it('routes a signed delivery for 30,000 numbers end to end: the active tenants are enqueued', async () => {
    let n = 0;
    const body = {
      object: 'whatsapp_business_account',
      entry: Array.from({ length: 1000 }, (_, e) => ({
        id: `waba${e}`,
        changes: Array.from({ length: 30 }, () => {
          const index = n++;
          return {
            field: 'messages',
            value: {
              messaging_product: 'whatsapp',
              metadata: { phone_number_id: numberOf(index) },
              messages: [textMessage(index, 'hola')],
            },
          };
        }),
      })),
    };
    const rawBody = Buffer.from(metaJson(body));
    const enqueued: string[] = [];
    const report = await receiveWebhook(
      { rawBody, signature: signWebhookBody(rawBody, APP_SECRET) },
      {
        appSecret: APP_SECRET,
        router: createCachedTenantRouter(clients),
        enqueue: async (messages) => {
          enqueued.push(...messages.map((m) => JSON.parse(m.body).phone_number_id as string));
        },
      },
    );
    const active = [...stored].filter(([, route]) => route.active).map(([id]) => id);
    expect(report).toMatchObject({
      messages: ASKED,
      unknownNumbers: ASKED - KNOWN,
      inactiveTenants: KNOWN - active.length,
      enqueued: active.length,
    });
    expect(enqueued.sort()).toEqual(active.sort());
  }, 60_000);
});
