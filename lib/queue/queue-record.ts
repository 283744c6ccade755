import type { Context, SQSRecord } from 'aws-lambda';
import { logger } from '../logger.ts';
import type { FlushableTelemetry } from '../observability/telemetry.ts';

/** OpenAI's worst case (three attempts of 15 s plus backoff) and a Graph send with its retries. */
const MIN_TIME_FOR_A_RECORD_MS = 55_000;

/** What a queue consumer does with one record's body, once it matches the queue's contract. */
export interface QueueRecordUse<Body extends { tenant_id: string }> {
  /** The queue's contract (a zod schema's safeParse). */
  parse(body: unknown): { success: true; data: Body } | { success: false };
  /** The contract's name, for the error of a body that does not match it. */
  contract: string;
  handle(body: Body): Promise<string>;
  /** The log line of a handled record, with the tenant and the outcome. */
  handled: string;
  /** More of the body worth logging (never a contact id or message text). */
  logged?: (body: Body) => Record<string, string>;
}

/**
 * The record handler of an SQS consumer that answers customers (the inbound queue's and the reply
 * bursts'): it refuses to start a record the invocation has no time left to finish (it goes back to
 * the queue), fails a body that does not match the contract (a producer bug: it ends in the
 * dead-letter queue instead of being dropped), and flushes the record's metrics with its tenant,
 * after a failure too (the Graph error that sends it back is worth counting).
 */
export function queueRecordHandler<Body extends { tenant_id: string }>(
  use: QueueRecordUse<Body>,
  options: { context?: Context | undefined; telemetry?: FlushableTelemetry | undefined },
) {
  const { context, telemetry } = options;
  return async (record: SQSRecord) => {
    const remaining = context?.getRemainingTimeInMillis?.();
    if (remaining !== undefined && remaining < MIN_TIME_FOR_A_RECORD_MS) {
      throw new Error('not enough time left in this invocation; the record goes back to the queue');
    }
    const parsed = use.parse(JSON.parse(record.body));
    if (!parsed.success) {
      throw new Error(`queue message ${record.messageId} does not match the ${use.contract} contract`);
    }
    try {
      const outcome = await use.handle(parsed.data);
      logger.info(use.handled, {
        ...use.logged?.(parsed.data),
        tenantId: parsed.data.tenant_id,
        outcome,
      });
    } finally {
      // The tenant id only: never a contact id or message text.
      telemetry?.flush({ tenant_id: parsed.data.tenant_id });
    }
  };
}
