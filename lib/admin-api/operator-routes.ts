import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { json, parseJsonBody, parseQuery } from '../http/http-response.ts';
import { logger } from '../logger.ts';
import { runPurge } from '../retention/purge.ts';
import { statsReport } from '../stats/stats-report.ts';
import { statsQuerySchema } from '../stats/stats-schemas.ts';
import {
  createClientSchema,
  listClientsQuerySchema,
  purgeListQuerySchema,
  purgeRequestSchema,
  updateClientSchema,
} from '../tenants/client-schemas.ts';
import {
  type ClientRoute,
  clientView,
  createKey,
  eraseConversation,
  listConversations,
  listKeys,
  listMessages,
  listTemplates,
  qrStart,
  qrUnlink,
  revokeKey,
  testConnection,
} from './client-scoped-routes.ts';
import type { AdminApiDeps } from './deps.ts';
import { releaseConversation, takeOverConversation } from './handoff-routes.ts';
import { pathParam } from './route-params.ts';

/** The operator's routes (`/clients…`, `/admin/…`), keyed `METHOD /path` as in the topology. */

export type OperatorRoute = (
  event: APIGatewayProxyEventV2,
  deps: AdminApiDeps,
) => Promise<APIGatewayProxyStructuredResultV2>;

/** A forced purge runs inside the request: it stops after this long and says `complete: false`. */
const FORCED_PURGE_BUDGET_MS = 20_000;

/** The client named by the path, then a route that acts on it. */
const onClient =
  (route: ClientRoute): OperatorRoute =>
  async (event, deps) =>
    route(event, await deps.service.get(pathParam(event, 'id')), deps);

/**
 * A new client with an e-mail is invited at once. The client exists whatever the e-mail does: a
 * failure to send is the invitation's `failed` status, never the creation's.
 */
async function createClient(event: APIGatewayProxyEventV2, deps: AdminApiDeps) {
  const created = await deps.service.create(parseJsonBody(event, createClientSchema));
  if (!created.email) return json(201, clientView(created, deps));
  try {
    await deps.onboarding.invite(created);
  } catch (error) {
    logger.error('invitation of a new client failed', {
      clientId: created.id,
      error: (error as Error)?.name ?? String(error),
    });
  }
  return json(201, clientView((await deps.service.find(created.id)) ?? created, deps));
}

export const operatorRoutes: Record<string, OperatorRoute> = {
  'POST /clients': createClient,
  'GET /clients': async (event, deps) => {
    const { active_only } = parseQuery(event, listClientsQuerySchema);
    const clients = await deps.service.list({ activeOnly: active_only });
    // Landing slugs are never listed: each is shown only with its own client.
    // A QR client's connection follows its session (one read each, QR clients only).
    const qr = await Promise.all(clients.map((client) => deps.service.operatorQrStatus(client)));
    const listed = clients.map((client, index) => {
      const { slug: _slug, landing_url: _url, ...rest } = clientView(client, deps, qr[index]);
      return rest;
    });
    return json(200, { clients: listed, count: clients.length });
  },
  'GET /clients/{id}': async (event, deps) => {
    const client = await deps.service.get(pathParam(event, 'id'));
    const qr = await deps.service.operatorQrStatus(client);
    return json(200, { ...clientView(client, deps, qr), qr });
  },
  'PATCH /clients/{id}': async (event, deps) =>
    json(
      200,
      clientView(
        await deps.service.update(pathParam(event, 'id'), parseJsonBody(event, updateClientSchema)),
        deps,
      ),
    ),
  'DELETE /clients/{id}': async (event, deps) =>
    json(200, clientView(await deps.service.deactivate(pathParam(event, 'id')), deps)),
  'GET /clients/{id}/conversations': onClient(listConversations),
  'GET /clients/{id}/conversations/{contact}/messages': onClient(listMessages),
  'DELETE /clients/{id}/conversations/{contact}': onClient(eraseConversation),
  'POST /clients/{id}/conversations/{contact}/handoff': onClient(takeOverConversation('operator')),
  'DELETE /clients/{id}/conversations/{contact}/handoff': onClient(releaseConversation),
  'POST /clients/{id}/api-keys': onClient(createKey),
  'GET /clients/{id}/api-keys': onClient(listKeys),
  'DELETE /clients/{id}/api-keys/{key_id}': onClient(revokeKey),
  'POST /clients/{id}/test-connection': onClient(testConnection),
  'GET /clients/{id}/templates': onClient(listTemplates),
  'POST /clients/{id}/qr/start': onClient(qrStart),
  'POST /clients/{id}/qr/unlink': onClient(qrUnlink),
  'POST /clients/{id}/invitation': onClient(async (_event, client, deps) => {
    const invitation = await deps.onboarding.invite(client);
    if (invitation.status === 'sent') return json(201, { client_id: client.id, invitation });
    // Not sent: the previous invitation is void only if a new one was issued; the reason says why.
    return json(502, {
      error: 'invitation_not_sent',
      message: invitation.reason ?? 'the invitation could not be sent',
      client_id: client.id,
      invitation,
    });
  }),
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
