/**
 * The statistics' unit of time: the UTC hour. Counters are kept per tenant per hour (one item each),
 * so a message is counted with one write to one small item, and a window of hours is one range
 * query. An hour is named by the first 13 characters of its ISO time, `yyyy-mm-ddThh`: those names
 * sort as the hours do, so a sort-key range over them is a time range.
 */

/** A UTC hour, `yyyy-mm-ddThh` (e.g. `2026-12-01T19`). */
export type HourId = string;

const HOUR_MS = 3_600_000;

/** The UTC hour `at` falls in. */
export function hourOf(at: Date): HourId {
  return at.toISOString().slice(0, 13);
}

/** When an hour begins. */
export function startOfHour(hour: HourId): Date {
  return new Date(`${hour}:00:00.000Z`);
}

/** The hour `hours` after (or, negative, before) `hour`; whole hours, so days, months and years roll over. */
export function addHours(hour: HourId, hours: number): HourId {
  return hourOf(new Date(startOfHour(hour).getTime() + hours * HOUR_MS));
}

/**
 * The last `hours` hourly buckets at `now`: the current hour so far and the `hours - 1` whole hours
 * before it. A window of 24 therefore spans between 23 and 24 hours (it starts on an hour, `since`):
 * it never counts anything older than 24 hours, at the price of leaving out the part of the oldest
 * hour that the buckets cannot split off. (25 buckets would cover all 24 hours but count up to 25.)
 */
export interface HourWindow {
  /** How many buckets. */
  hours: number;
  /** The oldest bucket and the current one (both included). */
  first: HourId;
  last: HourId;
  /** Start of the oldest bucket. */
  since: Date;
  /** The moment the window was taken at. */
  until: Date;
}

export function hourWindow(now: Date, hours: number): HourWindow {
  if (!Number.isInteger(hours) || hours < 1) throw new RangeError('a window has at least one whole hour');
  const last = hourOf(now);
  const first = addHours(last, -(hours - 1));
  return { hours, first, last, since: startOfHour(first), until: now };
}

/** Every hour of a window, oldest first. */
export function hoursIn(window: HourWindow): HourId[] {
  return Array.from({ length: window.hours }, (_, index) => addHours(window.first, index));
}
