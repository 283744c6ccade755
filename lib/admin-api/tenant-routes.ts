import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { GoneError, ValidationError } from '../errors.ts';
import { json, parseJsonBody } from '../http/http-response.ts';
import {
  acceptInvitationSchema,
  OPERATOR_ONLY_FIELDS,
  tenantUpdateSchema,
} from '../tenants/client-schemas.ts';
import { INVITATION_NOT_VALID } from '../tenants/onboarding.ts';
import { refuse } from './authorize.ts';
import {
  type ClientRoute,
  clientView,
  createKey,
  eraseConversation,
  listConversations,
  listKeys,
  listMessages,
  listTemplates,
  qrStart,
  qrUnlink,
  revokeKey,
  testConnection,
} from './client-scoped-routes.ts';
import type { AdminApiDeps } from './deps.ts';
import { releaseConversation, takeOverConversation } from './handoff-routes.ts';

/**
 * A tenant's own routes (`/tenant…`): every one acts on the tenant of the key that authenticated the
 * request (authorize.ts), never on a client named by the path, the query or the body.
 */

/**
 * Fields only the operator sets get a 400 that says so (rather than zod's "unrecognized key"), so a
 * business knows whom to ask.
 */
function refuseOperatorFields(body: unknown): void {
  if (!body || typeof body !== 'object' || Array.isArray(body)) return;
  const named = OPERATOR_ONLY_FIELDS.filter((field) => Object.hasOwn(body, field));
  if (named.length > 0) {
    throw new ValidationError(
      `${named.join(', ')} ${named.length === 1 ? 'is' : 'are'} set by the operator, not through PATCH /tenant`,
      named.map((field) => ({ field, message: 'set by the operator' })),
    );
  }
}

export const tenantRoutes: Record<string, ClientRoute> = {
  'GET /tenant': async (_event, client, deps) =>
    json(200, clientView(client, deps, await deps.service.operatorQrStatus(client))),
  'PATCH /tenant': async (event, client, deps) => {
    const changes = parseJsonBody(event, tenantUpdateSchema, { inspect: refuseOperatorFields });
    const updated = await deps.service.updateAsTenant(client.id, changes);
    return json(200, clientView(updated, deps, await deps.service.operatorQrStatus(updated)));
  },
  'POST /tenant/api-keys': createKey,
  'GET /tenant/api-keys': listKeys,
  'DELETE /tenant/api-keys/{key_id}': revokeKey,
  'POST /tenant/test-connection': testConnection,
  // The QR is the tenant's to scan: it is answered, never logged.
  'GET /tenant/qr': async (_event, client, { service }) => json(200, await service.qrStatus(client)),
  'POST /tenant/qr/start': qrStart,
  'POST /tenant/qr/unlink': qrUnlink,
  'GET /tenant/conversations': listConversations,
  'GET /tenant/conversations/{contact}/messages': listMessages,
  'DELETE /tenant/conversations/{contact}': eraseConversation,
  'POST /tenant/conversations/{contact}/handoff': takeOverConversation('tenant'),
  'DELETE /tenant/conversations/{contact}/handoff': releaseConversation,
  'GET /tenant/templates': listTemplates,
};

/** Routes anyone may call: what they act on is proven by what the body carries. */
export const publicRoutes: Record<
  string,
  (event: APIGatewayProxyEventV2, deps: AdminApiDeps) => Promise<APIGatewayProxyStructuredResultV2>
> = {
  'GET /health': async () => json(200, { status: 'ok' }),
  'POST /invitations/accept': async (event, deps) => {
    const { token } = parseJsonBody(event, acceptInvitationSchema);
    try {
      return json(201, await deps.onboarding.accept(token));
    } catch (error) {
      // A token that does not work is a failed authentication like a wrong key (429 past the limit).
      if (error instanceof GoneError) return refuse(event, deps, new GoneError(INVITATION_NOT_VALID));
      throw error;
    }
  },
};
