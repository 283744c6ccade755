import type { Context } from 'aws-lambda';
import { logger } from '../lib/logger.ts';
import { type PurgeDeps, runPurge } from '../lib/retention/purge.ts';
import { buildDependencies, buildPurgeDependencies, once } from '../lib/runtime/dependencies.ts';

/**
 * The daily retention purge, invoked by EventBridge Scheduler (the local stack plays the schedule
 * with a timer). It stops a minute before the function's timeout; the next run continues.
 */
export function createPurgeHandler(deps: () => Promise<PurgeDeps>) {
  return async (_event: unknown, context?: Context) => {
    const remaining = context?.getRemainingTimeInMillis?.() ?? 15 * 60_000;
    const run = await runPurge(
      { trigger: 'schedule', timeBudgetMs: Math.max(10_000, remaining - 60_000) },
      await deps(),
    );
    logger.info('scheduled purge', { runId: run.run_id, status: run.status });
    return { run_id: run.run_id, status: run.status, report: run.report };
  };
}

const productionDeps = once(async () => buildPurgeDependencies(buildDependencies()));

export const handler = createPurgeHandler(productionDeps);
