import middy from '@middy/core';
import httpRouterHandler from '@middy/http-router';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import type { RouteSpec } from '../topology.ts';
import { errorResponse, json } from './http-response.ts';

/**
 * A Lambda handler for a function's topology routes: each route's handler, errors mapped to
 * responses (errorResponse), an unknown route a JSON 404. Shared by the admin API and the web pages.
 */
export function createRouteTable(
  routes: readonly RouteSpec[],
  handlerFor: (
    route: RouteSpec,
  ) => (event: APIGatewayProxyEventV2) => Promise<APIGatewayProxyStructuredResultV2>,
) {
  const router = httpRouterHandler({
    routes: routes.map((route) => {
      const handle = handlerFor(route);
      return {
        method: route.method,
        path: route.path,
        handler: async (event: APIGatewayProxyEventV2) => {
          try {
            return await handle(event);
          } catch (error) {
            return errorResponse(error);
          }
        },
      };
    }),
    notFoundResponse: ({ method, path }: { method: string; path: string }) =>
      json(404, { error: 'not_found', message: `no route ${method} ${path}` }),
  });
  const wrapped = middy<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2>().handler(
    router as unknown as (event: APIGatewayProxyEventV2) => Promise<APIGatewayProxyStructuredResultV2>,
  );
  return (event: APIGatewayProxyEventV2, context?: Context) => wrapped(event, context ?? ({} as Context));
}
