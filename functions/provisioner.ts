import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import * as z from 'zod';
import { logger } from '../lib/logger.ts';
import { EmfTelemetry } from '../lib/observability/emf-telemetry.ts';
import type { FlushableTelemetry } from '../lib/observability/telemetry.ts';
import { type ProvisionDeps, provisionAssistant } from '../lib/provisioning/provision-assistant.ts';
import { buildDependencies, buildVectorStores, once } from '../lib/runtime/dependencies.ts';
import { readPlatformSecret } from '../lib/secrets/platform-secrets.ts';

/** SQS consumer: builds the vector store of each requested assistant version. */

const jobSchema = z.object({ client_id: z.string().min(1), assistant_version: z.number().int().min(1) });

/** `telemetry` (EMF in production) is flushed after every job, with the job's tenant as metadata. */
export function createProvisionerHandler(
  deps: () => Promise<ProvisionDeps>,
  options: { telemetry?: FlushableTelemetry } = {},
) {
  const { telemetry } = options;
  return async (event: SQSEvent, context?: Context): Promise<SQSBatchResponse> => {
    const resolved = await deps();
    const provisionDeps = telemetry ? { ...resolved, telemetry } : resolved;
    const processor = new BatchProcessor(EventType.SQS);
    const recordHandler = async (record: SQSRecord) => {
      const job = jobSchema.parse(JSON.parse(record.body));
      const remainingMs = context?.getRemainingTimeInMillis?.();
      try {
        const outcome = await provisionAssistant(
          job,
          provisionDeps,
          remainingMs === undefined ? {} : { remainingMs },
        );
        logger.info('provisioning job handled', {
          clientId: job.client_id,
          version: job.assistant_version,
          outcome,
        });
      } finally {
        telemetry?.flush({ tenant_id: job.client_id });
      }
    };
    return processPartialResponse(event, recordHandler, processor, {
      ...(context ? { context } : {}),
      throwOnFullBatchFailure: false,
    });
  };
}

const productionDeps = once(async (): Promise<ProvisionDeps> => {
  const base = buildDependencies();
  return {
    clients: base.clients,
    secrets: base.secrets,
    vectorStores: buildVectorStores(base.config),
    platformOpenAiKey: () => readPlatformSecret('OPENAI_API_KEY'),
  };
});

const telemetry = new EmfTelemetry('provisioner');

export const handler = createProvisionerHandler(productionDeps, { telemetry });
