import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { ForbiddenError, TooManyRequestsError, UnauthorizedError } from '../errors.ts';
import { header } from '../http/http-response.ts';
import { logger } from '../logger.ts';
import { secretsMatch } from '../secrets/constant-time.ts';
import type { Client } from '../tenants/client.ts';
import { parseApiKey } from '../tenants/tenant-tokens.ts';
import type { RouteSpec } from '../topology.ts';
import { CSRF_HEADER, csrfMatches, operatorKeyFingerprint, SESSION_COOKIE } from '../web/session-store.ts';
import type { AdminApiDeps } from './deps.ts';

/**
 * Who is calling, from `Authorization: Bearer …`, and whether that caller may use the route:
 * - operator routes take the operator key; a tenant key is 403 (it is someone's, but not for these);
 * - tenant routes take a tenant key and act on its tenant only; the operator key is 403 (it names no
 *   tenant), a key of a deactivated tenant is 403 with the reason;
 * - anything that does not authenticate is 401, and past FAILED_AUTH_LIMIT failures from one source
 *   in a minute 429 — but a right key is always checked and always works.
 * Keys are never logged: a refused tenant key is named by its prefix. The web pages authenticate with
 * a session cookie instead (see authorizeSession).
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
  options: { presented?: boolean } = {},
): Promise<never> {
  // Only a credential that was presented and failed counts: a request without any is no attempt.
  if (options.presented === false) throw error;
  const verdict = await deps.authFailures.recordFailure(sourceOf(event));
  if (verdict.limited) {
    throw new TooManyRequestsError(
      'too many failed authentications from this address: wait before trying again',
      verdict.retryAfterSeconds,
    );
  }
  throw error;
}

/** A cookie of the request (API Gateway v2 passes them in `cookies`; a raw header works too). */
export function cookieOf(event: APIGatewayProxyEventV2, name: string): string | undefined {
  const pairs = event.cookies ?? (header(event, 'cookie') ?? '').split(';');
  for (const pair of pairs) {
    const index = pair.indexOf('=');
    if (index > 0 && pair.slice(0, index).trim() === name) return pair.slice(index + 1).trim();
  }
  return undefined;
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** A tenant whose client was deactivated is known but refused, with the reason. */
export function requireActive(client: Client): Client {
  if (!client.active)
    throw new ForbiddenError('this client is deactivated: ask the operator to reactivate it');
  return client;
}

/** The client behind a tenant session: undefined once its key is revoked or the client is gone. */
export async function sessionClient(
  deps: Pick<AdminApiDeps, 'apiKeys' | 'service'>,
  principal: { tenantId: string; keyId: string },
): Promise<Client | undefined> {
  const [keyActive, client] = await Promise.all([
    deps.apiKeys.isActiveKey(principal.tenantId, principal.keyId),
    deps.service.find(principal.tenantId),
  ]);
  return keyActive ? client : undefined;
}

/**
 * A browser session instead of a bearer key (the web pages): the same rules, plus the CSRF token in
 * a header on every state-changing request, and the key behind the session still valid.
 */
async function authorizeSession(
  event: APIGatewayProxyEventV2,
  auth: 'operator-key' | 'tenant-key',
  deps: AdminApiDeps,
  sessionId: string,
): Promise<Caller> {
  const session = await deps.sessions.find(sessionId);
  const expired = new UnauthorizedError('the session has ended: sign in again');
  if (!session) return refuse(event, deps, expired);
  if (
    !SAFE_METHODS.has(event.requestContext.http.method) &&
    !csrfMatches(session, header(event, CSRF_HEADER))
  ) {
    throw new ForbiddenError(`missing or wrong ${CSRF_HEADER} header for this session`);
  }
  const { principal } = session;
  if (auth === 'operator-key') {
    if (principal.kind === 'tenant') {
      throw new ForbiddenError('a tenant session cannot use operator routes: use the /tenant routes');
    }
    if (session.operatorKeyHash !== operatorKeyFingerprint(deps.operatorKey)) throw expired;
    return { kind: 'operator' };
  }
  if (principal.kind === 'operator') {
    throw new ForbiddenError('an operator session names no tenant: use /clients/{id}/… for a client');
  }
  const client = await sessionClient(deps, principal);
  if (!client) throw expired;
  return { kind: 'tenant', client: requireActive(client), keyId: principal.keyId };
}

export async function authorize(
  event: APIGatewayProxyEventV2,
  auth: RouteSpec['auth'],
  deps: AdminApiDeps,
): Promise<Caller> {
  if (auth === 'none' || auth === 'meta-signature') return { kind: 'anyone' };
  const token = bearerOf(event);
  const sessionId = token === undefined ? cookieOf(event, SESSION_COOKIE) : undefined;
  if (sessionId !== undefined) return authorizeSession(event, auth, deps, sessionId);
  const isOperator = token !== undefined && secretsMatch(token, deps.operatorKey);
  if (auth === 'operator-key') {
    if (isOperator) return { kind: 'operator' };
    if (token && parseApiKey(token) && (await deps.apiKeys.authenticate(token))) {
      throw new ForbiddenError('a tenant API key cannot use operator routes: use the /tenant routes');
    }
    return refuse(event, deps, new UnauthorizedError('missing or invalid operator key'), {
      presented: token !== undefined,
    });
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
    return refuse(event, deps, new UnauthorizedError('missing, invalid or revoked API key'), {
      presented: token !== undefined,
    });
  }
  return { kind: 'tenant', client: requireActive(client), keyId: principal.keyId };
}
