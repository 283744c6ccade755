import type OpenAI from 'openai';
import type { ResponseInputItem } from 'openai/resources/responses/responses';
import { createOpenAiClient } from './openai-client.ts';
import { OpenAiUnavailableError, type RetryPolicy, withOpenAiRetry } from './retry.ts';

/**
 * The tenant's retention at OpenAI for contacts who keep writing. A contact's Conversation (the
 * assistant's memory) would otherwise keep every item until the contact goes idle and the whole
 * conversation is deleted; the purge deletes the items older than the retention instead.
 *
 * Conversation items carry no time of their own (`conversations.items.list` gives ids, types and
 * content; only the conversation has a `created_at`), so each turn the responder adds opens with a
 * short developer message stating when it was added: a **turn mark**. The purge walks the items
 * oldest first and deletes everything before the first turn mark inside the retention. The marks
 * travel with the items they date, so nothing can drift apart (no record of ours to keep in step),
 * and whatever is unsure errs towards deleting early, never late: items before any mark (a
 * conversation older than the marks) count as old as the conversation, and an item whose mark is
 * gone counts as old as the mark before it.
 */

/** How a turn mark's text begins; the rest is the turn's ISO 8601 time. */
export const TURN_MARK_PREFIX = 'Time of this message (UTC): ';

/** The developer message that opens a turn added at `at` (also tells the model the date). */
export function turnMark(at: Date): ResponseInputItem {
  return { type: 'message', role: 'developer', content: `${TURN_MARK_PREFIX}${at.toISOString()}` };
}

const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;

/**
 * The time a conversation item marks, when it is one of our turn marks. Only developer messages can
 * be marks: a customer's message (role `user`) that happens to start the same way is not one.
 */
export function turnMarkTime(item: OpenAI.Conversations.ConversationItem): Date | undefined {
  if (item.type !== 'message' || item.role !== 'developer') return undefined;
  const [part, ...more] = item.content;
  if (!part || more.length > 0 || !('text' in part) || typeof part.text !== 'string') return undefined;
  if (!part.text.startsWith(TURN_MARK_PREFIX)) return undefined;
  const iso = part.text.slice(TURN_MARK_PREFIX.length);
  if (!ISO_TIME.test(iso)) return undefined;
  const at = new Date(iso);
  return Number.isNaN(at.getTime()) ? undefined : at;
}

export interface PruneConversationOptions extends RetryPolicy {
  apiKey: string;
  keyOwner?: 'platform' | 'tenant';
  conversationId: string;
  /** Items added before this time are deleted. */
  before: Date;
  /** At most this many deletions in this call. */
  limit: number;
  baseURL?: string;
  timeoutMs?: number;
}

export interface PruneResult {
  /** Items this call deleted (an item already gone does not count). */
  deleted: number;
  /** Old items remain (the limit stopped this call): call again. */
  more: boolean;
  /** OpenAI says the conversation does not exist (nothing to prune). */
  gone: boolean;
}

const PAGE_SIZE = 100;

/**
 * Deletes a conversation's items added before `options.before`, oldest first, at most `limit`.
 * Failures other than "not found" reject with OpenAiUnavailableError; what was deleted stays deleted
 * and the next call simply goes on from the oldest item left.
 */
export async function pruneConversationItems(options: PruneConversationOptions): Promise<PruneResult> {
  const client = createOpenAiClient({
    apiKey: options.apiKey,
    ...(options.baseURL ? { baseURL: options.baseURL } : {}),
    ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}),
    maxRetries: 0,
    ...(options.keyOwner ? { keyOwner: options.keyOwner } : {}),
  });
  const { conversationId } = options;
  const cutoff = options.before.getTime();
  let doomed: string[];
  let more: boolean;
  try {
    ({ doomed, more } = await itemsAddedBefore(client, conversationId, cutoff, options.limit, options));
  } catch (error) {
    if (error instanceof OpenAiUnavailableError && error.reason === 'not_found')
      return { deleted: 0, more: false, gone: true };
    throw error;
  }
  let deleted = 0;
  // One by one, oldest first: a run that stops half-way leaves a conversation that still reads in order.
  for (const itemId of doomed) {
    try {
      await withOpenAiRetry(
        'conversations.items.delete',
        () => client.conversations.items.delete(itemId, { conversation_id: conversationId }),
        options,
      );
      deleted++;
    } catch (error) {
      if (!(error instanceof OpenAiUnavailableError) || error.reason !== 'not_found') throw error;
    }
  }
  return { deleted, more, gone: false };
}

/**
 * The ids of the items added before `cutoff` (epoch ms), oldest first, at most `limit`; `more` when
 * the limit left some. Stops reading at the first turn mark inside the retention: all after it is newer.
 */
async function itemsAddedBefore(
  client: OpenAI,
  conversationId: string,
  cutoff: number,
  limit: number,
  policy: RetryPolicy,
): Promise<{ doomed: string[]; more: boolean }> {
  const doomed: string[] = [];
  /** Where in `doomed` the last turn mark is (-1: none). */
  let lastMark = -1;
  /** The time of the items being read: their turn mark's, else the conversation's creation. */
  let addedAt: number | undefined;
  let after: string | undefined;
  for (;;) {
    const page = await withOpenAiRetry(
      'conversations.items.list',
      () =>
        client.conversations.items.list(conversationId, {
          order: 'asc',
          limit: PAGE_SIZE,
          ...(after ? { after } : {}),
        }),
      policy,
    );
    for (const item of page.data) {
      const markedAt = turnMarkTime(item);
      if (markedAt) addedAt = markedAt.getTime();
      else if (addedAt === undefined) addedAt = await createdAt(client, conversationId, policy);
      if (addedAt >= cutoff) return { doomed, more: false };
      if (doomed.length >= limit) {
        // Cut inside a turn: its mark stays to date the rest of it (else they would count as old
        // as the conversation: early, but more than the retention asks).
        if (lastMark > 0) doomed.splice(lastMark, 1);
        return { doomed, more: true };
      }
      // Every stored item has an id; one without could not be deleted anyway.
      if (!item.id) continue;
      if (markedAt) lastMark = doomed.length;
      doomed.push(item.id);
    }
    after = page.last_id || page.data.at(-1)?.id;
    if (!page.has_more || !after) return { doomed, more: false };
  }
}

/** When the conversation was created (epoch ms): no item of it can be older. */
async function createdAt(client: OpenAI, conversationId: string, policy: RetryPolicy): Promise<number> {
  const conversation = await withOpenAiRetry(
    'conversations.retrieve',
    () => client.conversations.retrieve(conversationId),
    policy,
  );
  return conversation.created_at * 1000;
}
