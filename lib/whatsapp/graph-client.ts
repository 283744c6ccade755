import { setTimeout as sleep } from 'node:timers/promises';
import type { MarkReadRequest, Recipient, SendTextRequest, WhatsAppSender } from '../conversation/ports.ts';
import { logger } from '../logger.ts';

/**
 * The WhatsApp Cloud API client (Graph API `/{phone_number_id}/messages`): sends texts and marks
 * messages read, with the typing indicator. It retries what a later attempt can fix (throughput
 * limits, 5xx, network errors, the pair rate limit) with exponential backoff and jitter, and throws a
 * {@link GraphApiError} whose `kind` tells the caller what to do otherwise. The access token is sent
 * only in the Authorization header: never in an error, never in a log.
 */

/** What a failed Graph call means for the caller. */
export type GraphErrorKind =
  /** 130429 or HTTP 429 (and Graph's generic throttling codes): retry with backoff. */
  | 'throughput'
  /** 131056: too many messages to this one user; back off longer. */
  | 'pair_rate_limit'
  /** 131047: more than 24 h since the customer wrote; only templates may be sent. */
  | 'window_closed'
  /** 131048: the number is spam-limited; pause sending, do not retry. */
  | 'spam_limited'
  /** 190 or HTTP 401: the token expired or was revoked; mark the tenant's credentials invalid. */
  | 'token_invalid'
  /** 5xx, network failure or timeout: retry. */
  | 'server'
  /** Anything else (bad parameters, permissions, unsupported recipient...): do not retry. */
  | 'permanent';

export class GraphApiError extends Error {
  /** HTTP status of the last attempt; 0 when no response arrived (network error, timeout). */
  readonly httpStatus: number;
  readonly code?: number;
  readonly subcode?: number;
  readonly fbtraceId?: string;
  readonly kind: GraphErrorKind;
  /** Retry-After of the last response, in milliseconds, when Meta sent one. */
  readonly retryAfterMs?: number;
  /** How many HTTP attempts were made before giving up. */
  readonly attempts: number;
  /**
   * The request may have reached Meta (timeout or connection lost after sending): a send must not
   * be repeated, since the Cloud API has no idempotency key.
   */
  readonly ambiguous: boolean;

  constructor(
    message: string,
    details: {
      httpStatus: number;
      kind: GraphErrorKind;
      code?: number;
      subcode?: number;
      fbtraceId?: string;
      retryAfterMs?: number;
      attempts?: number;
      ambiguous?: boolean;
      cause?: unknown;
    },
  ) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = 'GraphApiError';
    this.httpStatus = details.httpStatus;
    this.kind = details.kind;
    if (details.code !== undefined) this.code = details.code;
    if (details.subcode !== undefined) this.subcode = details.subcode;
    if (details.fbtraceId !== undefined) this.fbtraceId = details.fbtraceId;
    if (details.retryAfterMs !== undefined) this.retryAfterMs = details.retryAfterMs;
    this.attempts = details.attempts ?? 1;
    this.ambiguous = details.ambiguous ?? false;
  }
}

/** Network failures that happen before a request can reach Meta (safe to send again). */
const NOT_CONNECTED_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ENETUNREACH',
  'EHOSTUNREACH',
]);

/** Graph's generic throttling codes (API Too Many Calls, user/page/app limits, WABA rate limit). */
const THROTTLING_CODES = new Set([4, 17, 32, 613, 80007]);
/** Graph's "temporary, try again" codes (API Unknown, API Service, WhatsApp service unavailable). */
const TRANSIENT_CODES = new Set([1, 2, 131016, 133004]);

/** Maps an HTTP status and Graph `error.code` to what it means for the caller. */
export function classifyGraphError(httpStatus: number, code?: number): GraphErrorKind {
  if (code === 130429 || (code !== undefined && THROTTLING_CODES.has(code))) return 'throughput';
  if (code === 131056) return 'pair_rate_limit';
  if (code === 131047) return 'window_closed';
  if (code === 131048) return 'spam_limited';
  if (code === 190) return 'token_invalid';
  if (code !== undefined && TRANSIENT_CODES.has(code)) return 'server';
  if (httpStatus === 429) return 'throughput';
  if (httpStatus === 401) return 'token_invalid';
  if (httpStatus === 0 || httpStatus >= 500) return 'server';
  return 'permanent';
}

const RETRYABLE_KINDS: ReadonlySet<GraphErrorKind> = new Set(['throughput', 'server', 'pair_rate_limit']);

/**
 * Whether a later attempt may succeed (throughput, pair rate limit, server): the caller lets the
 * message go back to the queue for redelivery. False for every other error, including non-Graph ones.
 */
