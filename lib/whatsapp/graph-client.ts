import { setTimeout as sleep } from 'node:timers/promises';
import {
  type MarkReadRequest,
  type Recipient,
  SendFailure,
  type SendFailureKind,
  type SendTextRequest,
  type WhatsAppSender,
} from '../conversation/ports.ts';
import { logger } from '../logger.ts';
import { isRecord, parseJsonObject } from './graph-json.ts';
import { buildTemplateMessageBody } from './message-templates.ts';

/**
 * The WhatsApp Cloud API client (Graph API `/{phone_number_id}/messages`): sends texts and templates,
 * marks messages read, with the typing indicator. It translates Meta's verdicts (error codes, HTTP
 * statuses, network failures) into the sender port's {@link SendFailureKind}s, retries what a later
 * attempt can fix (throughput limits, 5xx, network errors, the pair rate limit) with exponential
 * backoff and jitter, and otherwise throws a {@link GraphApiError}: a SendFailure with Graph's
 * details. The access token is sent only in the Authorization header: never in an error, never in a
 * log.
 */

/** A failed Graph call: the port's failure kind, with what Meta answered. */
export class GraphApiError extends SendFailure {
  /** HTTP status of the last attempt; 0 when no response arrived (network error, timeout). */
  readonly httpStatus: number;
  readonly code?: number;
  readonly subcode?: number;
  readonly fbtraceId?: string;
  /** How many HTTP attempts were made before giving up. */
  readonly attempts: number;

  constructor(
    message: string,
    details: {
      httpStatus: number;
      kind: SendFailureKind;
      code?: number;
      subcode?: number;
      fbtraceId?: string;
      retryAfterMs?: number;
      attempts?: number;
      cause?: unknown;
    },
  ) {
    super(message, {
      kind: details.kind,
      detail: `Graph API error ${details.code ?? details.httpStatus}`,
      ...(details.retryAfterMs === undefined ? {} : { retryAfterMs: details.retryAfterMs }),
      ...(details.cause === undefined ? {} : { cause: details.cause }),
    });
    this.httpStatus = details.httpStatus;
    if (details.code !== undefined) this.code = details.code;
    if (details.subcode !== undefined) this.subcode = details.subcode;
    if (details.fbtraceId !== undefined) this.fbtraceId = details.fbtraceId;
    this.attempts = details.attempts ?? 1;
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

/**
 * What a Graph `error.code` means (in send errors and in failed delivery statuses alike); undefined
 * for codes that say nothing beyond their HTTP status.
 */
export function kindOfGraphCode(code: number): SendFailureKind | undefined {
  if (code === 130429 || THROTTLING_CODES.has(code)) return 'rate_limited';
  if (code === 131056) return 'pair_rate_limited';
  if (code === 131047) return 'window_closed';
  if (code === 131048) return 'spam_paused';
  if (code === 190) return 'token_invalid';
  if (TRANSIENT_CODES.has(code)) return 'unavailable';
  return undefined;
}

/** Maps an HTTP status and Graph `error.code` to the port's failure kind. */
export function classifyGraphError(httpStatus: number, code?: number): SendFailureKind {
  const byCode = code === undefined ? undefined : kindOfGraphCode(code);
  if (byCode) return byCode;
  if (httpStatus === 429) return 'rate_limited';
  if (httpStatus === 401) return 'token_invalid';
  if (httpStatus === 0 || httpStatus >= 500) return 'unavailable';
  return 'permanent';
}

/**
 * Whether another attempt within this call is worth it: rate limits and unavailability, and, for a
 * read receipt only, an ambiguous outcome (marking read twice is harmless; sending twice is a
 * duplicate reply, since the Cloud API has no idempotency key).
 */
function worthRetrying(operation: 'send' | 'read', error: SendFailure): boolean {
  return error.retryable || (operation === 'read' && error.kind === 'ambiguous');
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
  const baseUrl = (options.baseUrl ?? 'https://graph.facebook.com').replace(/\/+$/, '');
  const version = options.version ?? 'v26.0';
  const timeoutMs = options.timeoutMs ?? 10_000;
  const retries = Math.max(0, options.retries ?? 3);
  const backoffMs = Math.max(0, options.backoffMs ?? 500);
  const pairBackoffMs = Math.max(0, options.pairRateLimitBackoffMs ?? backoffMs * 8);
  const maxBackoffMs = Math.max(0, options.maxBackoffMs ?? 30_000);

  function delayFor(error: GraphApiError, attempt: number): number {
    const base = error.kind === 'pair_rate_limited' ? pairBackoffMs : backoffMs;
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
      if (!worthRetrying(operation, error) || attempt >= retries) {
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
    deliveryFailureKind: kindOfGraphCode,
    async sendText(request) {
      const body = buildTextMessageBody(request);
      return messageIdOf(await post('send', request.phoneNumberId, request.accessToken, body));
    },
    async sendTemplate(request) {
      const body = buildTemplateMessageBody(request, recipientFields(request.to));
      return messageIdOf(await post('send', request.phoneNumberId, request.accessToken, body));
    },
    async markRead(request) {
      await post('read', request.phoneNumberId, request.accessToken, buildMarkReadBody(request));
    },
  };
}

/** The wamid of an accepted send. */
function messageIdOf(response: Record<string, unknown>): { messageId: string } {
  const messages = response.messages;
  const first = Array.isArray(messages) ? (messages[0] as { id?: unknown } | undefined) : undefined;
  if (typeof first?.id !== 'string' || !first.id) {
    // Meta accepted the request, so do not retry (that could send the message twice).
    throw new GraphApiError('Graph API send returned no message id', {
      httpStatus: 200,
      kind: 'permanent',
    });
  }
  return { messageId: first.id };
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
    const mayHaveArrived = timedOut || !NOT_CONNECTED_CODES.has(code);
    throw new GraphApiError(`Graph API ${operation} failed: ${reason}`, {
      httpStatus: 0,
      kind: mayHaveArrived ? 'ambiguous' : 'unavailable',
      attempts,
    });
  }
  const json = parseJsonObject(text);
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
