import { processPartialResponse, SqsFifoPartialProcessorAsync } from '@aws-lambda-powertools/batch';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { type AnswerDeps, handleQueueEvent } from '../lib/conversation/answer-message.ts';
import { queueEventSchema } from '../lib/conversation/inbound-event.ts';
import { logger } from '../lib/logger.ts';
import { EmfTelemetry } from '../lib/observability/emf-telemetry.ts';
import type { FlushableTelemetry } from '../lib/observability/telemetry.ts';
import { buildAnswerDependencies } from '../lib/runtime/answer-dependencies.ts';
import { once } from '../lib/runtime/dependencies.ts';

/**
 * SQS FIFO consumer: answers each queued message exactly once. A failed record fails the rest of
 * its message group in the batch (order within a conversation is kept); other groups go on.
 */
/** OpenAI's worst case (three attempts of 15 s plus backoff) and a Graph send with its retries. */
const MIN_TIME_FOR_A_RECORD_MS = 55_000;

/**
 * `telemetry` (EMF in production) is given to the use case and flushed after every record, with the
 * record's tenant as metadata; without one, the deps' own telemetry (if any) is used as it is.
 */
export function createAssistantHandler(
  deps: () => Promise<AnswerDeps>,
  options: { telemetry?: FlushableTelemetry } = {},
) {
  const { telemetry } = options;
  return async (event: SQSEvent, context?: Context): Promise<SQSBatchResponse> => {
    const resolved = await deps();
    const answerDeps = telemetry ? { ...resolved, telemetry } : resolved;
    const processor = new SqsFifoPartialProcessorAsync();
    const recordHandler = async (record: SQSRecord) => {
      const remaining = context?.getRemainingTimeInMillis?.();
      if (remaining !== undefined && remaining < MIN_TIME_FOR_A_RECORD_MS) {
        throw new Error('not enough time left in this invocation; the record goes back to the queue');
      }
      const parsed = queueEventSchema.safeParse(JSON.parse(record.body));
      if (!parsed.success) {
        // A producer bug: fail it so it ends in the dead-letter queue instead of being dropped.
        throw new Error(`queue message ${record.messageId} does not match the inbound contract`);
      }
      try {
        const outcome = await handleQueueEvent(parsed.data, answerDeps);
        logger.info('queue event handled', {
          kind: parsed.data.kind,
          tenantId: parsed.data.tenant_id,
          outcome,
        });
      } finally {
        // Also after a failure: the Graph error that sends the record back is worth counting.
        // The tenant id only: never a contact id or message text.
        telemetry?.flush({ tenant_id: parsed.data.tenant_id });
      }
    };
    return processPartialResponse(event, recordHandler, processor, {
      ...(context ? { context } : {}),
      skipGroupOnError: true,
      throwOnFullBatchFailure: false,
    });
  };
}

const productionDeps = once(buildAnswerDependencies);

/** Once per process, like the clients: values are buffered per record and flushed after it. */
const telemetry = new EmfTelemetry('assistant');

export const handler = createAssistantHandler(productionDeps, { telemetry });
