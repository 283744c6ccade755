import { createDynamoClients } from '../lib/aws/dynamo-clients.ts';
import { parseConfig } from '../lib/config.ts';
import { createRouteTable } from '../lib/http/route-table.ts';
import { QrStatusStore } from '../lib/qr/qr-status-store.ts';
import { once } from '../lib/runtime/dependencies.ts';
import { ApiKeyRepository } from '../lib/tenants/api-key-repository.ts';
import { ClientRepository } from '../lib/tenants/client-repository.ts';
import { functions } from '../lib/topology.ts';
import { SessionStore } from '../lib/web/session-store.ts';
import { type WebDeps, webRoutes } from '../lib/web/web-routes.ts';

export type { WebDeps } from '../lib/web/web-routes.ts';

/** The web pages: each tenant's landing page, the operator console, the API docs, their static files. */
export function createWebHandler(deps: () => Promise<WebDeps>) {
  return createRouteTable(functions.web.routes, (route) => {
    const key = `${route.method} ${route.path}`;
    const handle = webRoutes[key];
    if (!handle) throw new Error(`no handler for ${key}`);
    return async (event) => handle(event, await deps());
  });
}

/** Only the table: the pages hold no secrets (no tenant-secrets key is given to this function). */
const productionDeps = once(async (): Promise<WebDeps> => {
  const config = parseConfig(undefined, ['TABLE_NAME']);
  const { dynamo } = createDynamoClients(config);
  const sessions = new SessionStore(dynamo, config.TABLE_NAME);
  const apiKeys = new ApiKeyRepository(dynamo, config.TABLE_NAME);
  const qrStatus = new QrStatusStore(dynamo, config.TABLE_NAME);
  return {
    clients: new ClientRepository(dynamo, config.TABLE_NAME),
    publicBaseUrl: config.PUBLIC_BASE_URL,
    // QR mode is on where its command queues are configured.
    qrModeAvailable: (config.QR_COMMAND_QUEUE_URLS?.length ?? 0) > 0,
    tenantSessions: {
      // A tenant session whose key is still active (revoking the key ends the session).
      async tenantOf(sessionId) {
        const session = await sessions.find(sessionId);
        if (session?.principal.kind !== 'tenant') return undefined;
        const { tenantId, keyId } = session.principal;
        return (await apiKeys.isActiveKey(tenantId, keyId)) ? tenantId : undefined;
      },
    },
    qrStatus: { read: (tenantId) => qrStatus.readStatus(tenantId) },
  };
});

export const handler = createWebHandler(productionDeps);
