import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { ForbiddenError, UnauthorizedError } from '../errors.ts';
import { header, json, parseJsonBody } from '../http/http-response.ts';
import { logger } from '../logger.ts';
import { secretsMatch } from '../secrets/constant-time.ts';
import { signInSchema } from '../tenants/client-schemas.ts';
import {
  CSRF_HEADER,
  csrfMatches,
  operatorKeyFingerprint,
  SESSION_COOKIE,
  SESSION_LIFETIME_MS,
  type SessionPrincipal,
} from '../web/session-store.ts';
import { cookieOf, refuse, requireActive, sessionClient } from './authorize.ts';
import type { AdminApiDeps } from './deps.ts';

/**
 * Sign-in and sign-out of the web pages: a key (the operator's or a tenant's) is exchanged for a
 * session cookie (HttpOnly, SameSite=Strict, Secure when the deployment is served over HTTPS) that
 * holds no key, and a CSRF token the page sends back in `x-csrf-token` on every change.
 */

type PublicRoute = (
  event: APIGatewayProxyEventV2,
  deps: AdminApiDeps,
) => Promise<APIGatewayProxyStructuredResultV2>;

const secure = (deps: AdminApiDeps) => deps.publicBaseUrl?.startsWith('https://') ?? false;

function sessionCookie(value: string, maxAgeSeconds: number, deps: AdminApiDeps): string {
  return [
    `${SESSION_COOKIE}=${value}`,
    'Path=/',
    'HttpOnly',
    'SameSite=Strict',
    `Max-Age=${maxAgeSeconds}`,
    ...(secure(deps) ? ['Secure'] : []),
  ].join('; ');
}

const describe = (principal: SessionPrincipal, csrfToken: string, expiresAt: string) => ({
  kind: principal.kind,
  ...(principal.kind === 'tenant' ? { client_id: principal.tenantId, key_id: principal.keyId } : {}),
  csrf_token: csrfToken,
  expires_at: expiresAt,
});

const signIn: PublicRoute = async (event, deps) => {
  const { key } = parseJsonBody(event, signInSchema);
  let principal: SessionPrincipal;
  if (secretsMatch(key, deps.operatorKey)) principal = { kind: 'operator' };
  else {
    const tenant = await deps.apiKeys.authenticate(key);
    if (!tenant) return refuse(event, deps, new UnauthorizedError('that key is not valid'));
    const client = await deps.service.find(tenant.tenantId);
    if (!client) return refuse(event, deps, new UnauthorizedError('that key is not valid'));
    requireActive(client);
    principal = { kind: 'tenant', tenantId: tenant.tenantId, keyId: tenant.keyId };
  }
  // A browser that signs in again leaves no older session behind (nor one planted before).
  await deps.sessions.end(cookieOf(event, SESSION_COOKIE));
  const opened = await deps.sessions.open(principal, {
    ...(principal.kind === 'operator' ? { operatorKey: deps.operatorKey } : {}),
  });
  logger.info('web session opened', {
    kind: principal.kind,
    ...(principal.kind === 'tenant' ? { clientId: principal.tenantId, keyId: principal.keyId } : {}),
  });
  return {
    ...json(201, describe(principal, opened.csrfToken, opened.expiresAt)),
    cookies: [sessionCookie(opened.sessionId, Math.floor(SESSION_LIFETIME_MS / 1000), deps)],
  };
};

const currentSession: PublicRoute = async (event, deps) => {
  const session = await deps.sessions.find(cookieOf(event, SESSION_COOKIE));
  const stale =
    session?.principal.kind === 'operator' &&
    session.operatorKeyHash !== operatorKeyFingerprint(deps.operatorKey);
  if (!session || stale) throw new UnauthorizedError('no session: sign in');
  const { principal } = session;
  if (principal.kind === 'tenant') {
    // Live only while its key is, and its client is active (as every route checks).
    const client = await sessionClient(deps, principal);
    if (!client?.active) throw new UnauthorizedError('no session: sign in');
  }
  return json(200, describe(principal, session.csrfToken, session.expiresAt));
};

const signOut: PublicRoute = async (event, deps) => {
  const sessionId = cookieOf(event, SESSION_COOKIE);
  const session = await deps.sessions.find(sessionId);
  if (session) {
    if (!csrfMatches(session, header(event, CSRF_HEADER))) {
      throw new ForbiddenError(`missing or wrong ${CSRF_HEADER} header for this session`);
    }
    await deps.sessions.end(sessionId);
  }
  return { ...json(200, { signed_out: true }), cookies: [sessionCookie('', 0, deps)] };
};

export const sessionRoutes: Record<string, PublicRoute> = {
  'POST /web/sessions': signIn,
  'GET /web/session': currentSession,
  'DELETE /web/session': signOut,
};
