/**
 * The daily statistics' unit of time: the UTC day. Next to each hour's counters (hour-buckets.ts,
 * kept two days) every tenant keeps one item per UTC day, kept a little over two weeks, so the
 * charts of the last 14 days are one small range query per tenant. A day is named `yyyy-mm-dd`
 * (the first 10 characters of its ISO time): those names sort as the days do.
 */

/** A UTC day, `yyyy-mm-dd` (e.g. `2026-12-01`). */
export type DayId = string;

const DAY_MS = 86_400_000;

/** The most days a daily report or chart covers (the items are kept DAY_STATS_RETENTION_DAYS). */
export const MAX_REPORT_DAYS = 14;

/** The UTC day `at` falls in. */
export function dayOf(at: Date): DayId {
  return at.toISOString().slice(0, 10);
}

/** When a day begins (00:00 UTC). */
export function startOfDay(day: DayId): Date {
  return new Date(`${day}T00:00:00.000Z`);
}

/** The day `days` after (or, negative, before) `day`. */
export function addDays(day: DayId, days: number): DayId {
  return dayOf(new Date(startOfDay(day).getTime() + days * DAY_MS));
}

/** The last `days` UTC days at `now`: today so far and the `days - 1` whole days before it. */
export interface DayWindow {
  days: number;
  /** The oldest day and today (both included). */
  first: DayId;
  last: DayId;
  /** Start of the oldest day. */
  since: Date;
  /** The moment the window was taken at. */
  until: Date;
}

export function dayWindow(now: Date, days: number): DayWindow {
  if (!Number.isInteger(days) || days < 1) throw new RangeError('a window has at least one whole day');
  const last = dayOf(now);
  const first = addDays(last, -(days - 1));
  return { days, first, last, since: startOfDay(first), until: now };
}

/** Every day of a window, oldest first. */
export function daysIn(window: Pick<DayWindow, 'days' | 'first'>): DayId[] {
  return Array.from({ length: window.days }, (_, index) => addDays(window.first, index));
}
