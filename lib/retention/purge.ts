import { randomUUID } from 'node:crypto';
import { ConflictError, NotFoundError } from '../errors.ts';
import { logger } from '../logger.ts';
import { noTelemetry, type Telemetry } from '../observability/telemetry.ts';
import { OpenAiUnavailableError } from '../openai/retry.ts';
import type { SecretBox } from '../secrets/secret-box.ts';
import type { ApiKeyRepository } from '../tenants/api-key-repository.ts';
import type { Client } from '../tenants/client.ts';
import type { ClientRepository } from '../tenants/client-repository.ts';
import type { MediaStore } from './media-store.ts';
import { OpenAiRunState, openAiKeyFor, pruneContactConversation } from './openai-retention.ts';
import { addTo, Budget } from './purge-budget.ts';
import { emptyReport, type PurgeReport, reportRun } from './purge-report.ts';
import type { PurgeRunRecord, RetentionStore } from './retention-store.ts';

/**
 * The retention purge and the right to erasure. DynamoDB TTL alone is not enough (it can lag by
 * days and reaches neither OpenAI nor S3), so a scheduled run deletes, for every tenant, what is
 * older than its retention (an idle contact's OpenAI conversation whole, an active one's items past
 * the retention: openai-retention.ts); and, for clients deleted more than 30 days ago, everything
 * they left.
 *
 * Idempotent and safe when runs overlap: every deletion counts only when it deleted something, and
 * OpenAI's 404 means "already gone". Bounded: a run stops after `maxDeletes` deletions or its time
 * budget and reports `complete: false`; the next run simply continues (nothing to resume from: what
 * is gone is gone). Logs counts, never content.
 */

export const DEFAULT_RETENTION_HOURS = 24;
export const DELETED_CLIENT_GRACE_DAYS = 30;

export interface PurgeDeps {
  clients: ClientRepository;
  store: RetentionStore;
  secrets: SecretBox;
  openai: {
    /** true when deleted, false when OpenAI says it does not exist. */
    deleteConversation(
      apiKey: string,
      conversationId: string,
      keyOwner?: 'tenant' | 'platform',
    ): Promise<boolean>;
    deleteVectorStore(apiKey: string, vectorStoreId: string, fileId?: string): Promise<boolean>;
    /**
     * Deletes an active contact's conversation items added before `before`, at most `limit`
     * (lib/openai/conversation-retention.ts; buildPurgeDependencies always gives it).
     */
    pruneConversation?(args: {
      apiKey: string;
      owner: 'tenant' | 'platform';
      conversationId: string;
      before: Date;
      limit: number;
    }): Promise<{ deleted: number; more: boolean }>;
  };
  platformOpenAiKey(): Promise<string | undefined>;
  media?: MediaStore;
  /** Revokes an erased client's API keys (buildPurgeDependencies always gives it). */
  apiKeys?: Pick<ApiKeyRepository, 'revokeAllApiKeys'>;
  /** Counts runs and what they deleted; default: nowhere. */
  telemetry?: Telemetry;
  now?: () => Date;
}

export interface PurgeRequest {
  trigger: 'schedule' | 'manual';
  /** Only this client. */
  clientId?: string;
  /** Overrides every tenant's retention (0 = everything up to now). */
  olderThanHours?: number;
  maxDeletes?: number;
  timeBudgetMs?: number;
}

export { deletionsIn, type PurgeReport } from './purge-report.ts';

/** Deletes a contact's messages received before `beforeIso` (all when undefined), within the budget. */
const drainMessages = (
  tenantId: string,
  contactKey: string,
  beforeIso: string | undefined,
  deps: PurgeDeps,
  report: PurgeReport,
  budget: Budget,
) =>
  budget.drain(
    200,
    (limit) => deps.store.deleteMessages(tenantId, contactKey, beforeIso, limit),
    addTo(report, 'messages_deleted'),
  );

/** Deletes a tenant's media older than `cutoff` (all when undefined), within the budget; true when done. */
async function drainMedia(
  tenantId: string,
  cutoff: Date | undefined,
  deps: PurgeDeps,
  report: PurgeReport,
  budget: Budget,
): Promise<boolean> {
  const { media } = deps;
  if (!media) return true;
  return budget.drain(
    1000,
    (limit) => media.deleteOlderThan(tenantId, cutoff, limit),
    addTo(report, 'media_objects_deleted'),
  );
}

/** How long a run holds a contact it is erasing before another may take over (it may have died). */
const ERASURE_LEASE_MS = 5 * 60_000;

/**
 * Erases one contact completely: its OpenAI conversation, messages and record. The contact is taken
 * first (a lease), so a contact is erased and counted by one run only. Resolves 'done', 'busy'
 * (another run is on it), 'gone' (nothing to erase) or 'budget' (stopped; the next run goes on).
 */
