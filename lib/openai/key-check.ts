/**
 * Whether OpenAI accepts an API key, by its cheapest authenticated call (`GET /models`), for a
 * tenant's "test connection". Plain fetch rather than the SDK: no retries, one short timeout, and
 * nothing of OpenAI's error message is passed on (its 401 message quotes part of the key).
 */

export const OPENAI_PUBLIC_BASE_URL = 'https://api.openai.com/v1';

export interface OpenAiKeyCheckOptions {
  /** Like `OPENAI_BASE_URL`: including `/v1`. Default OpenAI's public API. */
  baseUrl?: string;
  timeoutMs: number;
  fetch?: typeof fetch;
}

export interface OpenAiKeyVerdict {
  ok: boolean;
  /** A plain sentence; never the key, nor anything OpenAI said about it. */
  detail: string;
  /** The HTTP status, 0 when no answer came. */
  httpStatus: number;
}

export async function checkOpenAiKey(
  apiKey: string,
  options: OpenAiKeyCheckOptions,
): Promise<OpenAiKeyVerdict> {
  if (!apiKey) return { ok: false, detail: 'no OpenAI API key given', httpStatus: 0 };
  const base = (options.baseUrl || OPENAI_PUBLIC_BASE_URL).replace(/\/+$/, '');
  const doFetch = options.fetch ?? fetch;
  let response: Response;
  try {
    response = await doFetch(`${base}/models`, {
      headers: { authorization: `Bearer ${apiKey}`, accept: 'application/json' },
      signal: AbortSignal.timeout(options.timeoutMs),
    });
    // Drain the body (a model list) so the connection is released; its content is not needed.
    await response.arrayBuffer();
  } catch (cause) {
    return { ok: false, detail: unreachable('OpenAI', cause, options.timeoutMs), httpStatus: 0 };
  }
  const status = response.status;
  if (response.ok) return { ok: true, detail: 'accepted', httpStatus: status };
  if (status === 401)
    return { ok: false, detail: 'refused (401): the key is wrong or revoked', httpStatus: status };
  if (status === 403) {
    return {
      ok: false,
      detail: 'refused (403): the key may not be used here (a restricted key, or an unsupported region)',
      httpStatus: status,
    };
  }
  if (status === 429) {
    return { ok: false, detail: 'accepted but rate limited or out of quota (429)', httpStatus: status };
  }
  if (status >= 500)
    return { ok: false, detail: `OpenAI is unavailable (HTTP ${status})`, httpStatus: status };
  return { ok: false, detail: `OpenAI answered HTTP ${status}`, httpStatus: status };
}

/** Why no answer came, in a sentence: a timeout or a network error code (never a URL). */
export function unreachable(service: string, cause: unknown, timeoutMs: number): string {
  if (cause instanceof Error && (cause.name === 'TimeoutError' || cause.name === 'AbortError')) {
    return `no answer from ${service} within ${timeoutMs} ms`;
  }
  return `could not reach ${service} (${networkCode(cause)})`;
}

function networkCode(cause: unknown): string {
  const inner = cause instanceof Error && cause.cause instanceof Error ? cause.cause : cause;
  const code = (inner as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && /^[A-Z0-9_]{2,40}$/.test(code)) return code;
  return 'network error';
}
