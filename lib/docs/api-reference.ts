import * as z from 'zod';
import { statsQuerySchema, statsReportSchema } from '../stats/stats-schemas.ts';
import {
  clientQrSectionSchema,
  createClientSchema,
  listClientsQuerySchema,
  paginationQuerySchema,
  purgeListQuerySchema,
  purgeRequestSchema,
  updateClientSchema,
} from '../tenants/client-schemas.ts';
import { allRoutes } from '../topology.ts';
import { handoffRouteDocs } from './handoff-route-docs.ts';
import { statsRouteDocs } from './stats-route-docs.ts';
import { templateRouteDocs } from './template-route-docs.ts';
import { type RouteDoc, tenantRouteDocs } from './tenant-route-docs.ts';
import { webRouteDocs } from './web-route-docs.ts';

/**
 * Renders docs/api.md from the topology (routes) and the zod schemas (bodies and queries), so the
 * reference cannot drift from what the handlers validate. `npm run docs:api` writes it; a unit test
 * fails when the file is stale.
 */

export const routeDocs: Record<string, RouteDoc> = {
  'GET /health': { summary: 'Liveness of the API.', responses: '200 `{"status":"ok"}`' },
  'GET /webhook': {
    summary: "Meta's subscription check: `hub.mode=subscribe`, `hub.verify_token`, `hub.challenge`.",
    responses: '200 with the challenge as text when the token matches; 403 otherwise',
  },
  'POST /webhook': {
    summary:
      'Deliveries from Meta for every tenant. Signed with `X-Hub-Signature-256` (HMAC-SHA256 of the raw body with the App Secret). Every entry, change, message and status is routed by `metadata.phone_number_id` and queued; so is every echo of `smb_message_echoes` (what a person sent from the WhatsApp Business app of a coexistence number: the bot steps back in that chat). Other fields are acknowledged and ignored.',
    responses:
      '200 once queued (also for unknown numbers and inactive tenants); 401 bad or missing signature; 400 malformed body; 5xx when the queue is unavailable (Meta retries)',
  },
  'POST /clients': {
    summary:
      'Creates a client (tenant) and its assistant from its FAQs. With OpenAI configured (the tenant\'s key or the platform\'s) the assistant is `pending` until its vector store is built, then `ready`. With `channel: "qr"` (deployments with QR mode) it needs no `phone_number_id` nor Cloud API token: it routes as `qr:<id>`, is assigned a shard and its session starts (its QR: `GET /clients/{id}`, `GET /tenant/qr`); on a deployment without QR mode it is 409.',
    body: createClientSchema,
    responses:
      '201 the client; 400 with `details[]` (one reason per field; `phone_number_id` is required unless `channel` is `qr`); 401; 409 the number belongs to an active client; 413 the client would not fit its record; 415 not JSON',
  },
  'GET /clients': {
    summary: 'Lists clients, oldest first.',
    query: listClientsQuerySchema,
    responses: '200 `{"clients":[…],"count":n}`; 400 bad query; 401',
  },
  'GET /clients/{id}': {
    summary:
      'One client. Beside the fields of the other views it has `qr`: for a QR-mode client the session as the runner last reported it (`null` for a Cloud API client).',
    response: clientQrSectionSchema,
    responses:
      '200 the client with `qr`: `{"state","qr","qr_expires_at","phone_number","restarts","last_error","shard","updated_at"}` or null; 401; 404',
  },
  'PATCH /clients/{id}': {
    summary:
      'Changes some fields. `channel: "qr"` (deployments with QR mode) moves the client to QR mode: its Cloud API number is kept for a switch back, it routes as `qr:<id>`, its shard runner is told to start the session; `channel: "cloud_api"` brings the kept number back (or the `phone_number_id` given with it), stops the session and deletes the stored one. Deactivating a QR-mode client stops its session. Changing `faqs`, `name`, `business_hours`, `language`, `openai_model` or `openai_api_key` rebuilds the assistant as a new version. `null` removes a stored secret. `active: true` reactivates a deleted client. A deleted client stays editable after another client took its number; only moving to a number or reactivating claims one.',
    body: updateClientSchema,
    responses:
      "200 the client; 400 with the reason (e.g. leaving QR mode without a known `phone_number_id`, or a `window_template` that is not an approved template of the client's WABA, named); 401; 404; 409 the number it claims belongs to an active client, QR mode unavailable on this deployment, the WABA's templates could not be read (token refused, wrong WABA id, missing permission), or the client changed meanwhile (retry); 413; 415 not JSON; 502 the Graph API did not answer while checking the `window_template`",
  },
  'DELETE /clients/{id}': {
    summary:
      'Soft delete: `active: false`; the client and its data are kept; its messages are acknowledged and no longer answered.',
    responses: '200 the client; 401; 404',
  },
  'GET /clients/{id}/conversations': {
    summary:
      'The client\'s contacts with first and last activity and bot state (paused by "suspender bot"), and `handoff`: `{"by":"person"|"customer_request"|"operator"|"tenant","until"}` while someone other than the bot has the chat, else null (docs/handoff.md). `next_cursor` is opaque (sealed): pass it back as `cursor` to get the next page; an altered one answers 400.',
    query: paginationQuerySchema,
    responses: '200 `{"conversations":[…],"next_cursor":…}`; 400; 401; 404',
  },
  'GET /clients/{id}/conversations/{contact}/messages': {
    summary:
      "One contact's messages, inbound and outbound, newest first. `{contact}` is the WhatsApp id of the webhook: the business-scoped `user_id` when the customer has one, else the `wa_id` (URL-encode it).",
    query: paginationQuerySchema,
    responses: '200 `{"contact":…,"messages":[…],"next_cursor":…}`; 400; 401; 404 unknown client or contact',
  },
  'DELETE /clients/{id}/conversations/{contact}': {
    summary:
      "A customer's right to erasure: deletes the contact's messages, conversation state and OpenAI conversation. The next message from that customer starts a new conversation.",
    responses:
      '200 `{"contact","messages_deleted","conversations_deleted","openai_conversations_deleted"}`; 401; 404 unknown client or contact; 409 a purge run is erasing it right now',
  },
  'POST /admin/purge': {
    summary:
      "Runs the retention purge now (the daily schedule runs it too). Without a body it applies every client's `retention_hours`; `client_id` narrows it to one client and `older_than_hours` overrides the retention. It stops after 20 s and says `complete: false`: call again to go on.",
    body: purgeRequestSchema,
    responses:
      '200 `{"run_id","status","scope","messages_deleted","conversations_deleted","openai_conversations_deleted","openai_items_deleted","idempotency_records_deleted","media_objects_deleted","vector_stores_deleted","clients_erased","tenants_scanned","errors","complete"}`; 400; 401; 404 unknown client (no run is recorded); 415 a body that is not JSON',
  },
  'GET /admin/purges': {
    summary: 'Recent purge runs (scheduled and forced), newest first, with their reports. Kept 90 days.',
    query: purgeListQuerySchema,
    responses:
      '200 `{"runs":[{"run_id","trigger","status","started_at","finished_at","scope","report"}]}`; 400; 401',
  },
  'GET /admin/stats': {
    summary:
      "Each client's counters over the last 24 hourly buckets (the current UTC hour so far and the 23 whole hours before it; `since` says where that starts), and their totals: messages received, answers by responder, fallbacks (answers the FAQ responder gave because OpenAI failed), OpenAI tokens, seconds of audio transcribed and images (and PDFs) given to the model, last message time. Deactivated clients are listed with `active: false` unless `active_only=true`. Counts only: no contacts, no text.",
    query: statsQuerySchema,
    response: statsReportSchema,
    responses: '200 the report (below); 400 bad query; 401',
  },
  ...tenantRouteDocs,
  ...handoffRouteDocs,
  ...templateRouteDocs,
  ...statsRouteDocs,
  ...webRouteDocs,
};

