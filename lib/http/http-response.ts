import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import type * as z from 'zod';
import { errorBody, ValidationError } from '../errors.ts';
import { logger } from '../logger.ts';

/** HTTP helpers shared by the API Gateway (v2) handlers. */

export function json(statusCode: number, body: unknown): APIGatewayProxyStructuredResultV2 {
  return {
    statusCode,
    headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' },
    body: JSON.stringify(body),
  };
}

/** Maps any error to a response; internals never reach the caller. */
export function errorResponse(error: unknown): APIGatewayProxyStructuredResultV2 {
  const { status, body } = errorBody(error);
  if (status >= 500)
    logger.error('request failed', { error: error instanceof Error ? error : String(error) });
  const response = json(status, body);
  if (status === 401) response.headers = { ...response.headers, 'www-authenticate': 'Bearer' };
  return response;
}

export function rawBody(event: APIGatewayProxyEventV2): Buffer {
  if (event.body === undefined || event.body === null) return Buffer.alloc(0);
  return event.isBase64Encoded ? Buffer.from(event.body, 'base64') : Buffer.from(event.body, 'utf8');
}

/** A zod failure as a 400 with one reason per field. */
export function validationError(error: z.ZodError, what: string): ValidationError {
  const details = error.issues.map((issue) => ({
    field: issue.path.length > 0 ? issue.path.join('.') : '(root)',
    message: issue.message,
  }));
  return new ValidationError(
    `invalid ${what}: ${details.map((d) => `${d.field}: ${d.message}`).join('; ')}`,
    details,
  );
}

/** Parses and validates a JSON body. */
export function parseJsonBody<S extends z.ZodType>(
  event: APIGatewayProxyEventV2,
  schema: S,
  options: { optional?: boolean } = {},
): z.infer<S> {
  let text = rawBody(event).toString('utf8');
  if (text.trim() === '') {
    if (!options.optional) throw new ValidationError('request body is required (JSON)');
    text = '{}';
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new ValidationError('request body is not valid JSON');
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw validationError(parsed.error, 'request body');
  return parsed.data;
}

export function parseQuery<S extends z.ZodType>(event: APIGatewayProxyEventV2, schema: S): z.infer<S> {
  const parsed = schema.safeParse(event.queryStringParameters ?? {});
  if (!parsed.success) throw validationError(parsed.error, 'query');
  return parsed.data;
}
