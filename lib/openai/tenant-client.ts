import type OpenAI from 'openai';
import { createOpenAiClient } from './openai-client.ts';
import { OpenAiUnavailableError } from './retry.ts';

/**
 * The OpenAI client a tenant's call goes with: its own key when it brought one (sent without the
 * platform's organisation and project), else the platform's. No key anywhere rejects with
 * `no_api_key`, which the callers' fallbacks read as "not configured", not as a failure.
 */
export async function clientForTenant(
  tenantApiKey: string | undefined,
  options: { platformApiKey?: string | (() => Promise<string | undefined>); baseURL?: string },
  timeoutMs: number,
): Promise<OpenAI> {
  const tenantKey = tenantApiKey || undefined;
  const platformKey =
    typeof options.platformApiKey === 'function' ? await options.platformApiKey() : options.platformApiKey;
  const apiKey = tenantKey ?? (platformKey || undefined);
  if (!apiKey) {
    throw new OpenAiUnavailableError(
      'no_api_key',
      'no OpenAI API key: the tenant has none and no platform key is set',
    );
  }
  return createOpenAiClient({
    apiKey,
    ...(options.baseURL ? { baseURL: options.baseURL } : {}),
    timeoutMs,
    maxRetries: 0,
    keyOwner: tenantKey ? 'tenant' : 'platform',
  });
}
