import { describe, expect, it } from 'vitest';
import { addHours, hourOf, hoursIn, hourWindow, startOfHour } from '../../lib/stats/hour-buckets.ts';
import { statsKeys } from '../../lib/stats/stats-keys.ts';

const at = (iso: string) => new Date(iso);

describe('hourOf', () => {
  it.each([
    ['2026-12-01T19:00:00.000Z', '2026-12-01T19'],
    ['2026-12-01T19:59:59.999Z', '2026-12-01T19'],
    ['2026-12-01T23:59:59.999Z', '2026-12-01T23'],
    ['2026-12-02T00:00:00.000Z', '2026-12-02T00'],
  ])('given %s, then the UTC hour is %s', (time, hour) => {
    expect(hourOf(at(time))).toBe(hour);
  });

  it('given a time with an offset, then the hour is the UTC one (the day may differ)', () => {
    expect(hourOf(at('2026-12-01T23:30:00-05:00'))).toBe('2026-12-02T04');
  });
});

describe('addHours', () => {
  it.each([
    ['2026-12-01T23', 1, '2026-12-02T00'],
    ['2026-12-02T00', -1, '2026-12-01T23'],
    ['2026-12-31T23', 1, '2027-01-01T00'],
    ['2027-01-01T00', -23, '2026-12-31T01'],
    ['2028-02-28T23', 1, '2028-02-29T00'],
    ['2028-03-01T00', -1, '2028-02-29T23'],
    ['2027-03-01T00', -1, '2027-02-28T23'],
    ['2026-12-01T19', -24, '2026-11-30T19'],
  ])('given %s plus %i hours, then %s', (hour, hours, expected) => {
    expect(addHours(hour, hours)).toBe(expected);
  });

  it('given a sort key range, then the hours sort like the times they name', () => {
    const hours = ['2026-12-31T22', '2026-12-31T23', '2027-01-01T00', '2027-01-01T09', '2027-01-01T10'];
    expect([...hours].reverse().sort()).toEqual(hours);
    const keys = hours.map((hour) => statsKeys.hour('cl_a', hour).sk);
    expect([...keys].reverse().sort()).toEqual(keys);
  });
});

describe('hourWindow', () => {
  it('given 19:42, then 24 buckets from 20:00 the day before to the current hour', () => {
    const window = hourWindow(at('2026-12-01T19:42:10.500Z'), 24);
    expect(window).toMatchObject({ hours: 24, first: '2026-11-30T20', last: '2026-12-01T19' });
    expect(window.since.toISOString()).toBe('2026-11-30T20:00:00.000Z');
    expect(window.until.toISOString()).toBe('2026-12-01T19:42:10.500Z');
  });

  it('given just after midnight on New Year, then the window starts the previous year', () => {
    const window = hourWindow(at('2027-01-01T00:00:01.000Z'), 24);
    expect(window.first).toBe('2026-12-31T01');
    expect(window.last).toBe('2027-01-01T00');
    expect(hoursIn(window)).toHaveLength(24);
    expect(hoursIn(window).at(0)).toBe('2026-12-31T01');
    expect(hoursIn(window).at(-1)).toBe('2027-01-01T00');
  });

  it('given any time, then the window never reaches more than 24 hours back and at least 23', () => {
    for (const time of ['2026-12-01T19:00:00.000Z', '2026-12-01T19:59:59.999Z', '2028-02-29T00:30:00.000Z']) {
      const now = at(time);
      const window = hourWindow(now, 24);
      const spanMs = now.getTime() - window.since.getTime();
      expect(spanMs).toBeGreaterThanOrEqual(23 * 3_600_000);
      expect(spanMs).toBeLessThan(24 * 3_600_000);
    }
  });

  it('given a one-hour window, then it is the current hour only', () => {
    const window = hourWindow(at('2026-12-01T19:42:00.000Z'), 1);
    expect(hoursIn(window)).toEqual(['2026-12-01T19']);
    expect(window.since).toEqual(startOfHour('2026-12-01T19'));
  });

  it.each([0, -1, 1.5])('given %s hours, then it refuses', (hours) => {
    expect(() => hourWindow(new Date(), hours)).toThrow(RangeError);
  });
});

describe('statsKeys', () => {
  it("keeps the hours in the tenant's own partition, the tenant id first", () => {
    expect(statsKeys.hour('cl_abc', '2026-12-01T19')).toEqual({
      pk: 'CLIENT#cl_abc',
      sk: 'STATS#2026-12-01T19',
    });
    expect(statsKeys.hours('cl_abc', '2026-11-30T20', '2026-12-01T19')).toEqual({
      pk: 'CLIENT#cl_abc',
      from: 'STATS#2026-11-30T20',
      to: 'STATS#2026-12-01T19',
    });
  });
});
