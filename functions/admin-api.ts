import middy from '@middy/core';
import httpRouterHandler from '@middy/http-router';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { createSqsClient } from '../lib/aws/sqs-client.ts';
import type { ConversationStore } from '../lib/conversation/conversation-store.ts';
import { contactKeys, messageKeys } from '../lib/conversation/keys.ts';
import { clipped, NotFoundError, UnauthorizedError, ValidationError } from '../lib/errors.ts';
import { errorResponse, json, parseJsonBody, parseQuery } from '../lib/http/http-response.ts';
import { EmfTelemetry } from '../lib/observability/emf-telemetry.ts';
import type { FlushableTelemetry } from '../lib/observability/telemetry.ts';
import { sendMessage } from '../lib/queue/sqs-publisher.ts';
import { eraseContact, type PurgeDeps, runPurge } from '../lib/retention/purge.ts';
import { buildDependencies, buildPurgeDependencies, once } from '../lib/runtime/dependencies.ts';
import { secretsMatch } from '../lib/secrets/constant-time.ts';
import { readPlatformSecret, requirePlatformSecret } from '../lib/secrets/platform-secrets.ts';
import { DynamoStatsStore, type StatsReader } from '../lib/stats/dynamo-stats-store.ts';
import { statsReport } from '../lib/stats/stats-report.ts';
import { statsQuerySchema } from '../lib/stats/stats-schemas.ts';
import { isStorableKey, useCursorSecret } from '../lib/storage/table.ts';
import { toClientView } from '../lib/tenants/client.ts';
import {
  createClientSchema,
  listClientsQuerySchema,
  paginationQuerySchema,
  purgeListQuerySchema,
  purgeRequestSchema,
  updateClientSchema,
} from '../lib/tenants/client-schemas.ts';
import { ClientService } from '../lib/tenants/client-service.ts';
import { functions } from '../lib/topology.ts';

/** The operator's HTTP API. Every route but /health needs `Authorization: Bearer <operator key>`. */

export interface AdminApiDeps {
  service: ClientService;
  conversations: ConversationStore;
  purge: PurgeDeps;
  /**
   * The per-tenant statistics of GET /admin/stats. Optional only so that deps built for the other
   * routes (tests) need not build it; production always has it, and without it the route fails (500).
   */
  stats?: StatsReader;
  operatorKey: string;
  /** The clock of the statistics window (tests fix it). */
  now?: () => Date;
  /** Where a forced purge's counts go (EMF as the `purge` service in production); flushed after it. */
  purgeTelemetry?: FlushableTelemetry;
}

/** A forced purge runs inside the request: it stops after this long and says `complete: false`. */
const FORCED_PURGE_BUDGET_MS = 20_000;

type Route = (
  event: APIGatewayProxyEventV2,
  deps: AdminApiDeps,
) => Promise<APIGatewayProxyStructuredResultV2>;

const pathParam = (event: APIGatewayProxyEventV2, name: string): string => {
  const value = event.pathParameters?.[name];
  if (!value) throw new NotFoundError();
  try {
    return decodeURIComponent(value);
  } catch {
    throw new ValidationError(`path parameter ${name} is not valid URL encoding`);
  }
};

/**
 * A contact whose keys DynamoDB could not hold has no conversation (its reads would be refused with
 * a 500): answer 404 before asking.
 */
function requireStorableContact(clientId: string, contact: string): void {
  const storable =
    isStorableKey(contactKeys.contact(clientId, contact)) &&
    isStorableKey({ pk: messageKeys.partition(clientId, contact) });
  if (!storable) throw new NotFoundError(`no conversation with ${clipped(contact)}`);
}

