import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import type { AnswerDeps } from '../lib/conversation/answer-message.ts';
import { burstWakeupSchema } from '../lib/conversation/burst-wakeup-queue.ts';
import { answerBurst } from '../lib/conversation/reply-burst.ts';
import { EmfTelemetry } from '../lib/observability/emf-telemetry.ts';
import type { FlushableTelemetry } from '../lib/observability/telemetry.ts';
import { queueRecordHandler } from '../lib/queue/queue-record.ts';
import { buildAnswerDependencies } from '../lib/runtime/answer-dependencies.ts';
import { once } from '../lib/runtime/dependencies.ts';

/**
 * Standard-queue consumer of reply-burst wake-ups: each one answers its contact's burst, or is
 * dropped as stale. Order does not matter here (the burst record decides), so a failed record
 * fails only itself.
 */
export function createReplyBurstHandler(
  deps: () => Promise<AnswerDeps>,
  options: { telemetry?: FlushableTelemetry } = {},
) {
  const { telemetry } = options;
  return async (event: SQSEvent, context?: Context): Promise<SQSBatchResponse> => {
    const resolved = await deps();
    const answerDeps = telemetry ? { ...resolved, telemetry } : resolved;
    const recordHandler = queueRecordHandler(
      {
        parse: (body) => burstWakeupSchema.safeParse(body),
        contract: 'reply-burst',
        handle: (wakeup) => answerBurst(wakeup, answerDeps),
        handled: 'burst wake-up handled',
      },
      { context, telemetry },
    );
    return processPartialResponse(event, recordHandler, new BatchProcessor(EventType.SQS), {
      ...(context ? { context } : {}),
      throwOnFullBatchFailure: false,
    });
  };
}

const telemetry = new EmfTelemetry('reply-burst');

export const handler = createReplyBurstHandler(once(buildAnswerDependencies), { telemetry });
