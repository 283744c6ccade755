import { logger } from '../logger.ts';
import { checkOpenAiKey, unreachable } from '../openai/key-check.ts';
import { isRecord, parseJsonObject } from './graph-json.ts';

/**
 * A tenant's "test connection": independent checks of its WhatsApp Cloud API credentials (and its own
 * OpenAI key), run in parallel, each with its own timeout, so one failing or hanging never stops the
 * others. Each ends in a plain sentence for the tenant admin:
 * - `token` (when the platform's Meta app id and secret are given): `GET /debug_token` → valid, when it
 *   expires, whether it carries `whatsapp_business_messaging`.
 * - `phone_number`: `GET /{phone-number-id}?fields=…` → the number, its verified name, quality rating
 *   and `health_status.can_send_message` (BLOCKED fails; LIMITED passes with a warning).
 * - `webhook_subscription` (when the WABA id is given): `GET /{waba-id}/subscribed_apps` → an app is
 *   subscribed, so webhooks can arrive.
 * - `openai_key` (when the tenant's OpenAI key is given): `GET /v1/models` (../openai/key-check.ts).
 *
 * The access token, the app secret and the OpenAI key never appear in a detail or a log line: details
 * are built from codes and Meta's public fields, and every detail is scrubbed of them once more.
 */

export type ConnectionCheckName = 'token' | 'phone_number' | 'webhook_subscription' | 'openai_key';

export interface ConnectionCheck {
  name: ConnectionCheckName;
  ok: boolean;
  /** A plain sentence: what was found, or why it failed. */
  detail: string;
}

export interface ConnectionCheckResult {
  /** Every check that ran passed. */
  ok: boolean;
  /** The checks that ran, in the order token, phone_number, webhook_subscription, openai_key. */
  checks: ConnectionCheck[];
}

export interface ConnectionCheckInput {
  phoneNumberId: string;
  /** The tenant's WhatsApp access token (system user token). */
  accessToken: string;
  /** The tenant's WhatsApp Business Account id; without it, no `webhook_subscription` check. */
  wabaId?: string;
  /** The tenant's own OpenAI key; without it, no `openai_key` check. */
  openaiApiKey?: string;
  /** The platform's Meta app id and App Secret, for `debug_token`; without both, no `token` check. */
  metaAppId?: string;
  appSecret?: string;
}

export interface ConnectionCheckDeps {
  /** e.g. `https://graph.facebook.com` (GRAPH_API_BASE_URL). */
  graphBaseUrl: string;
  /** e.g. `v26.0` (GRAPH_API_VERSION). */
  graphVersion: string;
  fetch?: typeof fetch;
  /** Like OPENAI_BASE_URL (including `/v1`); default OpenAI's public API. */
  openaiBaseUrl?: string;
  /** Each check's own time limit. */
  timeoutMs: number;
  /** The OpenAI check's limit; default `timeoutMs`. */
  openaiTimeoutMs?: number;
}

/** The permission a Cloud API token needs to send messages. */
export const MESSAGING_SCOPE = 'whatsapp_business_messaging';
/** The permission reading the number and the WABA's subscriptions needs. */
export const MANAGEMENT_SCOPE = 'whatsapp_business_management';

