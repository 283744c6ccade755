import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { authorize } from '../lib/admin-api/authorize.ts';
import type { AdminApiDeps } from '../lib/admin-api/deps.ts';
import { DynamoFailedAuthLimiter } from '../lib/admin-api/failed-auth-limiter.ts';
import { operatorRoutes } from '../lib/admin-api/operator-routes.ts';
import { sessionRoutes } from '../lib/admin-api/session-routes.ts';
import { operatorStatsRoutes, tenantStatsRoutes } from '../lib/admin-api/stats-routes.ts';
import { publicRoutes, tenantRoutes } from '../lib/admin-api/tenant-routes.ts';
import { createSesClient } from '../lib/aws/ses-client.ts';
import { createSqsClient } from '../lib/aws/sqs-client.ts';
import { createSesMailer, senderSettings } from '../lib/email/mailer.ts';
import { createRouteTable } from '../lib/http/route-table.ts';
import { EmfTelemetry } from '../lib/observability/emf-telemetry.ts';
import { sendMessage } from '../lib/queue/sqs-publisher.ts';
import {
  buildDependencies,
  buildPurgeDependencies,
  buildQrModePort,
  buildTemplateCatalog,
  once,
} from '../lib/runtime/dependencies.ts';
import { readPlatformSecret, requirePlatformSecret } from '../lib/secrets/platform-secrets.ts';
import { DynamoStatsStore } from '../lib/stats/dynamo-stats-store.ts';
import { useCursorSecret } from '../lib/storage/table.ts';
import { TenantTemplates } from '../lib/templates/tenant-templates.ts';
import { ApiKeyRepository } from '../lib/tenants/api-key-repository.ts';
import { ClientService } from '../lib/tenants/client-service.ts';
import { testClientConnection } from '../lib/tenants/connection-test.ts';
import { InvitationRepository } from '../lib/tenants/invitation-repository.ts';
import { Onboarding } from '../lib/tenants/onboarding.ts';
import { functions, type RouteSpec } from '../lib/topology.ts';
import { SessionStore } from '../lib/web/session-store.ts';

export type { AdminApiDeps } from '../lib/admin-api/deps.ts';

/**
 * The admin API: the operator's routes (operator key), the tenants' own routes (a tenant key: the
 * tenant is the key's) and the invitation exchange. Routes come from the topology; authorize.ts
 * decides who may call each.
 */

type Handle = (
  event: APIGatewayProxyEventV2,
  route: RouteSpec,
  deps: AdminApiDeps,
) => Promise<APIGatewayProxyStructuredResultV2>;

function handlerFor(route: RouteSpec): Handle {
  const key = `${route.method} ${route.path}`;
  const operator = operatorRoutes[key] ?? operatorStatsRoutes[key];
  if (operator && route.auth === 'operator-key') return (event, _route, deps) => operator(event, deps);
  const tenant = tenantRoutes[key] ?? tenantStatsRoutes[key];
  if (tenant && route.auth === 'tenant-key') {
    return async (event, spec, deps) => {
      const caller = await authorize(event, spec.auth, deps);
      if (caller.kind !== 'tenant') throw new Error(`route ${key} reached without a tenant`);
      return tenant(event, caller.client, deps);
    };
  }
  const open = publicRoutes[key] ?? sessionRoutes[key];
  if (open && route.auth === 'none') return (event, _route, deps) => open(event, deps);
  throw new Error(`no handler for ${key} (auth ${route.auth})`);
}

export function createAdminApiHandler(deps: () => Promise<AdminApiDeps>) {
  return createRouteTable(functions.adminApi.routes, (route) => {
    const handle = handlerFor(route);
    return async (event) => {
      const resolved = await deps();
      if (route.auth === 'operator-key') await authorize(event, route.auth, resolved);
      // Every instance derives the same cursor key from the secret they share.
      useCursorSecret(resolved.operatorKey);
      return handle(event, route, resolved);
    };
  });
}

/** Seconds each connection check may take (Graph or OpenAI), within API Gateway's 30 s. */
const CONNECTION_CHECK_TIMEOUT_MS = 8_000;

const staticDeps = once(async (): Promise<Omit<AdminApiDeps, 'operatorKey'>> => {
  const base = buildDependencies(['PROVISION_QUEUE_URL']);
  const { config } = base;
  const sqs = createSqsClient(config);
  const templates = new TenantTemplates({
    catalog: buildTemplateCatalog(base),
    secrets: base.secrets,
    platformAccessToken: () => readPlatformSecret('WHATSAPP_ACCESS_TOKEN'),
  });
  const service = new ClientService({
    clients: base.clients,
    secrets: base.secrets,
    defaultModel: config.OPENAI_MODEL,
    platformHasOpenAi: async () => (await readPlatformSecret('OPENAI_API_KEY')) !== undefined,
    enqueueProvisioning: async (job) => {
      await sendMessage(sqs, config.PROVISION_QUEUE_URL, job);
    },
    // QR mode when the deployment has command queues (QR_COMMAND_QUEUE_URLS); else 409 for it.
    ...buildQrModePort(base, sqs),
    windowTemplates: templates,
  });
  const apiKeys = new ApiKeyRepository(base.dynamo, config.TABLE_NAME);
  const sender = senderSettings(config);
  return {
    service,
    apiKeys,
    templates,
    conversations: base.conversations,
    stats: new DynamoStatsStore(base.dynamo, config.TABLE_NAME),
    purge: buildPurgeDependencies(base),
    purgeTelemetry: new EmfTelemetry('purge'),
    authFailures: new DynamoFailedAuthLimiter(base.dynamo, config.TABLE_NAME),
    sessions: new SessionStore(base.dynamo, config.TABLE_NAME),
    publicBaseUrl: config.PUBLIC_BASE_URL,
    onboarding: new Onboarding({
      clients: service,
      invitations: new InvitationRepository(base.dynamo, config.TABLE_NAME),
      apiKeys,
      mail: sender.configured
        ? { mailer: createSesMailer(createSesClient(config), sender) }
        : { unavailable: sender.reason },
      publicBaseUrl: config.PUBLIC_BASE_URL,
    }),
    testConnection: (client) =>
      testClientConnection(client, {
        secrets: base.secrets,
        platformAccessToken: () => readPlatformSecret('WHATSAPP_ACCESS_TOKEN'),
        appSecret: () => readPlatformSecret('META_APP_SECRET'),
        metaAppId: config.META_APP_ID,
        graphBaseUrl: config.GRAPH_API_BASE_URL,
        graphVersion: config.GRAPH_API_VERSION,
        ...(config.OPENAI_BASE_URL ? { openaiBaseUrl: config.OPENAI_BASE_URL } : {}),
        timeoutMs: CONNECTION_CHECK_TIMEOUT_MS,
      }),
  };
});

/** The operator key is read per request (Powertools caches it 5 minutes): a revoked key stops working. */
const productionDeps = async (): Promise<AdminApiDeps> => {
  const [base, operatorKey] = await Promise.all([staticDeps(), requirePlatformSecret('OPERATOR_API_KEY')]);
  return { ...base, operatorKey };
};

export const handler = createAdminApiHandler(productionDeps);
