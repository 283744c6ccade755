import { setTimeout as sleep } from 'node:timers/promises';
import { toFile } from 'openai';
import * as z from 'zod';
import { logger } from '../logger.ts';
import type { Faq } from '../tenants/client-schemas.ts';
import { createOpenAiClient } from './openai-client.ts';
import {
  type OpenAiFailureReason,
  OpenAiUnavailableError,
  type RetryPolicy,
  withOpenAiRetry,
} from './retry.ts';

/**
 * A tenant's FAQs as an OpenAI vector store, for the responder's `file_search` tool: the FAQs are
 * uploaded as one Markdown file (purpose `assistants`), a vector store is created with it, and we
 * wait until the file is indexed so the first customer question already finds it.
 */

export interface OpenAiCallOptions extends RetryPolicy {
  apiKey: string;
  baseURL?: string;
  /** Timeout of one HTTP attempt. Default 30 s. */
  timeoutMs?: number;
  keyOwner?: 'platform' | 'tenant';
}

export interface CreateFaqVectorStoreOptions extends OpenAiCallOptions {
  /** The vector store's name (the tenant's name is fine; OpenAI shows it in its dashboard). */
  name: string;
  faqs: Faq[];
  /** Short ids only (e.g. tenant_id, assistant_version); at most 16 pairs. */
  metadata?: Record<string, string>;
  /** Pause between indexing polls. Default 1 s. */
  pollIntervalMs?: number;
  /** Give up waiting for indexing after this long (the store is then deleted). Default 120 s. */
  indexTimeoutMs?: number;
}

export interface FaqVectorStore {
  vectorStoreId: string;
  fileId: string;
}

/** The FAQ file: a title and one `Q:`/`A:` block per FAQ, blocks separated by blank lines. */
export function renderFaqMarkdown(name: string, faqs: Faq[]): string {
  const blocks = faqs.map((faq) => `Q: ${faq.q.replace(/\s+/g, ' ').trim()}\nA: ${faq.a.trim()}`);
  return `# ${name.replace(/\s+/g, ' ').trim()}: frequently asked questions\n\n${blocks.join('\n\n')}\n`;
}

/** The steps of a build, as the operator reads them in `assistant_status_reason`. */
const STEPS = {
  upload: 'the FAQ file upload',
  store: 'the vector store creation',
  indexing: 'the indexing of the FAQ file',
} as const;

export type FaqVectorStoreStep = keyof typeof STEPS;

/**
 * A build failed at `step`. The message is ours (what failed and OpenAI's HTTP status, never
 * OpenAI's own text, which is long, changes and may echo input): safe to store and show. OpenAI's
 * text stays on `cause` for the log.
 */
export class FaqVectorStoreError extends OpenAiUnavailableError {
  readonly step: FaqVectorStoreStep;

  constructor(
    step: FaqVectorStoreStep,
    reason: OpenAiFailureReason,
    message: string,
    options: { cause?: unknown; upstreamStatus?: number; attempts?: number } = {},
  ) {
    super(reason, message, options);
    this.step = step;
  }
}

/** What OpenAI's failure means for a step, in our words. */
function describeFailure(step: FaqVectorStoreStep, error: OpenAiUnavailableError): string {
  const what = STEPS[step];
  const status = error.upstreamStatus ? ` (HTTP ${error.upstreamStatus})` : '';
  switch (error.reason) {
    case 'timeout':
      return `OpenAI did not answer ${what} in time`;
    case 'connection':
      return `OpenAI could not be reached for ${what}`;
    case 'rate_limited':
      return `OpenAI rate-limited ${what}${status}`;
    case 'quota_exceeded':
      return `OpenAI refused ${what}: the key's quota is used up${status}`;
    case 'server_error':
      return `OpenAI failed ${what}${status}`;
    default:
      return `OpenAI refused ${what}${status}`;
  }
}

/**
 * OpenAI's answers are checked for what we use before we use it: an id goes into the next URL and
 * into the client record, so a missing one is an error, not a call to `…/vector_stores/undefined`.
 */
const openAiId = z.string().regex(/^[\w-]{1,200}$/);
const expected = {
  created: { schema: z.object({ id: openAiId }), lacking: 'an id' },
  attached: {
    schema: z.object({ status: z.string(), last_error: z.object({ code: z.string().optional() }).nullish() }),
    lacking: 'a status',
  },
} as const;

/**
 * One step: its OpenAI call under the retry policy, a failure named after the step (in our words,
 * OpenAI's error on `cause`), and the answer checked against what the step needs from it.
 */
