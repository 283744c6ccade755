import { logger } from '../logger.ts';
import { OpenAiUnavailableError } from '../openai/retry.ts';
import type { Client } from '../tenants/client.ts';
import type { PurgeDeps, PurgeReport } from './purge.ts';
import { addTo, type Budget } from './purge-budget.ts';
import type { ContactRecord } from './retention-store.ts';

/**
 * The purge's side of the retention at OpenAI for contacts who are still active: their conversation
 * stays (the assistant's memory of the exchange), but its items older than the tenant's retention are
 * deleted (lib/openai/conversation-retention.ts dates them). Idle contacts lose the whole conversation
 * with the rest of their data (purge.ts).
 *
 * OpenAI failing must not hold up the rest of the purge: a failure is counted and logged (ids and
 * reasons only), the contact's old items stay for the next run, and the tenant's other contacts are
 * not tried again in this run (a bad key or an outage would fail each of them, and their retries would
 * spend the run's time budget, which the other tenants' deletions need).
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

/** Per tenant and run: whether OpenAI already failed (then the tenant's other contacts wait). */
export interface OpenAiRunState {
  failed: boolean;
  key?: OpenAiKey | null;
}

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
  if (!prune || !conversationId || state.failed) return true;
  if (state.key === undefined) state.key = (await openAiKeyFor(client, deps)) ?? null;
  const key = state.key;
  if (!key) return true;
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
    state.failed = true;
    report.errors++;
    logger.warn("openai conversation items past retention not deleted; the next run retries the tenant's", {
      tenantId: client.id,
      reason: error.reason,
      status: error.upstreamStatus,
    });
    return true;
  }
}