export async function runConnectionChecks(
  input: ConnectionCheckInput,
  deps: ConnectionCheckDeps,
): Promise<ConnectionCheckResult> {
  const graph = graphReader(deps);
  const planned: PlannedCheck[] = [];
  const graphCheck = (name: ConnectionCheckName, run: PlannedCheck['run']) =>
    planned.push({ name, service: 'the Graph API', timeoutMs: deps.timeoutMs, run });
  if (input.metaAppId && input.appSecret) {
    const appToken = `${input.metaAppId}|${input.appSecret}`;
    graphCheck('token', (signal) => checkToken(graph, input.accessToken, appToken, signal));
  }
  graphCheck('phone_number', (signal) => checkPhoneNumber(graph, input, signal));
  if (input.wabaId) {
    const wabaId = input.wabaId;
    graphCheck('webhook_subscription', (signal) =>
      checkSubscription(graph, input.accessToken, wabaId, signal),
    );
  }
  if (input.openaiApiKey) {
    const apiKey = input.openaiApiKey;
    const timeoutMs = deps.openaiTimeoutMs ?? deps.timeoutMs;
    planned.push({
      name: 'openai_key',
      service: 'OpenAI',
      timeoutMs,
      run: () =>
        checkOpenAiKey(apiKey, {
          timeoutMs,
          ...(deps.openaiBaseUrl ? { baseUrl: deps.openaiBaseUrl } : {}),
          ...(deps.fetch ? { fetch: deps.fetch } : {}),
        }),
    });
  }

  const secrets = secretsOf(input);
  const checks = await Promise.all(
    planned.map(async ({ name, service, timeoutMs, run }): Promise<ConnectionCheck> => {
      const verdict = await runWithin(service, timeoutMs, run);
      return { name, ok: verdict.ok, detail: scrub(verdict.detail, secrets) };
    }),
  );
  const result = { ok: checks.every((check) => check.ok), checks };
  logger.info('connection checks', {
    phoneNumberId: input.phoneNumberId,
    ok: result.ok,
    checks: checks.map(({ name, ok }) => ({ name, ok })),
  });
  return result;
}

interface Verdict {
  ok: boolean;
  detail: string;
}

interface PlannedCheck {
  name: ConnectionCheckName;
  /** Named in a timeout's detail. */
  service: string;
  timeoutMs: number;
  run: (signal: AbortSignal) => Promise<Verdict>;
}

/**
 * Runs one check under its own deadline: its requests share the signal, and should a fetch ignore it,
 * the deadline still answers. An unexpected throw is this check's failure, not the others'.
 */
async function runWithin(
  service: string,
  timeoutMs: number,
  run: (signal: AbortSignal) => Promise<Verdict>,
): Promise<Verdict> {
  const signal = AbortSignal.timeout(timeoutMs);
  let onAbort: (() => void) | undefined;
  const deadline = new Promise<Verdict>((resolve) => {
    onAbort = () => resolve({ ok: false, detail: `no answer from ${service} within ${timeoutMs} ms` });
    signal.addEventListener('abort', onAbort, { once: true });
  });
  try {
    return await Promise.race([
      run(signal).catch((cause: unknown) => ({ ok: false, detail: unreachable(service, cause, timeoutMs) })),
      deadline,
    ]);
  } finally {
    if (onAbort) signal.removeEventListener('abort', onAbort);
  }
}

// --- Graph reads -------------------------------------------------------------------------------

type GraphAnswer =
  | { ok: true; body: Record<string, unknown> }
  | { ok: false; httpStatus: number; code?: number; subcode?: number };

type GraphGet = (
  path: string,
  query: Record<string, string>,
  bearer: string | undefined,
  signal: AbortSignal,
) => Promise<GraphAnswer>;

function graphReader(deps: ConnectionCheckDeps): GraphGet {
  const base = `${deps.graphBaseUrl.replace(/\/+$/, '')}/${deps.graphVersion}`;
  const doFetch = deps.fetch ?? fetch;
  return async (path, query, bearer, signal) => {
    const url = `${base}/${path}?${new URLSearchParams(query).toString()}`;
    const headers: Record<string, string> = { accept: 'application/json' };
    if (bearer !== undefined) headers.authorization = `Bearer ${bearer}`;
    // Network errors and timeouts propagate to runWithin, which words them without the URL.
    const response = await doFetch(url, { headers, signal });
    const json = parseJsonObject(await response.text());
    if (response.ok && json) return { ok: true, body: json };
    const error = isRecord(json?.error) ? json.error : undefined;
    return {
      ok: false,
      httpStatus: response.status,
      ...(typeof error?.code === 'number' ? { code: error.code } : {}),
      ...(typeof error?.error_subcode === 'number' ? { subcode: error.error_subcode } : {}),
    };
  };
}

