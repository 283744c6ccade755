import type { Context } from 'aws-lambda';
import { logger } from '../lib/logger.ts';
import { EmfTelemetry } from '../lib/observability/emf-telemetry.ts';
import type { FlushableTelemetry } from '../lib/observability/telemetry.ts';
import { type PurgeDeps, runPurge } from '../lib/retention/purge.ts';
import { buildDependencies, buildPurgeDependencies, once } from '../lib/runtime/dependencies.ts';

/**
 * The daily retention purge, invoked by EventBridge Scheduler (the local stack plays the schedule
 * with a timer). It stops a minute before the function's timeout; the next run continues.
 */
export function createPurgeHandler(
  deps: () => Promise<PurgeDeps>,
  /** `telemetry` (EMF in production) is flushed after the run; it spans tenants, so no tenant metadata. */
  options: { telemetry?: FlushableTelemetry } = {},
) {
  const { telemetry } = options;
  return async (_event: unknown, context?: Context) => {
    const remaining = context?.getRemainingTimeInMillis?.() ?? 15 * 60_000;
    const resolved = await deps();
    try {
      const run = await runPurge(
        { trigger: 'schedule', timeBudgetMs: Math.max(10_000, remaining - 60_000) },
        telemetry ? { ...resolved, telemetry } : resolved,
      );
      logger.info('scheduled purge', { runId: run.run_id, status: run.status });
      return { run_id: run.run_id, status: run.status, report: run.report };
    } finally {
      telemetry?.flush();
    }
  };
}

const productionDeps = once(async () => buildPurgeDependencies(buildDependencies()));

const telemetry = new EmfTelemetry('purge');

export const handler = createPurgeHandler(productionDeps, { telemetry });
