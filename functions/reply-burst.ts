import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import type { AnswerDeps } from '../lib/conversation/answer-message.ts';
import { burstWakeupSchema } from '../lib/conversation/burst-wakeup-queue.ts';
import { answerBurst } from '../lib/conversation/reply-burst.ts';
import { logger } from '../lib/logger.ts';
import { EmfTelemetry } from '../lib/observability/emf-telemetry.ts';
import type { FlushableTelemetry } from '../lib/observability/telemetry.ts';
import { buildAnswerDependencies } from '../lib/runtime/answer-dependencies.ts';
import { once } from '../lib/runtime/dependencies.ts';

/**
 * Standard-queue consumer of reply-burst wake-ups: each one answers its contact's burst, or is
 * dropped as stale. Order does not matter here (the burst record decides), so a failed record
 * fails only itself.
 */
/** As the assistant's: OpenAI's worst case and a Graph send with its retries. */
const MIN_TIME_FOR_A_RECORD_MS = 55_000;

export function createReplyBurstHandler(
  deps: () => Promise<AnswerDeps>,
  options: { telemetry?: FlushableTelemetry } = {},
) {
  const { telemetry } = options;
  return async (event: SQSEvent, context?: Context): Promise<SQSBatchResponse> => {
    const resolved = await deps();
    const answerDeps = telemetry ? { ...resolved, telemetry } : resolved;
    const recordHandler = async (record: SQSRecord) => {
      const remaining = context?.getRemainingTimeInMillis?.();
      if (remaining !== undefined && remaining < MIN_TIME_FOR_A_RECORD_MS) {
        throw new Error('not enough time left in this invocation; the wake-up goes back to the queue');
      }
      const parsed = burstWakeupSchema.safeParse(JSON.parse(record.body));
      if (!parsed.success) {
        throw new Error(`wake-up ${record.messageId} does not match the reply-burst contract`);
      }
      try {
        const outcome = await answerBurst(parsed.data, answerDeps);
        logger.info('burst wake-up handled', { tenantId: parsed.data.tenant_id, outcome });
      } finally {
        telemetry?.flush({ tenant_id: parsed.data.tenant_id });
      }
    };
    return processPartialResponse(event, recordHandler, new BatchProcessor(EventType.SQS), {
      ...(context ? { context } : {}),
      throwOnFullBatchFailure: false,
    });
  };
}

const telemetry = new EmfTelemetry('reply-burst');

export const handler = createReplyBurstHandler(once(buildAnswerDependencies), { telemetry });
