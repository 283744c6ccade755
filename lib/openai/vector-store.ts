import { setTimeout as sleep } from 'node:timers/promises';
import { toFile } from 'openai';
import { logger } from '../logger.ts';
import type { Faq } from '../tenants/client-schemas.ts';
import { createOpenAiClient } from './openai-client.ts';
import { OpenAiUnavailableError, type RetryPolicy, withOpenAiRetry } from './retry.ts';

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

export async function createFaqVectorStore(options: CreateFaqVectorStoreOptions): Promise<FaqVectorStore> {
  const client = clientFor(options);
  const markdown = renderFaqMarkdown(options.name, options.faqs);
  const upload = await toFile(Buffer.from(markdown, 'utf8'), 'faqs.md', { type: 'text/markdown' });

  const file = await withOpenAiRetry(
    'files.create',
    () => client.files.create({ file: upload, purpose: 'assistants' }),
    options,
  );
  let vectorStoreId: string | undefined;
  try {
    const store = await withOpenAiRetry(
      'vectorStores.create',
      () =>
        client.vectorStores.create({
          name: options.name.slice(0, 256),
          file_ids: [file.id],
          ...(options.metadata ? { metadata: options.metadata } : {}),
        }),
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
    const attached = await withOpenAiRetry(
      'vectorStores.files.retrieve',
      () => client.vectorStores.files.retrieve(fileId, { vector_store_id: vectorStoreId }),
      options,
    );
    if (attached.status === 'completed') return;
    if (attached.status === 'failed' || attached.status === 'cancelled') {
      throw new OpenAiUnavailableError(
        'bad_request',
        `the FAQ file could not be indexed (${attached.status}${attached.last_error ? `: ${attached.last_error.code}` : ''})`,
        { attempts: 1 },
      );
    }
    if (Date.now() + interval > deadline) {
      throw new OpenAiUnavailableError('timeout', 'the FAQ file was not indexed in time', { attempts: 1 });
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
