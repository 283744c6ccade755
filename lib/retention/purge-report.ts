import type { Telemetry } from '../observability/telemetry.ts';

/** What a purge run (or an erasure) deleted, as its record and the API report it. */
export interface PurgeReport {
  messages_deleted: number;
  conversations_deleted: number;
  openai_conversations_deleted: number;
  /** Items of active contacts' OpenAI conversations older than the retention. */
  openai_items_deleted: number;
  idempotency_records_deleted: number;
  media_objects_deleted: number;
  vector_stores_deleted: number;
  clients_erased: number;
  tenants_scanned: number;
  errors: number;
  complete: boolean;
}

/** The counters of a report that count deletions (a client erased counts as one). */
const DELETION_COUNTERS = [
  'messages_deleted',
  'conversations_deleted',
  'openai_conversations_deleted',
  'openai_items_deleted',
  'idempotency_records_deleted',
  'media_objects_deleted',
  'vector_stores_deleted',
  'clients_erased',
] as const satisfies ReadonlyArray<keyof PurgeReport>;

/** Everything a run deleted, all kinds together. */
export function deletionsIn(report: PurgeReport): number {
  return DELETION_COUNTERS.reduce((sum, counter) => sum + report[counter], 0);
}

/** A run counts once it finished (completed or partial); what it deleted counts even if it failed. */
export function reportRun(telemetry: Telemetry, report: PurgeReport, finished: boolean) {
  if (finished) telemetry.count('PurgeRuns');
  const deleted = deletionsIn(report);
  if (deleted > 0) telemetry.count('PurgeItemsDeleted', deleted);
}

export const emptyReport = (): PurgeReport => ({
  messages_deleted: 0,
  conversations_deleted: 0,
  openai_conversations_deleted: 0,
  openai_items_deleted: 0,
  idempotency_records_deleted: 0,
  media_objects_deleted: 0,
  vector_stores_deleted: 0,
  clients_erased: 0,
  tenants_scanned: 0,
  errors: 0,
  complete: true,
});
