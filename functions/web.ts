import { createDynamoClients } from '../lib/aws/dynamo-clients.ts';
import { parseConfig } from '../lib/config.ts';
import { createRouteTable } from '../lib/http/route-table.ts';
import { once } from '../lib/runtime/dependencies.ts';
import { ClientRepository } from '../lib/tenants/client-repository.ts';
import { functions } from '../lib/topology.ts';
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
  return { clients: new ClientRepository(dynamo, config.TABLE_NAME), publicBaseUrl: config.PUBLIC_BASE_URL };
});

export const handler = createWebHandler(productionDeps);