/**
 * Meta's error codes as sentences: 190 the token, 100 the id, 10 and 200–299 a permission (`needs`
 * names it, when known); other codes by number.
 */
export function describeGraphError(code: number | undefined, httpStatus: number, needs?: string): string {
  if (code === 190) return 'the access token is expired or revoked';
  if (code === 100) return 'the id is wrong or not visible to this token';
  if (code === 10 || (code !== undefined && code >= 200 && code <= 299)) {
    return needs ? `the token lacks a permission (${needs})` : 'the token lacks a permission';
  }
  if (code !== undefined) return `Graph API error ${code}`;
  return `the Graph API answered HTTP ${httpStatus}`;
}

async function checkToken(
  graph: GraphGet,
  accessToken: string,
  appToken: string,
  signal: AbortSignal,
): Promise<Verdict> {
  if (!accessToken) return { ok: false, detail: 'no access token given' };
  const answer = await graph(
    'debug_token',
    { input_token: accessToken, access_token: appToken },
    undefined,
    signal,
  );
  if (!answer.ok) {
    // An HTTP error here is about the request (often the app token); a bad input token comes in the data.
    const reason = describeGraphError(answer.code, answer.httpStatus);
    return {
      ok: false,
      detail:
        answer.code === 190 ? `${reason}, or the platform's Meta app id and secret were refused` : reason,
    };
  }
  const data = isRecord(answer.body.data) ? answer.body.data : {};
  if (data.is_valid !== true) {
    const error = isRecord(data.error) ? data.error : undefined;
    const code = typeof error?.code === 'number' ? error.code : undefined;
    return {
      ok: false,
      detail: code === undefined ? 'the access token is not valid' : describeGraphError(code, 200),
    };
  }
  const scopes = Array.isArray(data.scopes)
    ? data.scopes.filter((s): s is string => typeof s === 'string')
    : [];
  const expiry = describeExpiry(data.expires_at);
  if (!scopes.includes(MESSAGING_SCOPE)) {
    return { ok: false, detail: `valid, ${expiry}, but it lacks the ${MESSAGING_SCOPE} permission` };
  }
  return { ok: true, detail: `valid, ${expiry}` };
}