export function isRetryableGraphError(error: unknown): boolean {
  return error instanceof GraphApiError && RETRYABLE_KINDS.has(error.kind);
}

export interface GraphClientOptions {
  /** Default `GRAPH_API_BASE_URL`, else `https://graph.facebook.com`. */
  baseUrl?: string;
  /** Default `GRAPH_API_VERSION`, else `v26.0`. */
  version?: string;
  /** Per attempt. */
  timeoutMs?: number;
  /** Extra attempts after the first, for retryable errors. */
  retries?: number;
  /** First backoff for throughput and server errors; doubles each attempt, with jitter. */
  backoffMs?: number;
  /** First backoff for the pair rate limit (131056); default 8 × backoffMs. */
  pairRateLimitBackoffMs?: number;
  /** Upper bound of any single wait, Retry-After included. */
  maxBackoffMs?: number;
}

export interface GraphClient extends WhatsAppSender {
  readonly baseUrl: string;
  readonly version: string;
}

/** The body of a text message: `to` for a phone number (wa_id), `recipient` for a business-scoped user id. */
export function buildTextMessageBody(
  request: Pick<SendTextRequest, 'to' | 'text' | 'replyTo'>,
): Record<string, unknown> {
  const body: Record<string, unknown> = {
    messaging_product: 'whatsapp',
    recipient_type: 'individual',
    ...recipientFields(request.to),
    type: 'text',
    text: { body: request.text, preview_url: false },
  };
  if (request.replyTo) body.context = { message_id: request.replyTo };
  return body;
}

/** The body that marks a message read (and shows "typing…" until the reply or 25 s). */
export function buildMarkReadBody(
  request: Pick<MarkReadRequest, 'messageId' | 'typing'>,
): Record<string, unknown> {
  const body: Record<string, unknown> = {
    messaging_product: 'whatsapp',
    status: 'read',
    message_id: request.messageId,
  };
  if (request.typing) body.typing_indicator = { type: 'text' };
  return body;
}

function recipientFields(to: Recipient): { to: string } | { recipient: string } {
  // When both are present Meta gives `to` precedence, so send only the one we mean.
  if (to.user_id) return { recipient: to.user_id };
  if (to.wa_id) return { to: to.wa_id };
  throw new GraphApiError('Graph API send failed: the recipient has neither user_id nor wa_id', {
    httpStatus: 0,
    kind: 'permanent',
    attempts: 0,
  });
}

export function createGraphClient(options: GraphClientOptions = {}): GraphClient {
  const baseUrl = (options.baseUrl ?? process.env.GRAPH_API_BASE_URL ?? 'https://graph.facebook.com').replace(
    /\/+$/,
    '',
  );
  const version = options.version ?? process.env.GRAPH_API_VERSION ?? 'v26.0';
  const timeoutMs = options.timeoutMs ?? 10_000;
  const retries = Math.max(0, options.retries ?? 3);
  const backoffMs = Math.max(0, options.backoffMs ?? 500);
  const pairBackoffMs = Math.max(0, options.pairRateLimitBackoffMs ?? backoffMs * 8);
  const maxBackoffMs = Math.max(0, options.maxBackoffMs ?? 30_000);

  function delayFor(error: GraphApiError, attempt: number): number {
    const base = error.kind === 'pair_rate_limit' ? pairBackoffMs : backoffMs;
    const exponential = base * 2 ** attempt;
    const jittered = exponential / 2 + Math.random() * (exponential / 2);
    const wait = Math.max(jittered, error.retryAfterMs ?? 0);
    return Math.min(Math.round(wait), maxBackoffMs);
  }

  async function post(
    operation: 'send' | 'read',
    phoneNumberId: string,
    accessToken: string,
    body: Record<string, unknown>,
  ): Promise<Record<string, unknown>> {
    if (!phoneNumberId) {
      throw new GraphApiError(`Graph API ${operation} failed: missing phone_number_id`, {
        httpStatus: 0,
        kind: 'permanent',
        attempts: 0,
      });
    }
    if (!accessToken) {
      throw new GraphApiError(`Graph API ${operation} failed: missing access token`, {
        httpStatus: 0,
        kind: 'token_invalid',
        attempts: 0,
      });
    }
    const url = `${baseUrl}/${version}/${encodeURIComponent(phoneNumberId)}/messages`;
    const payload = JSON.stringify(body);
    for (let attempt = 0; ; attempt++) {
      let error: GraphApiError;
      try {
        return await attemptOnce(operation, url, accessToken, payload, attempt + 1, timeoutMs);
      } catch (caught) {
        if (!(caught instanceof GraphApiError)) throw caught;
        error = caught;
      }
      // A send that may have reached Meta is never repeated (it would be a duplicate reply).
      const mayHaveSent = operation === 'send' && error.ambiguous;
      if (!RETRYABLE_KINDS.has(error.kind) || attempt >= retries || mayHaveSent) {
        logger.warn('graph api call failed', {
          operation,
          phoneNumberId,
          httpStatus: error.httpStatus,
          code: error.code,
          subcode: error.subcode,
          kind: error.kind,
          fbtraceId: error.fbtraceId,
          attempts: attempt + 1,
        });
        throw error;
      }
      const delayMs = delayFor(error, attempt);
      logger.info('graph api call will be retried', {
        operation,
        phoneNumberId,
        httpStatus: error.httpStatus,
        code: error.code,
        kind: error.kind,
        attempt: attempt + 1,
        delayMs,
      });
      await sleep(delayMs);
    }
  }

  return {
    baseUrl,
    version,
    async sendText(request) {
      const body = buildTextMessageBody(request);
      const response = await post('send', request.phoneNumberId, request.accessToken, body);
      const messages = response.messages;
      const first = Array.isArray(messages) ? (messages[0] as { id?: unknown } | undefined) : undefined;
      if (typeof first?.id !== 'string' || !first.id) {
        // Meta accepted the request, so do not retry (that could send the text twice).
        throw new GraphApiError('Graph API send returned no message id', {
          httpStatus: 200,
          kind: 'permanent',
        });
      }
      return { messageId: first.id };
    },
    async markRead(request) {
      await post('read', request.phoneNumberId, request.accessToken, buildMarkReadBody(request));
    },
  };
}

