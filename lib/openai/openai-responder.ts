import { createHash } from 'node:crypto';
import type OpenAI from 'openai';
import type { ResponseCreateParamsNonStreaming } from 'openai/resources/responses/responses';
import type {
  Responder,
  ResponderAttachment,
  ResponderReply,
  ResponderRequest,
  TokenUsage,
} from '../conversation/ports.ts';
import { logger } from '../logger.ts';
import { turnMark } from './conversation-retention.ts';
import { createOpenAiClient } from './openai-client.ts';
import { OpenAiUnavailableError, type RetryPolicy, withOpenAiRetry } from './retry.ts';
import { clientForTenant } from './tenant-client.ts';

export { type OpenAiFailureReason, OpenAiUnavailableError } from './retry.ts';

/**
 * The OpenAI responder: one Responses API call per customer message, with the contact's memory in a
 * Conversation (Conversations API) and the tenant's FAQs reachable through `file_search` over its
 * vector store. (The Assistants API and its threads/runs are shut down: not used.)
 */
export interface OpenAiResponderOptions {
  /** Used when the tenant did not bring its own key. */
  /** The platform key, or a getter (read per reply, so a rotated secret is picked up). */
  platformApiKey?: string | (() => Promise<string | undefined>);
  /** Defaults to `OPENAI_BASE_URL`, then OpenAI's public API. */
  baseURL?: string;
  /** Timeout of one HTTP attempt. Default 20 s. */
  timeoutMs?: number;
  /** Retries after the first attempt, per call. Default 2. */
  retries?: number;
  /** Base backoff before the first retry (doubles, with jitter). Default 500 ms. */
  backoffMs?: number;
  /** Cap of one backoff delay. Default 8 s. */
  maxBackoffMs?: number;
  /** Upper bound of the reply's tokens (reasoning included). Default 600. */
  maxOutputTokens?: number;
  /** file_search chunks per query. Default 4. */
  maxNumResults?: number;
  /** The clock of the turn marks (conversation-retention.ts). Default: the system clock. */
  now?: () => Date;
  /**
   * How closely the model looks at a customer's images. Default 'low': a fixed, small token cost
   * per image, enough to read a photo of a product or a receipt's gist.
   */
  imageDetail?: 'low' | 'high' | 'auto';
}

const DEFAULT_TIMEOUT_MS = 20_000;
/** Reasoning models count their reasoning and tool calls against this: leave them room. */
const DEFAULT_MAX_OUTPUT_TOKENS = 2_000;

/** Models that take a `reasoning` parameter (others reject it). */
const isReasoningModel = (model: string) => /^(gpt-5|o\d)/.test(model);
const DEFAULT_MAX_NUM_RESULTS = 4;

export function createOpenAiResponder(options: OpenAiResponderOptions = {}): Responder {
  const basePolicy: RetryPolicy = {
    ...(options.retries !== undefined ? { retries: options.retries } : {}),
    ...(options.backoffMs !== undefined ? { backoffMs: options.backoffMs } : {}),
    ...(options.maxBackoffMs !== undefined ? { maxBackoffMs: options.maxBackoffMs } : {}),
  };
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;

  return {
    async reply(request: ResponderRequest): Promise<ResponderReply> {
      const { tenant, contact } = request;
      // Every call of this reply shares the caller's deadline: no attempt starts that cannot end in time.
      const policy: RetryPolicy = request.deadline
        ? { ...basePolicy, deadline: request.deadline, attemptMs: timeoutMs }
        : basePolicy;
      const client = await clientForTenant(tenant.openaiApiKey, options, timeoutMs);
      const contactRef = contactReference(tenant.id, contact.key);
      const turnAt = options.now?.() ?? new Date();

      const newConversation = () =>
        withOpenAiRetry(
          'conversations.create',
          () =>
            client.conversations.create({
              // Ids only, short: never message text or the customer's phone number.
              metadata: { tenant_id: tenant.id.slice(0, 64), contact_ref: contactRef },
            }),
          policy,
        ).then((conversation) => conversation.id);

      const respond = (conversationId: string) => {
        const vectorStoreId = tenant.assistant.vector_store_id;
        const body: ResponseCreateParamsNonStreaming = {
          model: tenant.assistant.model,
          instructions: tenant.assistant.instructions,
          conversation: conversationId,
          // The turn mark dates the turn's items, so the purge can delete them once past retention.
          input: [
            turnMark(turnAt),
            {
              type: 'message',
              role: 'user',
              content: request.attachments?.length
                ? userContent(request.text, request.attachments, options.imageDetail ?? 'low')
                : request.text,
            },
          ],
          max_output_tokens: options.maxOutputTokens ?? DEFAULT_MAX_OUTPUT_TOKENS,
          // Short FAQ answers need little thought; low effort keeps latency and tokens down.
          ...(isReasoningModel(tenant.assistant.model) ? { reasoning: { effort: 'low' as const } } : {}),
          store: true,
          // A stable pseudonymous id of the customer, as OpenAI recommends for abuse detection.
          safety_identifier: contactRef,
          ...(vectorStoreId
            ? {
                tools: [
                  {
                    type: 'file_search',
                    vector_store_ids: [vectorStoreId],
                    max_num_results: options.maxNumResults ?? DEFAULT_MAX_NUM_RESULTS,
                  },
                ],
              }
            : {}),
        };
        return withOpenAiRetry('responses.create', () => client.responses.create(body), policy);
      };

      let conversationId = contact.conversationId;
      let created = false;
      if (!conversationId) {
        conversationId = await newConversation();
        created = true;
      }
      try {
        return await answerIn(conversationId);
      } catch (error) {
        // Hand the conversation to the caller even on failure: it holds the customer's turn, and the
        // purge can only delete conversations whose id was stored.
        if (error instanceof OpenAiUnavailableError && error.conversationId === undefined) {
          error.conversationId = conversationId;
        }
        throw error;
      }

      async function answerIn(startingConversationId: string): Promise<ResponderReply> {
        let conversationId = startingConversationId;

        let response: OpenAI.Responses.Response;
        try {
          response = await respond(conversationId);
        } catch (error) {
          // A stored conversation may be gone (deleted by the purge, expired, or made with another key):
          // start a new one, once. A 404 for another reason (e.g. an unknown model) is not hidden.
          if (
            created ||
            !(error instanceof OpenAiUnavailableError) ||
            error.reason !== 'not_found' ||
            !(await conversationIsGone(client, conversationId, policy))
          ) {
            throw error;
          }
          logger.info('openai conversation not found; starting a new one', { tenantId: tenant.id });
          conversationId = await newConversation();
          created = true;
          try {
            response = await respond(conversationId);
          } catch (retryError) {
            if (retryError instanceof OpenAiUnavailableError) retryError.conversationId = conversationId;
            throw retryError;
          }
        }

        const text = response.output_text?.trim() ?? '';
        const usage = usageOf(response);
        logger.info('openai reply', {
          tenantId: tenant.id,
          responseId: response.id,
          status: response.status,
          conversationCreated: created,
          inputTokens: usage?.inputTokens,
          outputTokens: usage?.outputTokens,
          replyLength: text.length,
        });
        // A cut-off answer (token limit) must not reach the customer as if it were complete.
        if (!text || response.status === 'incomplete') {
          throw new OpenAiUnavailableError(
            'empty_reply',
            `OpenAI returned no complete text (status ${response.status ?? 'unknown'}${
              response.incomplete_details?.reason ? `, ${response.incomplete_details.reason}` : ''
            })`,
            // Billed all the same: the fallback's reply carries these tokens to the metrics.
            { attempts: 1, ...(usage ? { usage } : {}) },
          );
        }
        return { text, source: 'openai', conversationId, ...(usage ? { usage } : {}) };
      }
    },
  };
}

