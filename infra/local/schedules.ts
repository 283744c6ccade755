/**
 * Plays EventBridge Scheduler locally: each function with a `schedule` in the topology is invoked on
 * a timer. `rate(...)` expressions are honoured; `LOCAL_SCHEDULE_INTERVAL_MS` overrides them all
 * (handy to watch the purge work without waiting a day).
 */
const UNITS: Record<string, number> = { minute: 60_000, hour: 3_600_000, day: 86_400_000 };

export function rateToMs(expression: string): number {
  const match = /^rate\((\d+)\s+(minute|hour|day)s?\)$/.exec(expression.trim());
  if (!match) throw new Error(`unsupported schedule expression locally: ${expression}`);
  return Number(match[1]) * UNITS[match[2]!]!;
}

export function startSchedule(
  intervalMs: number,
  invoke: () => Promise<unknown>,
  onError: (error: unknown) => void,
): { stop(): Promise<void> } {
  let running: Promise<unknown> | undefined;
  const timer = setInterval(() => {
    if (running) return; // never overlap with itself locally
    running = invoke()
      .catch(onError)
      .finally(() => {
        running = undefined;
      });
  }, intervalMs);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