async function attemptOnce(
  operation: string,
  url: string,
  accessToken: string,
  payload: string,
  attempts: number,
  timeoutMs: number,
): Promise<Record<string, unknown>> {
  let response: Response;
  let text: string;
  try {
    response = await fetch(url, {
      method: 'POST',
      headers: { authorization: `Bearer ${accessToken}`, 'content-type': 'application/json' },
      body: payload,
      signal: AbortSignal.timeout(timeoutMs),
    });
    text = await response.text();
  } catch (cause) {
    const timedOut = cause instanceof Error && (cause.name === 'TimeoutError' || cause.name === 'AbortError');
    const code = errorCode(cause);
    const reason = timedOut ? `timed out after ${timeoutMs} ms` : `network error (${code})`;
    throw new GraphApiError(`Graph API ${operation} failed: ${reason}`, {
      httpStatus: 0,
      kind: 'server',
      attempts,
      ambiguous: timedOut || !NOT_CONNECTED_CODES.has(code),
    });
  }
  const json = parseJson(text);
  if (response.ok) return json ?? {};

  const graphError = isRecord(json?.error) ? json.error : undefined;
  const code = typeof graphError?.code === 'number' ? graphError.code : undefined;
  const subcode = typeof graphError?.error_subcode === 'number' ? graphError.error_subcode : undefined;
  const fbtraceId = typeof graphError?.fbtrace_id === 'string' ? graphError.fbtrace_id : undefined;
  const kind = classifyGraphError(response.status, code);
  const retryAfterMs = parseRetryAfter(response.headers.get('retry-after'));
  const metaMessage =
    typeof graphError?.message === 'string' ? redact(graphError.message, accessToken) : undefined;
  const message =
    `Graph API ${operation} failed: HTTP ${response.status}` +
    (code === undefined ? '' : ` code ${code}`) +
    (subcode === undefined ? '' : `/${subcode}`) +
    ` (${kind})` +
    (metaMessage ? `: ${metaMessage}` : '');
  throw new GraphApiError(message, {
    httpStatus: response.status,
    kind,
    ...(code === undefined ? {} : { code }),
    ...(subcode === undefined ? {} : { subcode }),
    ...(fbtraceId === undefined ? {} : { fbtraceId }),
    ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
    attempts,
  });
}

function parseJson(text: string): Record<string, unknown> | undefined {
  if (!text) return undefined;
  try {
    const value: unknown = JSON.parse(text);
    return isRecord(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Retry-After as seconds or an HTTP date, in milliseconds. */
export function parseRetryAfter(header: string | null): number | undefined {
  if (!header) return undefined;
  const trimmed = header.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000);
  const date = Date.parse(trimmed);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

/** Meta's messages never echo the token today; this keeps it that way, and keeps them short. */
function redact(message: string, accessToken: string): string {
  const clean = accessToken.length >= 4 ? message.split(accessToken).join('[redacted]') : message;
  return clean.length > 300 ? `${clean.slice(0, 300)}…` : clean;
}

function errorCode(cause: unknown): string {
  const inner = cause instanceof Error && cause.cause instanceof Error ? cause.cause : cause;
  if (isRecord(inner) && typeof inner.code === 'string') return inner.code;
  return inner instanceof Error ? inner.name : 'unknown';
}
