/**
 * How much one purge run may still do: a number of deletions and a deadline. A run that runs out
 * reports `complete: false` and the next run goes on (nothing to resume from: what is gone is gone).
 */
export class Budget {
  private readonly deadline: number;
  constructor(
    private remaining: number,
    timeMs: number,
  ) {
    this.deadline = Date.now() + timeMs;
  }
  get left(): number {
    return Date.now() >= this.deadline ? 0 : this.remaining;
  }
  spend(count: number) {
    this.remaining -= count;
  }

  /**
   * Repeats a bounded deletion step until it reports nothing more, or the budget runs out (false).
   * Each step gets at most `chunk` (and never more than what is left) and adds what it deleted.
   */
  async drain(
    chunk: number,
    step: (limit: number) => Promise<{ deleted: number; more: boolean }>,
    add: (deleted: number) => void,
  ): Promise<boolean> {
    for (;;) {
      const limit = this.left;
      if (limit <= 0) return false;
      const { deleted, more } = await step(Math.min(limit, chunk));
      this.spend(deleted);
      add(deleted);
      // Nothing deleted means no progress (e.g. an overlapping run took those items): stop here.
      if (!more || deleted === 0) return true;
    }
  }
}

/** Adds deletions to one counter of a report. */
export const addTo =
  <R, K extends keyof R>(report: R, key: K) =>
  (deleted: number) => {
    (report[key] as number) += deleted;
  };