/** `expires_at` in seconds; 0 (or absent) is a token that never expires. */
function describeExpiry(expiresAt: unknown): string {
  if (typeof expiresAt !== 'number' || expiresAt <= 0) return 'never expires';
  const date = new Date(expiresAt * 1000);
  if (Number.isNaN(date.getTime())) return 'never expires';
  return `expires ${date.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

const PHONE_FIELDS = 'display_phone_number,verified_name,quality_rating,health_status';

async function checkPhoneNumber(
  graph: GraphGet,
  input: ConnectionCheckInput,
  signal: AbortSignal,
): Promise<Verdict> {
  if (!input.accessToken) return { ok: false, detail: 'no access token given' };
  if (!/^\d{1,32}$/.test(input.phoneNumberId)) {
    return { ok: false, detail: 'the phone number id must be the number Meta shows (digits only)' };
  }
  const answer = await graph(input.phoneNumberId, { fields: PHONE_FIELDS }, input.accessToken, signal);
  if (!answer.ok) {
    return {
      ok: false,
      detail: describeGraphError(answer.code, answer.httpStatus, `needs ${MANAGEMENT_SCOPE}`),
    };
  }
  const { body } = answer;
  const number = publicText(body.display_phone_number) ?? 'the number';
  const name = publicText(body.verified_name);
  const quality = publicText(body.quality_rating) ?? 'unknown';
  const who = name ? `${number} (${name})` : number;
  const health = isRecord(body.health_status) ? body.health_status : undefined;
  const canSend = publicText(health?.can_send_message);
  const facts = `${who}, quality ${quality}`;
  if (canSend === 'BLOCKED') {
    return { ok: false, detail: `${facts}, cannot send messages (BLOCKED${reasonOf(health, 'BLOCKED')})` };
  }
  if (canSend === 'LIMITED') {
    return { ok: true, detail: `${facts}, warning: sending is LIMITED${reasonOf(health, 'LIMITED')}` };
  }
  if (canSend === 'AVAILABLE') return { ok: true, detail: `${facts}, can send messages (AVAILABLE)` };
  return { ok: true, detail: `${facts}, sending status not reported` };
}

/** The first reason Meta gives for an entity (number, WABA, business, app) in this state, as `: …`. */
function reasonOf(health: Record<string, unknown> | undefined, state: string): string {
  const entities = Array.isArray(health?.entities) ? health.entities.filter(isRecord) : [];
  for (const entity of entities) {
    if (entity.can_send_message !== state || !Array.isArray(entity.errors)) continue;
    const first = entity.errors.find(isRecord);
    const description = publicText(first?.error_description);
    if (description) {
      const what = publicText(entity.entity_type)?.toLowerCase().replace(/_/g, ' ') ?? 'an entity';
      return `: ${what}: ${description}`;
    }
  }
  return '';
}

async function checkSubscription(
  graph: GraphGet,
  accessToken: string,
  wabaId: string,
  signal: AbortSignal,
): Promise<Verdict> {
  if (!accessToken) return { ok: false, detail: 'no access token given' };
  if (!/^\d{1,32}$/.test(wabaId)) {
    return {
      ok: false,
      detail: 'the WhatsApp Business Account id must be the number Meta shows (digits only)',
    };
  }
  const answer = await graph(`${wabaId}/subscribed_apps`, {}, accessToken, signal);
  if (!answer.ok) {
    return {
      ok: false,
      detail: describeGraphError(answer.code, answer.httpStatus, `needs ${MANAGEMENT_SCOPE}`),
    };
  }
  const apps = Array.isArray(answer.body.data) ? answer.body.data.filter(isRecord) : [];
  if (apps.length === 0) {
    return {
      ok: false,
      detail: 'no app is subscribed to the WhatsApp Business Account: webhooks will not arrive',
    };
  }
  const names = apps
    .map((app) =>
      isRecord(app.whatsapp_business_api_data) ? publicText(app.whatsapp_business_api_data.name) : undefined,
    )
    .filter((name): name is string => name !== undefined);
  const list = names.length > 0 ? `: ${names.join(', ')}` : '';
  return { ok: true, detail: `${apps.length === 1 ? '1 app' : `${apps.length} apps`} subscribed${list}` };
}

// --- Helpers -----------------------------------------------------------------------------------

/** A short, single-line string Meta returned (a name, a rating), or undefined. */
function publicText(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is removed.
  const clean = value.replace(/[\u0000-\u001f\u007f]+/g, ' ').trim();
  if (!clean) return undefined;
  return clean.length > 160 ? `${clean.slice(0, 160)}…` : clean;
}

/** The secret values, raw and URL-encoded, that must never leave in a detail. */
function secretsOf(input: ConnectionCheckInput): string[] {
  const raw = [input.accessToken, input.appSecret, input.openaiApiKey];
  if (input.metaAppId && input.appSecret) raw.push(`${input.metaAppId}|${input.appSecret}`);
  const values = new Set<string>();
  for (const value of raw) {
    if (!value || value.length < 4) continue;
    values.add(value);
    values.add(encodeURIComponent(value));
  }
  // Longest first, so a value containing another is replaced whole.
  return [...values].sort((a, b) => b.length - a.length);
}

function scrub(detail: string, secrets: string[]): string {
  let clean = detail;
  for (const secret of secrets) clean = clean.split(secret).join('[redacted]');
  return clean;
}
