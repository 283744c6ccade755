/** How a QR session's restarts are spaced: exponential, capped, with jitter so sessions do not restart in step. */
export interface BackoffPolicy {
  /** The delay before the first restart, before jitter. */
  baseMs: number;
  /** The longest delay, before jitter. */
  maxMs: number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = { baseMs: 2_000, maxMs: 120_000 };

/**
 * The delay before restart number `attempt` (1 for the first): `min(max, base · 2^(attempt-1))`,
 * then "equal jitter": half of it fixed, the other half random, so a restart never comes at once
 * and many sessions lost together (a task's network) spread out.
 */
export function restartDelayMs(attempt: number, policy: BackoffPolicy, random: () => number): number {
  const exponent = Math.max(0, Math.min(attempt - 1, 30));
  const ceiling = Math.min(policy.maxMs, policy.baseMs * 2 ** exponent);
  return Math.round(ceiling / 2 + (ceiling / 2) * random());
}