/**
 * A customer's message with media, as the parts of one user message: the text (a caption, a
 * transcript...) when there is any, then each image as `input_image` and each file (PDF) as
 * `input_file`, inline as data URLs (nothing is uploaded to OpenAI's file storage).
 */
function userContent(
  text: string,
  attachments: readonly ResponderAttachment[],
  detail: 'low' | 'high' | 'auto',
): OpenAI.Responses.ResponseInputMessageContentList {
  const parts: OpenAI.Responses.ResponseInputMessageContentList = text.trim()
    ? [{ type: 'input_text', text }]
    : [];
  for (const attachment of attachments) {
    const dataUrl = `data:${attachment.mimeType};base64,${attachment.base64}`;
    parts.push(
      attachment.kind === 'image'
        ? { type: 'input_image', image_url: dataUrl, detail }
        : { type: 'input_file', filename: attachment.filename, file_data: dataUrl },
    );
  }
  return parts;
}

/** The tokens a response was billed for, when OpenAI reported them. */
function usageOf(response: OpenAI.Responses.Response): TokenUsage | undefined {
  const usage = response.usage;
  if (!usage) return undefined;
  return { inputTokens: usage.input_tokens ?? 0, outputTokens: usage.output_tokens ?? 0 };
}

/** Whether OpenAI confirms the conversation no longer exists (404 on retrieve). */
async function conversationIsGone(
  client: OpenAI,
  conversationId: string,
  policy: RetryPolicy,
): Promise<boolean> {
  try {
    await withOpenAiRetry(
      'conversations.retrieve',
      () => client.conversations.retrieve(conversationId),
      policy,
    );
    return false;
  } catch (error) {
    if (error instanceof OpenAiUnavailableError && error.reason === 'not_found') return true;
    return false;
  }
}

/** A short pseudonymous reference of a contact (sha256 of tenant and contact key, 32 hex characters). */
export function contactReference(tenantId: string, contactKey: string): string {
  return createHash('sha256').update(`${tenantId}\u0000${contactKey}`).digest('hex').slice(0, 32);
}

export interface DeleteConversationOptions extends RetryPolicy {
  apiKey: string;
  conversationId: string;
  baseURL?: string;
  timeoutMs?: number;
  keyOwner?: 'platform' | 'tenant';
}

/**
 * Deletes a contact's OpenAI conversation (purge, tenant deletion). Resolves true when deleted and
 * false when OpenAI says it is already gone (404); other failures throw OpenAiUnavailableError.
 */
export async function deleteConversation(options: DeleteConversationOptions): Promise<boolean> {
  const client = createOpenAiClient({
    apiKey: options.apiKey,
    ...(options.baseURL ? { baseURL: options.baseURL } : {}),
    timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    maxRetries: 0,
    ...(options.keyOwner ? { keyOwner: options.keyOwner } : {}),
  });
  try {
    await withOpenAiRetry(
      'conversations.delete',
      () => client.conversations.delete(options.conversationId),
      options,
    );
    return true;
  } catch (error) {
    if (error instanceof OpenAiUnavailableError && error.reason === 'not_found') return false;
    throw error;
  }
}
