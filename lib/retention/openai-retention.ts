import { logger } from '../logger.ts';
import { OpenAiUnavailableError } from '../openai/retry.ts';
import type { Client } from '../tenants/client.ts';
import type { PurgeDeps } from './purge.ts';
import { addTo, type Budget } from './purge-budget.ts';
import type { PurgeReport } from './purge-report.ts';
import type { ContactRecord } from './retention-store.ts';

/**
 * The purge's side of the retention at OpenAI for contacts who are still active: their conversation
 * stays (the assistant's memory of the exchange), but its items older than the tenant's retention are
 * deleted (lib/openai/conversation-retention.ts dates them). Idle contacts lose the whole conversation
 * with the rest of their data (purge.ts).
 *
 * OpenAI failing must not hold up the rest of the purge: a failure is counted and logged (ids and
 * reasons only), the contact's old items stay for the next run, and what the failure says about
 * OpenAI is remembered for the rest of the run (OpenAiRunState): a bad key or an outage would fail
 * every further call, and their retries would spend the run's time budget, which the deletions in
 * DynamoDB and S3 need.
 */

export interface OpenAiKey {
  apiKey: string;
  /** A tenant's own key is sent without the platform's organisation and project headers. */
  owner: 'tenant' | 'platform';
}

/** The key a client's OpenAI objects were made with: its own when it brought one, else the platform's. */
export async function openAiKeyFor(client: Client, deps: PurgeDeps): Promise<OpenAiKey | undefined> {
  if (client.openai_api_key_enc) {
    const apiKey = await deps.secrets.decrypt(client.openai_api_key_enc, { tenantId: client.id });
    return { apiKey, owner: 'tenant' };
  }
  const platformKey = await deps.platformOpenAiKey();
  return platformKey ? { apiKey: platformKey, owner: 'platform' } : undefined;
}

/**
 * What one run learnt about OpenAI. A failure worth retrying (an outage, a timeout, a rate limit)
 * is OpenAI's, not one key's: the run leaves OpenAI alone from then on. A final one (a revoked key,
 * an exhausted quota) is the key's: the run skips what that key reaches (the tenant's own key: that
 * tenant; the platform key: every tenant on it).
 */
export class OpenAiRunState {
  outage = false;
  private readonly failedKeys = new Set<string>();
  private readonly keys = new Map<string, OpenAiKey | null>();

  /** The client's key, decrypted once per run; null when it has none (and there is no platform key). */
  async keyFor(client: Client, deps: PurgeDeps): Promise<OpenAiKey | null> {
    let key = this.keys.get(client.id);
    if (key === undefined) {
      key = (await openAiKeyFor(client, deps)) ?? null;
      this.keys.set(client.id, key);
    }
    return key;
  }

  /** Whether this run may still call OpenAI for this client (with its key). */
  async reaches(client: Client, deps: PurgeDeps): Promise<boolean> {
    if (this.outage) return false;
    const key = await this.keyFor(client, deps);
    return !key || !this.skips(client, key);
  }

  /** Remembers a failure of a call made for this client with its key. */
  async noteFailure(client: Client, deps: PurgeDeps, error: OpenAiUnavailableError) {
    const key = await this.keyFor(client, deps).catch(() => null);
    if (key) this.failed(client, key, error);
    else if (error.retryable) this.outage = true;
  }

  skips(client: Client, key: OpenAiKey): boolean {
    return this.outage || this.failedKeys.has(keyScope(client, key));
  }

  failed(client: Client, key: OpenAiKey, error: OpenAiUnavailableError) {
    if (error.retryable) this.outage = true;
    else this.failedKeys.add(keyScope(client, key));
  }
}

const keyScope = (client: Client, key: OpenAiKey) => (key.owner === 'tenant' ? client.id : 'platform');

/** Deletions per call: one list page of a conversation's oldest items. */
const PRUNE_CHUNK = 100;

/**
 * Deletes the items of an active contact's conversation added before `cutoff`. Resolves false when
 * the budget ran out (the next run goes on); never rejects for OpenAI's failures (see above).
 */
export async function pruneContactConversation(
  client: Client,
  contact: ContactRecord,
  cutoff: Date,
  deps: PurgeDeps,
  report: PurgeReport,
  budget: Budget,
  state: OpenAiRunState,
): Promise<boolean> {
  const prune = deps.openai.pruneConversation;
  const conversationId = contact.openai_conversation_id;
  if (!prune || !conversationId || state.outage) return true;
  const key = await state.keyFor(client, deps);
  if (!key || state.skips(client, key)) return true;
  try {
    return await budget.drain(
      PRUNE_CHUNK,
      async (limit) => {
        const { deleted, more } = await prune({ ...key, conversationId, before: cutoff, limit });
        return { deleted, more };
      },
      addTo(report, 'openai_items_deleted'),
    );
  } catch (error) {
    if (!(error instanceof OpenAiUnavailableError)) throw error;
    state.failed(client, key, error);
    report.errors++;
    logger.warn('openai conversation items past retention not deleted; the next run retries them', {
      tenantId: client.id,
      keyOwner: key.owner,
      reason: error.reason,
      status: error.upstreamStatus,
      // What this run now leaves alone at OpenAI.
      skipping: error.retryable ? 'all' : key.owner === 'tenant' ? 'tenant' : 'platform_key',
    });
    return true;
  }
}