async function runStep<S extends z.ZodType>(
  step: FaqVectorStoreStep,
  operation: string,
  call: () => Promise<unknown>,
  answer: { schema: S; lacking: string },
  policy: RetryPolicy,
): Promise<z.infer<S>> {
  let result: unknown;
  try {
    result = await withOpenAiRetry(operation, call, policy);
  } catch (error) {
    if (!(error instanceof OpenAiUnavailableError)) throw error;
    throw new FaqVectorStoreError(step, error.reason, describeFailure(step, error), {
      cause: error,
      attempts: error.attempts,
      ...(error.upstreamStatus ? { upstreamStatus: error.upstreamStatus } : {}),
    });
  }
  const parsed = answer.schema.safeParse(result);
  if (parsed.success) return parsed.data as z.infer<S>;
  logger.warn('openai answer not understood', {
    operation,
    issues: parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.code}`),
  });
  // Retryable like a 5xx: a later attempt (an SQS redelivery) may get a proper answer.
  throw new FaqVectorStoreError(
    step,
    'server_error',
    `OpenAI answered ${STEPS[step]} without ${answer.lacking}`,
    {
      attempts: 1,
    },
  );
}

export async function createFaqVectorStore(options: CreateFaqVectorStoreOptions): Promise<FaqVectorStore> {
  const client = clientFor(options);
  const markdown = renderFaqMarkdown(options.name, options.faqs);
  const upload = await toFile(Buffer.from(markdown, 'utf8'), 'faqs.md', { type: 'text/markdown' });

  const file = await runStep(
    'upload',
    'files.create',
    () => client.files.create({ file: upload, purpose: 'assistants' }),
    expected.created,
    options,
  );
  let vectorStoreId: string | undefined;
  try {
    const store = await runStep(
      'store',
      'vectorStores.create',
      () =>
        client.vectorStores.create({
          name: options.name.slice(0, 256),
          file_ids: [file.id],
          ...(options.metadata ? { metadata: options.metadata } : {}),
        }),
      expected.created,
      options,
    );
    vectorStoreId = store.id;
    await waitUntilIndexed(client, store.id, file.id, options);
    logger.info('faq vector store ready', {
      vectorStoreId: store.id,
      fileId: file.id,
      faqCount: options.faqs.length,
    });
    return { vectorStoreId: store.id, fileId: file.id };
  } catch (error) {
    // Leave nothing behind that no record points to.
    await deleteFaqVectorStore({
      ...options,
      ...(vectorStoreId ? { vectorStoreId } : {}),
      fileId: file.id,
    }).catch((cleanupError: unknown) =>
      logger.warn('faq vector store cleanup failed', {
        fileId: file.id,
        vectorStoreId,
        error: cleanupError instanceof Error ? cleanupError.name : 'unknown',
      }),
    );
    throw error;
  }
}

async function waitUntilIndexed(
  client: ReturnType<typeof createOpenAiClient>,
  vectorStoreId: string,
  fileId: string,
  options: CreateFaqVectorStoreOptions,
): Promise<void> {
  const deadline = Date.now() + (options.indexTimeoutMs ?? 120_000);
  const interval = options.pollIntervalMs ?? 1_000;
  for (;;) {
    const attached = await runStep(
      'indexing',
      'vectorStores.files.retrieve',
      () => client.vectorStores.files.retrieve(fileId, { vector_store_id: vectorStoreId }),
      expected.attached,
      options,
    );
    if (attached.status === 'completed') return;
    if (attached.status === 'failed' || attached.status === 'cancelled') {
      // OpenAI's error code stays in the log; the reason says what happened in our words.
      logger.warn('faq file not indexed', {
        vectorStoreId,
        fileId,
        status: attached.status,
        code: attached.last_error?.code,
      });
      throw new FaqVectorStoreError(
        'indexing',
        'bad_request',
        `OpenAI could not index the FAQ file (${attached.status})`,
        {
          attempts: 1,
        },
      );
    }
    if (Date.now() + interval > deadline) {
      throw new FaqVectorStoreError('indexing', 'timeout', 'the FAQ file was not indexed in time', {
        attempts: 1,
      });
    }
    await sleep(interval);
  }
}

export interface DeleteFaqVectorStoreOptions extends OpenAiCallOptions {
  vectorStoreId?: string;
  fileId?: string;
}

/**
 * Deletes a tenant's vector store and its FAQ file (deleting a store does not delete its files).
 * What is already gone (404) counts as done: the result says what this call actually deleted.
 */
export async function deleteFaqVectorStore(
  options: DeleteFaqVectorStoreOptions,
): Promise<{ vectorStoreDeleted: boolean; fileDeleted: boolean }> {
  const client = clientFor(options);
  const { vectorStoreId, fileId } = options;
  const vectorStoreDeleted = vectorStoreId
    ? await ignoreNotFound(
        withOpenAiRetry('vectorStores.delete', () => client.vectorStores.delete(vectorStoreId), options),
      )
    : false;
  const fileDeleted = fileId
    ? await ignoreNotFound(withOpenAiRetry('files.delete', () => client.files.delete(fileId), options))
    : false;
  return { vectorStoreDeleted, fileDeleted };
}

async function ignoreNotFound(call: Promise<unknown>): Promise<boolean> {
  try {
    await call;
    return true;
  } catch (error) {
    if (error instanceof OpenAiUnavailableError && error.reason === 'not_found') return false;
    throw error;
  }
}

function clientFor(options: OpenAiCallOptions) {
  return createOpenAiClient({
    apiKey: options.apiKey,
    ...(options.baseURL ? { baseURL: options.baseURL } : {}),
    ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
    maxRetries: 0,
    ...(options.keyOwner ? { keyOwner: options.keyOwner } : {}),
  });
}
