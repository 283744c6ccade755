import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import type * as z from 'zod';
import { errorBody, TooManyRequestsError, UnsupportedMediaTypeError, ValidationError } from '../errors.ts';
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
  if (error instanceof TooManyRequestsError) {
    response.headers = { ...response.headers, 'retry-after': String(error.retryAfterSeconds) };
  }
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

/** A request header by name; API Gateway lowercases names, other callers may not. */
export function header(event: APIGatewayProxyEventV2, name: string): string | undefined {
  const wanted = name.toLowerCase();
  for (const [key, value] of Object.entries(event.headers ?? {})) {
    if (key.toLowerCase() === wanted) return value;
  }
  return undefined;
}

/**
 * A body is read as JSON only when the caller says it is: `application/json`, with no charset or
 * UTF-8 (the body is decoded as UTF-8, as RFC 8259 requires). Anything else is a 415, not a guess.
 */
export function requireJsonContentType(event: APIGatewayProxyEventV2): void {
  const sent = header(event, 'content-type');
  const [type, ...parameters] = (sent ?? '').split(';').map((part) => part.trim().toLowerCase());
  if (type !== 'application/json') {
    const got = sent ? `"${sent.slice(0, 100)}"` : 'none';
    throw new UnsupportedMediaTypeError(
      `the request body must be JSON sent with Content-Type: application/json (got ${got})`,
    );
  }
  const charset = parameters
    .find((parameter) => parameter.startsWith('charset='))
    ?.slice('charset='.length)
    .replace(/^"(.*)"$/, '$1');
  if (charset !== undefined && charset !== 'utf-8' && charset !== 'utf8') {
    throw new UnsupportedMediaTypeError(
      `JSON bodies must be UTF-8: send Content-Type: application/json or application/json; charset=utf-8 (got charset ${charset.slice(0, 40)})`,
    );
  }
}

/** Parses and validates a JSON body (an optional body may be absent, with any Content-Type). */
export function parseJsonBody<S extends z.ZodType>(
  event: APIGatewayProxyEventV2,
  schema: S,
  options: {
    optional?: boolean;
    /** Runs on the parsed JSON before the schema (a route's own, clearer refusals). */
    inspect?: (value: unknown) => void;
  } = {},
): z.infer<S> {
  let text = rawBody(event).toString('utf8');
  if (text.trim() === '') {
    if (!options.optional) throw new ValidationError('request body is required (JSON)');
    text = '{}';
  } else {
    requireJsonContentType(event);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new ValidationError('request body is not valid JSON');
  }
  options.inspect?.(value);
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw validationError(parsed.error, 'request body');
  return parsed.data;
}

export function parseQuery<S extends z.ZodType>(event: APIGatewayProxyEventV2, schema: S): z.infer<S> {
  const parsed = schema.safeParse(event.queryStringParameters ?? {});
  if (!parsed.success) throw validationError(parsed.error, 'query');
  return parsed.data;
}
