import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { activeHandoff } from '../conversation/handoff.ts';
import { isWindowClosed } from '../conversation/service-window.ts';
import { clipped, NotFoundError } from '../errors.ts';
import { json, parseQuery } from '../http/http-response.ts';
import { logger } from '../logger.ts';
import { eraseContact } from '../retention/purge.ts';
import { type TemplatesResponse, templatesQuerySchema } from '../templates/template-schemas.ts';
import { type Client, type QrLink, toClientView } from '../tenants/client.ts';
import { paginationQuerySchema } from '../tenants/client-schemas.ts';
import { connectionTestRecord } from '../tenants/connection-test.ts';
import type { AdminApiDeps } from './deps.ts';
import { pathParam, requireStorableContact } from './route-params.ts';

/**
 * What the operator does under /clients/{id}/… and a tenant under /tenant/…: the same behaviour on
 * one client, which the caller's route has already decided (the operator names it; a tenant's is
 * its key's, never a parameter).
 */
export type ClientRoute = (
  event: APIGatewayProxyEventV2,
  client: Client,
  deps: AdminApiDeps,
) => Promise<APIGatewayProxyStructuredResultV2>;

/** A client as the API shows it (operator and tenant alike), with its landing link. */
export const clientView = (client: Client, deps: Pick<AdminApiDeps, 'publicBaseUrl'>, qr?: QrLink | null) =>
  toClientView(client, { publicBaseUrl: deps.publicBaseUrl, qr });

export const listConversations: ClientRoute = async (event, client, { conversations, now }) => {
  const page = parseQuery(event, paginationQuerySchema);
  const result = await conversations.listContacts(client.id, page);
  const at = now?.() ?? new Date();
  return json(200, {
    conversations: result.items.map((c) => ({
      contact: c.contact_key,
      wa_id: c.wa_id ?? null,
      user_id: c.user_id ?? null,
      name: c.name ?? null,
      first_seen_at: c.first_seen_at,
      last_activity_at: c.last_activity_at,
      bot_paused: c.bot_paused,
      // Only free-form replies are bound by it, and only on the Cloud API (not QR sessions).
      window_closed: client.channel !== 'qr' && isWindowClosed(c, at),
      handoff: activeHandoff(c, at),
    })),
    next_cursor: result.next_cursor,
  });
};

export const listMessages: ClientRoute = async (event, client, { conversations }) => {
  const contact = pathParam(event, 'contact');
  const page = parseQuery(event, paginationQuerySchema);
  requireStorableContact(client.id, contact);
  const stored = await conversations.getContact(client.id, contact);
  if (!stored) throw new NotFoundError(`no conversation with ${clipped(contact)}`);
  const result = await conversations.listMessages(client.id, contact, page);
  return json(200, { contact, messages: result.items, next_cursor: result.next_cursor });
};

export const eraseConversation: ClientRoute = async (event, client, { purge }) => {
  const contact = pathParam(event, 'contact');
  requireStorableContact(client.id, contact);
  return json(200, await eraseContact(client.id, contact, purge));
};

export const createKey: ClientRoute = async (_event, client, { apiKeys }) => {
  const created = await apiKeys.createApiKey(client.id);
  logger.info('API key created', { clientId: client.id, keyId: created.key_id, prefix: created.prefix });
  return json(201, created);
};

export const listKeys: ClientRoute = async (_event, client, { apiKeys }) =>
  json(200, { api_keys: await apiKeys.listApiKeys(client.id) });

export const revokeKey: ClientRoute = async (event, client, { apiKeys }) => {
  const keyId = pathParam(event, 'key_id');
  await apiKeys.revokeApiKey(client.id, keyId);
  logger.info('API key revoked', { clientId: client.id, keyId });
  return json(200, { key_id: keyId, revoked: true });
};

/** Queues `start` or `unlink` for the client's QR session (409 when it is not in QR mode). */
const qrCommandRoute =
  (kind: 'start' | 'unlink'): ClientRoute =>
  async (_event, client, { service }) =>
    json(202, await service.qrCommand(client, kind));

export const qrStart = qrCommandRoute('start');
export const qrUnlink = qrCommandRoute('unlink');

export const testConnection: ClientRoute = async (_event, client, { testConnection, service }) => {
  const result = await testConnection(client);
  await service.recordConnectionTest(client.id, connectionTestRecord(result, new Date()));
  return json(200, result);
};

/** The approved templates of the client's WABA (cached a few minutes; `?refresh=true` reads Meta now). */
export const listTemplates: ClientRoute = async (event, client, { templates }) => {
  const { refresh } = parseQuery(event, templatesQuerySchema);
  if (!templates) throw new Error('the message templates reader is not configured');
  const listed = await templates.list(client, { refresh });
  const body: TemplatesResponse = {
    waba_id: listed.waba_id,
    templates: listed.templates.map((t) => ({
      name: t.name,
      language: t.language,
      status: t.status,
      category: t.category ?? null,
      body_parameters: t.body_parameters,
    })),
    fetched_at: listed.fetched_at,
    cached: listed.cached,
    window_template: client.window_template ?? null,
  };
  return json(200, body);
};
