import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { ForbiddenError, TooManyRequestsError, UnauthorizedError } from '../errors.ts';
import { header } from '../http/http-response.ts';
import { logger } from '../logger.ts';
import { secretsMatch } from '../secrets/constant-time.ts';
import type { Client } from '../tenants/client.ts';
import { parseApiKey } from '../tenants/tenant-tokens.ts';
import type { RouteSpec } from '../topology.ts';
import type { AdminApiDeps } from './deps.ts';

/**
 * Who is calling, from `Authorization: Bearer …`, and whether that caller may use the route:
 * - operator routes take the operator key; a tenant key is 403 (it is someone's, but not for these);
 * - tenant routes take a tenant key and act on its tenant only; the operator key is 403 (it names no
 *   tenant), a key of a deactivated tenant is 403 with the reason;
 * - anything that does not authenticate is 401, and past FAILED_AUTH_LIMIT failures from one source
 *   in a minute 429 — but a right key is always checked and always works.
 * Keys are never logged: a refused tenant key is named by its prefix.
 */

export type Caller =
  | { kind: 'operator' }
  | { kind: 'tenant'; client: Client; keyId: string }
  | { kind: 'anyone' };

const bearerOf = (event: APIGatewayProxyEventV2): string | undefined => {
  const match = /^Bearer\s+(.+)$/i.exec(header(event, 'authorization') ?? '');
  return match?.[1]?.trim();
};

/** The source an API Gateway request came from (its client IP). */
export const sourceOf = (event: APIGatewayProxyEventV2): string =>
  event.requestContext?.http?.sourceIp || 'unknown';

/** A failed authentication: 401, or 429 once the source is over the limit. */
export async function refuse(
  event: APIGatewayProxyEventV2,
  deps: AdminApiDeps,
  error: UnauthorizedError | Error,
): Promise<never> {
  const verdict = await deps.authFailures.recordFailure(sourceOf(event));
  if (verdict.limited) {
    throw new TooManyRequestsError(
      'too many failed authentications from this address: wait before trying again',
      verdict.retryAfterSeconds,
    );
  }
  throw error;
}

export async function authorize(
  event: APIGatewayProxyEventV2,
  auth: RouteSpec['auth'],
  deps: AdminApiDeps,
): Promise<Caller> {
  if (auth === 'none' || auth === 'meta-signature') return { kind: 'anyone' };
  const token = bearerOf(event);
  const isOperator = token !== undefined && secretsMatch(token, deps.operatorKey);
  if (auth === 'operator-key') {
    if (isOperator) return { kind: 'operator' };
    if (token && parseApiKey(token) && (await deps.apiKeys.authenticate(token))) {
      throw new ForbiddenError('a tenant API key cannot use operator routes: use the /tenant routes');
    }
    return refuse(event, deps, new UnauthorizedError('missing or invalid operator key'));
  }
  // auth === 'tenant-key'
  if (isOperator) {
    throw new ForbiddenError(
      'the operator key names no tenant: use /clients/{id}/… for a client, or a tenant API key here',
    );
  }
  const principal = token ? await deps.apiKeys.authenticate(token) : undefined;
  const client = principal ? await deps.service.find(principal.tenantId) : undefined;
  if (!principal || !client) {
    const prefix = parseApiKey(token)?.prefix;
    if (prefix) logger.info('tenant API key refused', { prefix });
    return refuse(event, deps, new UnauthorizedError('missing, invalid or revoked API key'));
  }
  if (!client.active) {
    throw new ForbiddenError('this client is deactivated: ask the operator to reactivate it');
  }
  return { kind: 'tenant', client, keyId: principal.keyId };
}
