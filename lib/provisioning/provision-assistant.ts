import { logger } from '../logger.ts';
import { noTelemetry, type Telemetry } from '../observability/telemetry.ts';
import { FaqVectorStoreError } from '../openai/vector-store.ts';
import type { SecretBox } from '../secrets/secret-box.ts';
import type { ClientRepository } from '../tenants/client-repository.ts';
import type { Faq } from '../tenants/client-schemas.ts';
import type { ProvisionJob } from '../tenants/client-service.ts';

/**
 * The OpenAI vector-store operations the provisioner needs (lib/openai/vector-store.ts). A failed
 * build rejects with a FaqVectorStoreError, whose message is fit for the operator.
 */
export interface FaqVectorStores {
  create(args: {
    apiKey: string;
    name: string;
    faqs: Faq[];
    /** How long to wait for indexing; the build cleans up after itself if it runs out. */
    indexTimeoutMs?: number;
  }): Promise<{ vectorStoreId: string; fileId: string }>;
  delete(args: { apiKey: string; vectorStoreId: string; fileId?: string }): Promise<void>;
}

export interface ProvisionDeps {
  clients: ClientRepository;
  secrets: SecretBox;
  vectorStores: FaqVectorStores;
  platformOpenAiKey(): Promise<string | undefined>;
  /** Counts versions built and builds failed; default: nowhere. */
  telemetry?: Telemetry;
  now?: () => Date;
}

export type ProvisionOutcome = 'ready' | 'superseded' | 'gone' | 'offline';

/**
 * Builds the vector store of one assistant version and marks the assistant ready. A job for a version
 * that is no longer current is dropped. On failure the assistant shows `failed` with the reason and
 * the error is rethrown so the queue retries (and finally dead-letters) the job.
 */
export async function provisionAssistant(
  job: ProvisionJob,
  deps: ProvisionDeps,
  /** Time left in this invocation: the indexing wait must end (and clean up) well before it. */
  budget: { remainingMs?: number } = {},
): Promise<ProvisionOutcome> {
  const telemetry = deps.telemetry ?? noTelemetry;
  try {
    const outcome = await provisionVersion(job, deps, budget);
    // An offline assistant is provisioned too: ready, answered by the FAQ responder.
    if (outcome === 'ready' || outcome === 'offline') telemetry.count('AssistantsProvisioned');
    return outcome;
  } catch (error) {
    // Every failed attempt counts (the queue retries it): a build failing over and over shows.
    telemetry.count('ProvisioningFailures');
    throw error;
  }
}

async function provisionVersion(
  job: ProvisionJob,
  deps: ProvisionDeps,
  budget: { remainingMs?: number },
): Promise<ProvisionOutcome> {
  const client = await deps.clients.get(job.client_id);
  if (!client) return 'gone';
  if (client.assistant.version !== job.assistant_version) return 'superseded';
  const now = () => (deps.now?.() ?? new Date()).toISOString();
  const apiKey = client.openai_api_key_enc
    ? await deps.secrets.decrypt(client.openai_api_key_enc, { tenantId: client.id })
    : await deps.platformOpenAiKey();
  if (!apiKey) {
    await deps.clients.setAssistant(client.id, {
      ...client.assistant,
      status: 'ready',
      status_reason: 'offline FAQ responder (no OpenAI key configured)',
      updated_at: now(),
    });
    return 'offline';
  }
  // The queue is at-least-once: a duplicate job may build at the same time. Only the build that
  // replaces the store this one started from wins; the loser deletes what it built.
  const startedFrom = client.assistant.vector_store_id ?? null;
  const previous = client.assistant.vector_store_id
    ? { vectorStoreId: client.assistant.vector_store_id, fileId: client.assistant.vector_store_file_id }
    : undefined;
  let built: { vectorStoreId: string; fileId: string };
  try {
    built = await deps.vectorStores.create({
      apiKey,
      name: `${client.id} v${client.assistant.version}`,
      faqs: client.faqs,
      // Uploads and store creation take their share first; keep a minute for them and the cleanup.
      ...(budget.remainingMs !== undefined
        ? { indexTimeoutMs: Math.max(5_000, Math.min(120_000, budget.remainingMs - 60_000)) }
        : {}),
    });
  } catch (error) {
    const reason = buildFailureReason(error);
    logBuildFailure(client.id, client.assistant.version, error);
    await deps.clients.setAssistant(
      client.id,
      {
        ...client.assistant,
        status: 'failed',
        status_reason: `vector store build failed, retrying: ${reason}`,
        updated_at: now(),
      },
      { replacingVectorStore: startedFrom },
    );
    throw error;
  }
  const stored = await deps.clients.setAssistant(
    client.id,
    {
      ...client.assistant,
      vector_store_id: built.vectorStoreId,
      vector_store_file_id: built.fileId,
      status: 'ready',
      updated_at: now(),
    },
    { replacingVectorStore: startedFrom },
  );
  if (!stored) {
    // A newer version, or a duplicate delivery of this job, got there first: ours is orphaned.
    await deps.vectorStores.delete({ apiKey, ...built }).catch(() => undefined);
    return 'superseded';
  }
  if (previous && previous.vectorStoreId !== built.vectorStoreId) {
    await deps.vectorStores
      .delete({ apiKey, ...previous })
      .catch((error) =>
        logger.warn('old vector store not deleted', { clientId: client.id, error: String(error) }),
      );
  }
  return 'ready';
}

/**
 * Why a build failed, as the operator reads it in `assistant_status_reason`: our own words (the
 * step and OpenAI's HTTP status), never upstream text or our internals; those go to the log.
 */
function buildFailureReason(error: unknown): string {
  if (error instanceof FaqVectorStoreError) return error.message;
  return 'an internal error (see the provisioner logs)';
}

/** The whole story for the log: the step, OpenAI's status and its own message (clipped). */
function logBuildFailure(clientId: string, version: number, error: unknown) {
  if (error instanceof FaqVectorStoreError) {
    const upstream = error.cause instanceof Error ? error.cause.cause : undefined;
    logger.warn('assistant build failed; the queue retries it', {
      clientId,
      version,
      step: error.step,
      reason: error.reason,
      upstreamStatus: error.upstreamStatus,
      upstreamMessage: upstream instanceof Error ? upstream.message.slice(0, 1000) : undefined,
    });
    return;
  }
  logger.error('assistant build failed; the queue retries it', {
    clientId,
    version,
    error: error instanceof Error ? error : String(error),
  });
}
