import middy from '@middy/core';
import httpRouterHandler from '@middy/http-router';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { createDynamoClients } from '../lib/aws/dynamo-clients.ts';
import { parseConfig } from '../lib/config.ts';
import { errorResponse, json } from '../lib/http/http-response.ts';
import { once } from '../lib/runtime/dependencies.ts';
import { ClientRepository } from '../lib/tenants/client-repository.ts';
import { functions } from '../lib/topology.ts';
import { type WebDeps, webRoutes } from '../lib/web/web-routes.ts';

export type { WebDeps } from '../lib/web/web-routes.ts';

/** The web pages: each tenant's landing page, the operator console, the API docs, their static files. */
export function createWebHandler(deps: () => Promise<WebDeps>) {
  const routes = functions.web.routes.map((route) => {
    const key = `${route.method} ${route.path}`;
    const handle = webRoutes[key];
    if (!handle) throw new Error(`no handler for ${key}`);
    return {
      method: route.method,
      path: route.path,
      handler: async (event: APIGatewayProxyEventV2) => {
        try {
          return await handle(event, await deps());
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

/** Only the table: the pages hold no secrets (no tenant-secrets key is given to this function). */
const productionDeps = once(async (): Promise<WebDeps> => {
  const config = parseConfig(undefined, ['TABLE_NAME']);
  const { dynamo } = createDynamoClients(config);
  return { clients: new ClientRepository(dynamo, config.TABLE_NAME), publicBaseUrl: config.PUBLIC_BASE_URL };
});

export const handler = createWebHandler(productionDeps);
