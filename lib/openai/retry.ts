import { setTimeout as sleep } from 'node:timers/promises';
import { APIConnectionError, APIConnectionTimeoutError, APIError, APIUserAbortError } from 'openai';
import type { TokenUsage } from '../conversation/ports.ts';
import { AppError } from '../errors.ts';
import { logger } from '../logger.ts';

/**
 * The one retry policy of the OpenAI adapters (responder, conversations, vector stores). The SDK's
 * own retries are switched off (`maxRetries: 0`) so this is the policy that counts: 429, 408, 409,
 * 5xx, connection errors and timeouts are retried with exponential backoff and jitter; any other 4xx
 * is final at once. After the last attempt the failure becomes an {@link OpenAiUnavailableError}.
 */

/** Why OpenAI could not be used. `retryable` on the error says whether a later attempt may succeed. */
export type OpenAiFailureReason =
  | 'rate_limited'
  | 'quota_exceeded'
  | 'server_error'
  | 'conflict'
  | 'timeout'
  | 'connection'
  | 'auth'
  | 'bad_request'
  | 'not_found'
  | 'no_api_key'
  | 'empty_reply'
  /** Media the API cannot take (audio in AMR or AAC): refused before any call. */
  | 'unsupported_format';

const RETRYABLE_REASONS: ReadonlySet<OpenAiFailureReason> = new Set([
  'rate_limited',
  'server_error',
  'conflict',
  'timeout',
  'connection',
]);

/**
 * OpenAI failed for good (after our retries, or at once for a non-retryable 4xx). `reason` is the
 * machine-readable cause, `upstreamStatus` the HTTP status OpenAI answered (when it answered),
 * `retryable` whether a later attempt (e.g. an SQS redelivery) may succeed, `cause` the SDK error.
 */
export class OpenAiUnavailableError extends AppError {
  readonly reason: OpenAiFailureReason;
  readonly upstreamStatus: number | undefined;
  readonly attempts: number;
  readonly retryable: boolean;
  /**
   * The contact's OpenAI conversation when one exists (e.g. created for this message before the
   * reply failed): the caller stores it anyway, so the purge can delete it later.
   */
  conversationId?: string;
  /** Tokens OpenAI billed before the failure (a reply cut off or empty): still counted. */
  readonly usage?: TokenUsage;

  constructor(
    reason: OpenAiFailureReason,
    message: string,
    options: { cause?: unknown; upstreamStatus?: number; attempts?: number; usage?: TokenUsage } = {},
  ) {
    super(503, 'openai_unavailable', message, { cause: options.cause });
    this.reason = reason;
    this.upstreamStatus = options.upstreamStatus;
    this.attempts = options.attempts ?? 0;
    this.retryable = RETRYABLE_REASONS.has(reason);
    if (options.usage) this.usage = options.usage;
  }

  /**
   * No key anywhere (neither the tenant's nor the platform's): OpenAI is not configured rather than
   * failing, so the fallback's answer is the normal one (see the Responder port).
   */
  get notConfigured(): boolean {
    return this.reason === 'no_api_key';
  }
}

export interface OpenAiFailure {
  reason: OpenAiFailureReason;
  retryable: boolean;
  status?: number;
  /** OpenAI's error code (`rate_limit_exceeded`, `invalid_api_key`...), when it sent one. */
  code?: string;
  /** What the server asked us to wait (Retry-After / retry-after-ms), in milliseconds. */
  retryAfterMs?: number;
}

/** Classifies an error thrown by the `openai` SDK; undefined for anything else (a bug: rethrown). */
export function classifyOpenAiError(error: unknown): OpenAiFailure | undefined {
  if (error instanceof OpenAiUnavailableError) {
    return {
      reason: error.reason,
      retryable: false,
      ...(error.upstreamStatus ? { status: error.upstreamStatus } : {}),
    };
  }
  if (error instanceof APIConnectionTimeoutError) return { reason: 'timeout', retryable: true };
  // Aborted by our own caller's signal: not a failure of OpenAI, and retrying would ignore the abort.
  if (error instanceof APIUserAbortError) return { reason: 'timeout', retryable: false };
  if (error instanceof APIConnectionError) return { reason: 'connection', retryable: true };
  if (!(error instanceof APIError) || error.status === undefined) return undefined;

  const status = error.status;
  const code = typeof error.code === 'string' ? error.code : undefined;
  const base = { status, ...(code ? { code } : {}) };
  if (status === 429) {
    // Quota exhausted (billing) comes as 429 too, but waiting a few seconds will not fix it.
    if (code === 'insufficient_quota' || error.type === 'insufficient_quota') {
      return { ...base, reason: 'quota_exceeded', retryable: false };
    }
    return { ...base, reason: 'rate_limited', retryable: true, ...retryAfter(error.headers) };
  }
  if (status >= 500)
    return { ...base, reason: 'server_error', retryable: true, ...retryAfter(error.headers) };
  if (status === 408) return { ...base, reason: 'timeout', retryable: true };
  if (status === 409) return { ...base, reason: 'conflict', retryable: true };
  if (status === 401 || status === 403) return { ...base, reason: 'auth', retryable: false };
  if (status === 404) return { ...base, reason: 'not_found', retryable: false };
  return { ...base, reason: 'bad_request', retryable: false };
}

