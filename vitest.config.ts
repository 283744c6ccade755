import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/support/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // Integration and e2e files share one DynamoDB Local and one fauxqs; each file uses its own
    // table and queues, so files may run side by side.
    fileParallelism: true,
    maxWorkers: 2,
    // Quiet structured logs in tests (set POWERTOOLS_LOG_LEVEL=INFO to see them).
    // No EMF metric lines on stdout either (the tests of the EMF adapter turn them on themselves).
    env: {
      POWERTOOLS_LOG_LEVEL: process.env.POWERTOOLS_LOG_LEVEL ?? 'ERROR',
      POWERTOOLS_METRICS_DISABLED: process.env.POWERTOOLS_METRICS_DISABLED ?? 'true',
    },
  },
});
