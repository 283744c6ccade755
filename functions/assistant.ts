import { processPartialResponse, SqsFifoPartialProcessorAsync } from '@aws-lambda-powertools/batch';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { type AnswerDeps, handleQueueEvent } from '../lib/conversation/answer-message.ts';
import { queueEventSchema } from '../lib/conversation/inbound-event.ts';
import { EmfTelemetry } from '../lib/observability/emf-telemetry.ts';
import type { FlushableTelemetry } from '../lib/observability/telemetry.ts';
import { queueRecordHandler } from '../lib/queue/queue-record.ts';
import { buildAnswerDependencies } from '../lib/runtime/answer-dependencies.ts';
import { once } from '../lib/runtime/dependencies.ts';

/**
 * SQS FIFO consumer: answers each queued message exactly once. A failed record fails the rest of
 * its message group in the batch (order within a conversation is kept); other groups go on.
 *
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
    const recordHandler = queueRecordHandler(
      {
        parse: (body) => queueEventSchema.safeParse(body),
        contract: 'inbound',
        handle: (queued) => handleQueueEvent(queued, answerDeps),
        handled: 'queue event handled',
        logged: (queued) => ({ kind: queued.kind }),
      },
      { context, telemetry },
    );
    return processPartialResponse(event, recordHandler, new SqsFifoPartialProcessorAsync(), {
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
