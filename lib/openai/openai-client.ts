import { createHash } from 'node:crypto';
import OpenAI from 'openai';

/**
 * The real `openai` client, one per API key (tenants may bring their own key). Clients are cached
 * for the life of the process (a Lambda container) under a hash of the key, never the key itself.
 *
 * The SDK's own retries default to 0 here: wrap calls in `withOpenAiRetry` (retry.ts), which is the
 * one retry policy of the product.
 */
export interface OpenAiClientOptions {
  apiKey: string;
  /** Defaults to `OPENAI_BASE_URL`, then to OpenAI's public API. */
  baseURL?: string;
  /** Per-request timeout. Default 30 s. */
  timeoutMs?: number;
  /** The SDK's own retries. Default 0. */
  maxRetries?: number;
  /**
   * Whose key this is. A tenant's own key must not be sent with the platform's `OPENAI_ORG_ID` /
   * `OPENAI_PROJECT_ID` headers (the SDK reads them from the environment), or OpenAI rejects it.
   */
  keyOwner?: 'platform' | 'tenant';
}

export const DEFAULT_OPENAI_TIMEOUT_MS = 30_000;
const MAX_CACHED_CLIENTS = 200;
const clients = new Map<string, OpenAI>();

export function createOpenAiClient(options: OpenAiClientOptions): OpenAI {
  if (!options.apiKey) throw new Error('an OpenAI API key is required');
  // Unset: the SDK itself honours OPENAI_BASE_URL (how the tests reach the fake server).
  const baseURL = options.baseURL || undefined;
  const timeout = options.timeoutMs ?? DEFAULT_OPENAI_TIMEOUT_MS;
  const maxRetries = options.maxRetries ?? 0;
  const keyOwner = options.keyOwner ?? 'platform';
  const cacheKey = [keyFingerprint(options.apiKey), baseURL ?? '', timeout, maxRetries, keyOwner].join('|');

  const cached = clients.get(cacheKey);
  if (cached) {
    // Refresh its place: the Map's order is the eviction order.
    clients.delete(cacheKey);
    clients.set(cacheKey, cached);
    return cached;
  }
  const client = new OpenAI({
    apiKey: options.apiKey,
    ...(baseURL ? { baseURL } : {}),
    timeout,
    maxRetries,
    // Never pick up an admin key from the environment: these clients only call project endpoints.
    adminAPIKey: null,
    ...(keyOwner === 'tenant' ? { organization: null, project: null } : {}),
  });
  clients.set(cacheKey, client);
  if (clients.size > MAX_CACHED_CLIENTS) {
    const oldest = clients.keys().next().value;
    if (oldest !== undefined) clients.delete(oldest);
  }
  return client;
}

/** A short, non-reversible fingerprint of an API key (for cache keys; safe to log). */
export function keyFingerprint(apiKey: string): string {
  return createHash('sha256').update(apiKey).digest('hex').slice(0, 16);
}

/** Forgets every cached client (tests). */
export function clearOpenAiClientCache(): void {
  clients.clear();
}