function retryAfter(headers: Headers | undefined): { retryAfterMs?: number } {
  const ms = Number(headers?.get('retry-after-ms'));
  if (Number.isFinite(ms) && ms > 0) return { retryAfterMs: ms };
  const seconds = Number(headers?.get('retry-after'));
  if (Number.isFinite(seconds) && seconds > 0) return { retryAfterMs: seconds * 1000 };
  return {};
}

export interface RetryPolicy {
  /** Retries after the first attempt (total attempts = retries + 1). Default 2. */
  retries?: number;
  /** Base delay before the first retry; doubles each time. Default 500 ms. */
  backoffMs?: number;
  /** Upper bound of one delay, Retry-After included. Default 8 s. */
  maxBackoffMs?: number;
  /**
   * Epoch ms after which no attempt may still be running (the caller's own time budget): an
   * attempt that could not finish in time (see `attemptMs`) is not started.
   */
  deadline?: number;
  /** How long one attempt may take (the client's timeout), to judge the deadline. */
  attemptMs?: number;
}

export const DEFAULT_RETRY_POLICY: Required<Omit<RetryPolicy, 'deadline' | 'attemptMs'>> = {
  retries: 2,
  backoffMs: 500,
  maxBackoffMs: 8_000,
};

/** Delay before retry number `retry` (1-based): exponential, capped, "equal jitter" (half fixed, half random). */
export function backoffDelay(
  retry: number,
  policy: Required<Omit<RetryPolicy, 'deadline' | 'attemptMs'>>,
  retryAfterMs?: number,
): number {
  const exponential = Math.min(policy.backoffMs * 2 ** (retry - 1), policy.maxBackoffMs);
  const jittered = exponential / 2 + Math.random() * (exponential / 2);
  return Math.round(Math.min(Math.max(jittered, retryAfterMs ?? 0), policy.maxBackoffMs));
}

/**
 * Runs `call` under the retry policy. `operation` names the call in logs (never message text or
 * keys). Errors that are not the SDK's are rethrown untouched; SDK errors end as OpenAiUnavailableError.
 */
export async function withOpenAiRetry<T>(
  operation: string,
  call: (attempt: number) => Promise<T>,
  policy: RetryPolicy = {},
): Promise<T> {
  const resolved: Required<Omit<RetryPolicy, 'deadline' | 'attemptMs'>> = {
    retries: Math.max(0, policy.retries ?? DEFAULT_RETRY_POLICY.retries),
    backoffMs: Math.max(0, policy.backoffMs ?? DEFAULT_RETRY_POLICY.backoffMs),
    maxBackoffMs: Math.max(0, policy.maxBackoffMs ?? DEFAULT_RETRY_POLICY.maxBackoffMs),
  };
  for (let attempt = 1; ; attempt++) {
    if (policy.deadline !== undefined && Date.now() + (policy.attemptMs ?? 0) > policy.deadline) {
      logger.warn('openai call not attempted: no time left', { operation, attempt });
      throw new OpenAiUnavailableError(
        'timeout',
        `OpenAI ${operation}: no time left for attempt ${attempt}`,
        {
          attempts: attempt - 1,
        },
      );
    }
    try {
      return await call(attempt);
    } catch (error) {
      if (error instanceof OpenAiUnavailableError) throw error;
      const failure = classifyOpenAiError(error);
      if (!failure) throw error;
      const details = {
        operation,
        attempt,
        reason: failure.reason,
        status: failure.status,
        code: failure.code,
      };
      if (!failure.retryable || attempt > resolved.retries) {
        // A 404 is often an expected answer (already deleted, purged conversation): the caller decides.
        if (failure.reason === 'not_found') logger.info('openai call found nothing', details);
        else logger.warn('openai call failed', details);
        throw new OpenAiUnavailableError(
          failure.reason,
          `OpenAI ${operation} failed (${failure.reason}${failure.status ? ` ${failure.status}` : ''}) after ${attempt} attempt(s)`,
          { cause: error, attempts: attempt, ...(failure.status ? { upstreamStatus: failure.status } : {}) },
        );
      }
      const delayMs = backoffDelay(attempt, resolved, failure.retryAfterMs);
      logger.info('openai call will be retried', { ...details, delayMs });
      await sleep(delayMs);
    }
  }
}