/** Requests are documented as the caller writes them (`input`), responses as the API writes them. */
const schemaBlock = (schema: z.ZodType, io: 'input' | 'output' = 'input') =>
  ['```json', JSON.stringify(z.toJSONSchema(schema, { io, unrepresentable: 'any' }), null, 2), '```'].join(
    '\n',
  );

const authLabels = {
  'operator-key': 'operator key',
  'tenant-key': 'tenant API key',
  'meta-signature': 'Meta (verify token / signature)',
  none: 'none',
} as const;

export function renderApiReference(): string {
  const out = [
    '# API reference',
    '',
    '<!-- Generated by `npm run docs:api` from lib/topology.ts and the zod schemas. Do not edit by hand. -->',
    '',
    'Operator routes (`/clients…`, `/admin/…`) need `Authorization: Bearer <OPERATOR_API_KEY>`; tenant',
    "routes (`/tenant…`) need `Authorization: Bearer <tenant API key>` and act on that key's tenant only.",
    'A tenant key on an operator route, or the operator key on a tenant route, is 403; a key of a',
    'deactivated tenant is 403 with the reason; a missing or wrong key is 401, and after 10 failures from',
    'one address within a minute 429 with `Retry-After` (a right key keeps working). Errors are JSON:',
    '`{"error": "<code>", "message": "<reason>", "details": [{"field": "…", "message": "…"}]}`',
    '(details on validation errors only; 5xx bodies carry no internals). Secrets sent to the API are',
    'stored encrypted and never returned: responses say `has_whatsapp_access_token` / `has_openai_api_key`.',
    '',
    'Bodies are JSON sent with `Content-Type: application/json` (a `charset` must be UTF-8), else 415.',
    'Free text (names, FAQs, messages) must be valid Unicode without NUL characters. Lengths count',
    'UTF-16 code units (an emoji counts 2); byte limits count UTF-8. Ids and contacts that no record',
    'could have (longer than a DynamoDB key allows) answer 404.',
    '',
  ];
  for (const route of allRoutes()) {
    const key = `${route.method} ${route.path}`;
    const doc = routeDocs[key];
    out.push(`## \`${key}\``, '');
    out.push(`Auth: ${authLabels[route.auth]}`, '');
    if (doc) {
      out.push(doc.summary, '');
      if (doc.query) out.push('Query:', '', schemaBlock(doc.query), '');
      if (doc.body) out.push('Body:', '', schemaBlock(doc.body), '');
      out.push(`Responses: ${doc.responses}`, '');
      if (doc.response) {
        const status = /^202\b/.test(doc.responses) ? '202' : '200';
        out.push(`Response (${status}):`, '', schemaBlock(doc.response, 'output'), '');
      }
    }
  }
  return `${out.join('\n').trimEnd()}\n`;
}

/** Routes of the topology that have no documentation entry (a test keeps this empty). */
export function undocumentedRoutes(): string[] {
  return allRoutes()
    .map((r) => `${r.method} ${r.path}`)
    .filter((key) => !routeDocs[key]);
}
