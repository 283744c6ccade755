import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { httpApiEvent } from '../../infra/local/lambda-events.ts';

/** An API Gateway HTTP API (v2) event, as AWS would pass it to a handler (JSON by default). */
export function apiEvent(
  method: string,
  path: string,
  options: {
    body?: unknown;
    rawBody?: string;
    headers?: Record<string, string>;
    query?: Record<string, string>;
  } = {},
): APIGatewayProxyEventV2 {
  const body = options.rawBody ?? (options.body === undefined ? undefined : JSON.stringify(options.body));
  return httpApiEvent({
    method,
    path,
    headers: { 'content-type': 'application/json', ...(options.headers ?? {}) },
    ...(options.query ? { query: options.query } : {}),
    ...(body !== undefined ? { body } : {}),
  });
}
