import type * as z from 'zod';
import {
  acceptInvitationSchema,
  paginationQuerySchema,
  qrCommandAcceptedSchema,
  signInSchema,
  tenantQrStatusSchema,
  tenantUpdateSchema,
} from '../tenants/client-schemas.ts';

/** The entries of docs/api.md for the tenant keys, invitations, connection test and /tenant routes. */
export interface RouteDoc {
  summary: string;
  body?: z.ZodType;
  query?: z.ZodType;
  /** The schema of the success body, where the route has one (rendered as its output). */
  response?: z.ZodType;
  responses: string;
}

const KEY_SHAPE =
  '`{"key_id","api_key","prefix","created_at"}` — `api_key` (`wta_live_<key_id>_<32 base62>`, 190 random bits) is shown only here; only its SHA-256 is stored';
const KEYS_LIST = '`{"api_keys":[{"key_id","prefix","created_at","last_used_at"}]}` (no secret, no hash)';
const CHECKS =
  '200 `{"ok":bool,"checks":[{"name","ok","detail"}]}` — checks `token` (debug_token, when the platform\'s Meta app id is configured), `phone_number` (display number, verified name, quality, `health_status.can_send_message`), `webhook_subscription` (when `waba_id` is set), `openai_key` (when the tenant has its own key); each runs on its own and ends in a plain sentence; no token is ever shown';