async function eraseContactData(
  client: Client,
  contactKey: string,
  runId: string,
  deps: PurgeDeps,
  report: PurgeReport,
  budget: Budget,
  /** Retention purge: only if the contact stays idle since this time (erasure requests: undefined). */
  idleBeforeIso?: string,
): Promise<'done' | 'busy' | 'gone' | 'budget' | 'active'> {
  const taken = await deps.store.takeContactForErasure(client.id, contactKey, runId, ERASURE_LEASE_MS);
  if (taken.outcome !== 'taken') return taken.outcome;
  try {
    // OpenAI first: if it fails, the contact (which holds the conversation id) stays for the next run.
    const conversationId = taken.contact.openai_conversation_id;
    if (conversationId) {
      const key = await openAiKeyFor(client, deps);
      if (key && (await deps.openai.deleteConversation(key.apiKey, conversationId, key.owner)))
        report.openai_conversations_deleted++;
    }
    const finished = await drainMessages(client.id, contactKey, idleBeforeIso, deps, report, budget);
    if (!finished) {
      await deps.store.releaseContact(client.id, contactKey, runId);
      return 'budget';
    }
  } catch (error) {
    await deps.store.releaseContact(client.id, contactKey, runId).catch(() => undefined);
    throw error;
  }
  if (await deps.store.deleteContact(client.id, contactKey, runId, idleBeforeIso)) {
    // Its reply burst (messages waiting for an answer) goes with it: only once the contact is gone,
    // so a customer who wrote meanwhile keeps the burst their new message is waiting in.
    await deps.store.deleteBurst(client.id, contactKey);
    report.conversations_deleted++;
    budget.spend(1);
    return 'done';
  }
  // The customer wrote while we erased: keep the contact and its new messages.
  await deps.store.releaseContact(client.id, contactKey, runId);
  return 'active';
}

/**
 * One tenant's retention. Resolves false when the budget ran out; `skipped` counts contacts left for
 * a later run (an error, or another run holding them).
 */
async function purgeTenant(
  client: Client,
  cutoff: Date,
  runId: string,
  deps: PurgeDeps,
  report: PurgeReport,
  budget: Budget,
  skipped: { count: number } = { count: 0 },
  openAi = new OpenAiRunState(),
) {
  const cutoffIso = cutoff.toISOString();
  // OpenAI cannot delete an idle contact's conversation in this run: its messages go now, the
  // contact (which holds the conversation id) at the next run.
  const keepForNextRun = (contactKey: string) => {
    skipped.count++;
    return drainMessages(client.id, contactKey, cutoffIso, deps, report, budget);
  };
  for await (const contact of deps.store.contacts(client.id)) {
    if (budget.left <= 0) return false;
    const idle = contact.last_activity_at < cutoffIso;
    try {
      if (idle && contact.openai_conversation_id && !(await openAi.reaches(client, deps))) {
        if (!(await keepForNextRun(contact.contact_key))) return false;
      } else if (idle) {
        const outcome = await eraseContactData(
          client,
          contact.contact_key,
          runId,
          deps,
          report,
          budget,
          cutoffIso,
        );
        if (outcome === 'budget') return false;
        if (outcome === 'busy') skipped.count++;
      } else {
        const finished =
          (await drainMessages(client.id, contact.contact_key, cutoffIso, deps, report, budget)) &&
          (await pruneContactConversation(client, contact, cutoff, deps, report, budget, openAi));
        if (!finished) return false;
      }
    } catch (error) {
      report.errors++;
      logger.warn('purge of a contact failed; the next run retries it', {
        tenantId: client.id,
        error: String(error),
      });
      if (!(error instanceof OpenAiUnavailableError) || !idle) {
        skipped.count++;
        continue;
      }
      await openAi.noteFailure(client, deps, error);
      if (!(await keepForNextRun(contact.contact_key).catch(() => true))) return false;
    }
  }
  const now = deps.now?.() ?? new Date();
  const claimsDone = await budget.drain(
    200,
    (limit) => deps.store.deleteExpiredClaims(client.id, Math.floor(now.getTime() / 1000), limit),
    addTo(report, 'idempotency_records_deleted'),
  );
  if (!claimsDone) return false;
  const burstsDone = await budget.drain(
    200,
    (limit) => deps.store.deleteExpiredBursts(client.id, Math.floor(now.getTime() / 1000), limit),
    addTo(report, 'idempotency_records_deleted'),
  );
  if (!burstsDone) return false;
  return drainMedia(client.id, cutoff, deps, report, budget);
}