const handlers: Record<string, Route> = {
  'GET /health': async () => json(200, { status: 'ok' }),
  'POST /clients': async (event, { service }) =>
    json(201, toClientView(await service.create(parseJsonBody(event, createClientSchema)))),
  'GET /clients': async (event, { service }) => {
    const { active_only } = parseQuery(event, listClientsQuerySchema);
    const clients = await service.list({ activeOnly: active_only });
    return json(200, { clients: clients.map(toClientView), count: clients.length });
  },
  'GET /clients/{id}': async (event, { service }) =>
    json(200, toClientView(await service.get(pathParam(event, 'id')))),
  'PATCH /clients/{id}': async (event, { service }) =>
    json(
      200,
      toClientView(await service.update(pathParam(event, 'id'), parseJsonBody(event, updateClientSchema))),
    ),
  'DELETE /clients/{id}': async (event, { service }) =>
    json(200, toClientView(await service.deactivate(pathParam(event, 'id')))),
  'GET /clients/{id}/conversations': async (event, { service, conversations }) => {
    const client = await service.get(pathParam(event, 'id'));
    const page = parseQuery(event, paginationQuerySchema);
    const result = await conversations.listContacts(client.id, page);
    return json(200, {
      conversations: result.items.map((c) => ({
        contact: c.contact_key,
        wa_id: c.wa_id ?? null,
        user_id: c.user_id ?? null,
        name: c.name ?? null,
        first_seen_at: c.first_seen_at,
        last_activity_at: c.last_activity_at,
        bot_paused: c.bot_paused,
        window_closed: c.window_closed_at !== undefined,
      })),
      next_cursor: result.next_cursor,
    });
  },
  'GET /clients/{id}/conversations/{contact}/messages': async (event, { service, conversations }) => {
    const client = await service.get(pathParam(event, 'id'));
    const contact = pathParam(event, 'contact');
    const page = parseQuery(event, paginationQuerySchema);
    requireStorableContact(client.id, contact);
    const stored = await conversations.getContact(client.id, contact);
    if (!stored) throw new NotFoundError(`no conversation with ${clipped(contact)}`);
    const result = await conversations.listMessages(client.id, contact, page);
    return json(200, { contact, messages: result.items, next_cursor: result.next_cursor });
  },
  'DELETE /clients/{id}/conversations/{contact}': async (event, { service, purge }) => {
    const client = await service.get(pathParam(event, 'id'));
    const contact = pathParam(event, 'contact');
    requireStorableContact(client.id, contact);
    return json(200, await eraseContact(client.id, contact, purge));
  },
  'POST /admin/purge': async (event, { service, purge, purgeTelemetry }) => {
    const request = parseJsonBody(event, purgeRequestSchema, { optional: true });
    // An unknown client is the caller's mistake (404), not a failed purge run to record and log.
    if (request.client_id) await service.get(request.client_id);
    const run = await runPurge(
      {
        trigger: 'manual',
        timeBudgetMs: FORCED_PURGE_BUDGET_MS,
        ...(request.client_id ? { clientId: request.client_id } : {}),
        ...(request.older_than_hours !== undefined ? { olderThanHours: request.older_than_hours } : {}),
      },
      purgeTelemetry ? { ...purge, telemetry: purgeTelemetry } : purge,
    ).finally(() => purgeTelemetry?.flush());
    return json(200, { run_id: run.run_id, status: run.status, scope: run.scope, ...run.report });
  },
  'GET /admin/purges': async (event, { purge }) => {
    const { limit } = parseQuery(event, purgeListQuerySchema);
    return json(200, { runs: await purge.store.listRuns(limit) });
  },
  'GET /admin/stats': async (event, { service, stats, now }) => {
    const { active_only } = parseQuery(event, statsQuerySchema);
    if (!stats) throw new Error('the statistics reader is not configured');
    const clients = await service.list({ activeOnly: active_only });
    return json(200, await statsReport(clients, stats, now?.() ?? new Date()));
  },
};

const isOperator = (header: string | undefined, operatorKey: string) => {
  const match = /^Bearer (.+)$/i.exec(header ?? '');
  if (!match) return false;
  return secretsMatch(match[1]!.trim(), operatorKey);
};

export function createAdminApiHandler(deps: () => Promise<AdminApiDeps>) {
  const routes = functions.adminApi.routes.map((route) => {
    const key = `${route.method} ${route.path}`;
    const routeHandler = handlers[key];
    if (!routeHandler) throw new Error(`no handler for ${key}`);
    return {
      method: route.method,
      path: route.path,
      handler: async (event: APIGatewayProxyEventV2) => {
        try {
          const resolved = await deps();
          if (
            route.auth === 'operator-key' &&
            !isOperator(event.headers.authorization, resolved.operatorKey)
          ) {
            throw new UnauthorizedError('missing or invalid operator key');
          }
          // Every instance derives the same cursor key from the secret they share.
          useCursorSecret(resolved.operatorKey);
          return await routeHandler(event, resolved);
        } catch (error) {
          return errorResponse(error);
        }
      },
    };
  });
  const router = httpRouterHandler({
    routes,
    notFoundResponse: ({ method, path }: { method: string; path: string }) =>
      json(404, { error: 'not_found', message: `no route ${method} ${path}` }),
  });
  const wrapped = middy<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2>().handler(
    router as unknown as (event: APIGatewayProxyEventV2) => Promise<APIGatewayProxyStructuredResultV2>,
  );
  return (event: APIGatewayProxyEventV2, context?: Context) => wrapped(event, context ?? ({} as Context));
}

const staticDeps = once(async (): Promise<Omit<AdminApiDeps, 'operatorKey'>> => {
  const base = buildDependencies(['PROVISION_QUEUE_URL']);
  const sqs = createSqsClient(base.config);
  const provisionQueueUrl = base.config.PROVISION_QUEUE_URL;
  return {
    conversations: base.conversations,
    stats: new DynamoStatsStore(base.dynamo, base.config.TABLE_NAME),
    purge: buildPurgeDependencies(base),
    purgeTelemetry: new EmfTelemetry('purge'),
    service: new ClientService({
      clients: base.clients,
      secrets: base.secrets,
      defaultModel: base.config.OPENAI_MODEL,
      platformHasOpenAi: async () => (await readPlatformSecret('OPENAI_API_KEY')) !== undefined,
      enqueueProvisioning: async (job) => {
        await sendMessage(sqs, provisionQueueUrl, job);
      },
    }),
  };
});

/** The operator key is read per request (Powertools caches it 5 minutes): a revoked key stops working. */
const productionDeps = async (): Promise<AdminApiDeps> => {
  const [base, operatorKey] = await Promise.all([staticDeps(), requirePlatformSecret('OPERATOR_API_KEY')]);
  return { ...base, operatorKey };
};

export const handler = createAdminApiHandler(productionDeps);