export const tenantRouteDocs: Record<string, RouteDoc> = {
  'POST /web/sessions': {
    summary:
      "Signs a browser in: the operator key or a tenant API key for a session cookie (`wa_session`: HttpOnly, SameSite=Strict, Secure over HTTPS, 12 hours) that holds no key. With the cookie, the same operator and tenant routes work without `Authorization`; every request that changes something must also send the session's `csrf_token` in `x-csrf-token` (else 403). Revoking the key (or rotating the operator key) ends its sessions.",
    body: signInSchema,
    responses:
      '201 `{"kind":"operator"|"tenant","client_id"?,"key_id"?,"csrf_token","expires_at"}` with `Set-Cookie`; 400; 401 not a valid key; 403 the tenant is deactivated; 429',
  },
  'GET /web/session': {
    summary: "The browser's current session (for a page loaded anew): who it is and its CSRF token.",
    responses: '200 as above, without `Set-Cookie`; 401 no live session',
  },
  'DELETE /web/session': {
    summary: 'Signs out: ends the session and clears the cookie. Needs `x-csrf-token`.',
    responses: '200 `{"signed_out":true}`; 403 wrong or missing CSRF token',
  },
  'POST /clients/{id}/api-keys': {
    summary: 'Issues a tenant API key for the client. At most two active keys, so a rotation can overlap.',
    responses: `201 ${KEY_SHAPE}; 401; 403 a tenant key; 404 unknown or deactivated client; 409 the client already has two active keys`,
  },
  'GET /clients/{id}/api-keys': {
    summary: "The client's active keys, oldest first.",
    responses: `200 ${KEYS_LIST}; 401; 403; 404`,
  },
  'DELETE /clients/{id}/api-keys/{key_id}': {
    summary: 'Revokes a key: the next request with it is 401.',
    responses: '200 `{"key_id","revoked":true}`; 401; 403; 404 no such key of this client',
  },
  'POST /clients/{id}/invitation': {
    summary:
      "Sends the client a new invitation e-mail (SES, in the client's `language`) with its landing link `{PUBLIC_BASE_URL}/client/{slug}?invite={token}`, voiding the previous token. The outcome is also the client's `invitation` (`sent` / `failed` with `reason`). `POST /clients` with `email` sends the first one itself.",
    responses:
      '201 `{"client_id","invitation":{"status":"sent","to","sent_at"}}`; 400 the client has no `email`; 401; 403; 404; 502 `{"error":"invitation_not_sent","message":<reason>,"invitation":{…"status":"failed"}}`',
  },
  'POST /clients/{id}/test-connection': {
    summary:
      "The operator's view of the client's connection test (the same checks as `POST /tenant/test-connection`).",
    responses: `${CHECKS}; 401; 403; 404`,
  },
  'POST /invitations/accept': {
    summary:
      "Exchanges an invitation token (the `invite` parameter of the link) for the tenant's first API key. Single use; valid 7 days. Every token that does not work (never issued, replaced, used, expired, malformed) gets the same 410. Failed attempts count towards the per-source limit.",
    body: acceptInvitationSchema,
    responses: `201 \`{"client_id","key_id","api_key","prefix","created_at"}\`; 400 no token; 409 the tenant already holds two keys (the invitation stays usable); 410 not valid; 429 too many failed attempts from this address (\`Retry-After\`)`,
  },
  'GET /tenant': {
    summary:
      "The tenant's own client (the key's tenant), in the shape of `GET /clients/{id}`: secrets as `has_…`, `channel`, `slug`, `landing_url`, `connection` (`state`: `connected` | `credentials_invalid` | `sending_paused` | `qr_not_linked`, `detail`, `last_test`), `invitation`.",
    responses:
      '200 the client; 401 missing, invalid or revoked key; 403 the operator key, or the client is deactivated; 429',
  },
  'PATCH /tenant': {
    summary:
      'What a business changes itself. Changing `faqs`, `name`, `business_hours`, `language`, `openai_model` or `openai_api_key` rebuilds the assistant as a new version. Secrets are write-only (`null` removes one). `active`, `phone_number`, `phone_number_id`, `email` and `max_retention_hours` are the operator\'s (400 naming them); `retention_hours` at most the client\'s `max_retention_hours`. `channel: "qr"` switches to QR mode (the number is linked by scanning the QR of `GET /tenant/qr`; no Cloud API token needed); it is 409 on a deployment without QR mode. `channel: "cloud_api"` switches back to the Cloud API number the client had (the operator gives one if it never had one), stops the session and deletes the stored one.',
    body: tenantUpdateSchema,
    responses:
      '200 the client; 400 with the reason (a `window_template` not approved on the WABA is `window_template "<name>" (<language>) is not an approved template on WABA <id>`; one without `waba_id` is 400 too); 401; 403; 409 QR mode unavailable, the WABA\'s templates could not be read (token refused, wrong WABA id, missing permission), or changed meanwhile (retry); 413; 415; 502 the Graph API did not answer while checking the `window_template`',
  },
  'GET /tenant/qr': {
    summary:
      "The tenant's QR session, as the runner last reported it: render `qr` as a QR code and scan it from WhatsApp (Linked devices) before `qr_expires_at`; poll it to follow the state. `starting` until the runner's first report. The QR is never logged.",
    response: tenantQrStatusSchema,
    responses:
      '200 `{"state","qr","qr_expires_at","phone_number"}` (null when absent); 401; 403; 409 not in QR mode',
  },
  'POST /tenant/qr/start': {
    summary:
      'Asks the runner to (re)start the session: a new QR after `qr_expired`, `logged_out` or `failed`. The command expires after 10 minutes unless acted on.',
    response: qrCommandAcceptedSchema,
    responses: '202 `{"state"}` (the state before the runner acts); 401; 403; 409 not in QR mode',
  },
  'POST /tenant/qr/unlink': {
    summary:
      'Unlinks the WhatsApp account: the runner logs it out and deletes its stored session; `POST /tenant/qr/start` then shows a new QR.',
    response: qrCommandAcceptedSchema,
    responses: '202 `{"state"}`; 401; 403; 409 not in QR mode',
  },
  'POST /clients/{id}/qr/start': {
    summary: "The operator's `POST /tenant/qr/start` for the client.",
    response: qrCommandAcceptedSchema,
    responses: '202 `{"state"}`; 401; 403; 404; 409 not in QR mode',
  },
  'POST /clients/{id}/qr/unlink': {
    summary: "The operator's `POST /tenant/qr/unlink` for the client.",
    response: qrCommandAcceptedSchema,
    responses: '202 `{"state"}`; 401; 403; 404; 409 not in QR mode',
  },
  'POST /tenant/api-keys': {
    summary: 'Issues another key for the tenant (to rotate: create, switch, revoke the old one).',
    responses: `201 ${KEY_SHAPE}; 401; 403; 409 two active keys already`,
  },
  'GET /tenant/api-keys': { summary: "The tenant's active keys.", responses: `200 ${KEYS_LIST}; 401; 403` },
  'DELETE /tenant/api-keys/{key_id}': {
    summary: "Revokes one of the tenant's keys (the one in use too).",
    responses: '200 `{"key_id","revoked":true}`; 401; 403; 404 no such key of this tenant',
  },
  'POST /tenant/test-connection': {
    summary:
      "Checks the tenant's WhatsApp connection (its own token, else the platform's) and its own OpenAI key.",
    responses: `${CHECKS}; 401; 403`,
  },
  'GET /tenant/conversations': {
    summary:
      'The tenant\'s contacts (as `GET /clients/{id}/conversations`), each with `handoff` (`{"by","until"}` or null): a chat flagged `customer_request` is a customer waiting for a person.',
    query: paginationQuerySchema,
    responses: '200 `{"conversations":[…],"next_cursor":…}`; 400; 401; 403',
  },
  'GET /tenant/conversations/{contact}/messages': {
    summary: "One of the tenant's contacts' messages, newest first.",
    query: paginationQuerySchema,
    responses:
      '200 `{"contact","messages":[…],"next_cursor"}`; 400; 401; 403; 404 no such contact of this tenant',
  },
  'DELETE /tenant/conversations/{contact}': {
    summary: "Erases one of the tenant's customers (messages, conversation state, OpenAI conversation).",
    responses: '200 the counts deleted; 401; 403; 404; 409 a purge run is erasing it right now',
  },
};