/** Everything a client deleted more than the grace period ago left behind. */
async function eraseClient(
  client: Client,
  runId: string,
  deps: PurgeDeps,
  report: PurgeReport,
  budget: Budget,
) {
  const skipped = { count: 0 };
  if (!(await purgeTenant(client, deps.now?.() ?? new Date(), runId, deps, report, budget, skipped)))
    return false;
  // A contact not erased still holds its OpenAI conversation id: keep the client until it is.
  if (skipped.count > 0) return false;
  if (!(await drainMedia(client.id, undefined, deps, report, budget))) return false;
  // Its API keys' lookups live outside its partition and are found through the key items inside it:
  // revoked before the leftovers (those key items among them) are deleted, so none outlives the client.
  await deps.apiKeys?.revokeAllApiKeys(client.id);
  const leftoversDone = await budget.drain(
    200,
    (limit) => deps.store.deleteTenantLeftovers(client.id, limit),
    addTo(report, 'idempotency_records_deleted'),
  );
  if (!leftoversDone) return false;
  if (client.assistant.vector_store_id) {
    const key = await openAiKeyFor(client, deps);
    if (key) {
      const deleted = await deps.openai.deleteVectorStore(
        key.apiKey,
        client.assistant.vector_store_id,
        client.assistant.vector_store_file_id,
      );
      if (deleted) report.vector_stores_deleted++;
    }
  }
  if (await deps.store.deleteClientRecords(client.id, client.phone_number_id, client.slug))
    report.clients_erased++;
  return true;
}

export async function runPurge(
  request: PurgeRequest,
  deps: PurgeDeps,
): Promise<PurgeRunRecord & { report: PurgeReport }> {
  const now = deps.now?.() ?? new Date();
  const run: PurgeRunRecord & { report: PurgeReport } = {
    run_id: randomUUID(),
    trigger: request.trigger,
    status: 'running',
    started_at: now.toISOString(),
    scope: {
      ...(request.clientId ? { client_id: request.clientId } : {}),
      ...(request.olderThanHours !== undefined ? { older_than_hours: request.olderThanHours } : {}),
    },
    report: emptyReport(),
  };
  await deps.store.startRun(run);
  const budget = new Budget(request.maxDeletes ?? 20_000, request.timeBudgetMs ?? 10 * 60_000);
  const report = run.report;
  try {
    let clients: Client[];
    if (request.clientId) {
      const client = await deps.clients.get(request.clientId);
      if (!client) throw new NotFoundError(`client ${request.clientId} not found`);
      clients = [client];
    } else {
      clients = await deps.clients.list({ activeOnly: false });
    }
    const openAi = new OpenAiRunState();
    const graceCutoff = new Date(now.getTime() - DELETED_CLIENT_GRACE_DAYS * 24 * 3600_000).toISOString();
    for (const client of clients) {
      if (budget.left <= 0) {
        report.complete = false;
        break;
      }
      report.tenants_scanned++;
      const retentionHours = request.olderThanHours ?? client.retention_hours ?? DEFAULT_RETENTION_HOURS;
      const cutoff = new Date(now.getTime() - retentionHours * 3600_000);
      const finished =
        !client.active && client.deactivated_at && client.deactivated_at < graceCutoff
          ? await eraseClient(client, run.run_id, deps, report, budget)
          : await purgeTenant(client, cutoff, run.run_id, deps, report, budget, { count: 0 }, openAi);
      if (!finished) report.complete = false;
    }
    run.status = report.complete ? 'completed' : 'partial';
  } catch (error) {
    run.status = 'failed';
    report.errors++;
    logger.error('purge run failed', { runId: run.run_id, error: String(error) });
    run.finished_at = new Date().toISOString();
    reportRun(deps.telemetry ?? noTelemetry, report, false);
    await deps.store.finishRun(run);
    throw error;
  }
  run.finished_at = new Date().toISOString();
  await deps.store.finishRun(run);
  reportRun(deps.telemetry ?? noTelemetry, report, true);
  logger.info('purge run finished', {
    runId: run.run_id,
    trigger: run.trigger,
    status: run.status,
    ...report,
  });
  return run;
}

/** A customer's right to erasure: messages, contact state and OpenAI conversation of one contact. */
export async function eraseContact(clientId: string, contactKey: string, deps: PurgeDeps) {
  const client = await deps.clients.require(clientId);
  const report = emptyReport();
  const outcome = await eraseContactData(
    client,
    contactKey,
    `erasure-${randomUUID()}`,
    deps,
    report,
    new Budget(Number.MAX_SAFE_INTEGER, 60_000),
  );
  if (outcome === 'gone') throw new NotFoundError(`no conversation with ${contactKey}`);
  if (outcome === 'busy' || outcome === 'active' || outcome === 'budget') {
    throw new ConflictError('this contact is being erased by a purge run; try again shortly');
  }
  return {
    contact: contactKey,
    messages_deleted: report.messages_deleted,
    conversations_deleted: report.conversations_deleted,
    openai_conversations_deleted: report.openai_conversations_deleted,
  };
}
