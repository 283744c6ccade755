import { RESPONDERS } from '../observability/metric-catalog.ts';
import type { Client } from '../tenants/client.ts';
import { addBillable, addCounters, noCounters, type TenantCounters } from './conversation-stats.ts';
import { type DayWindow, daysIn, dayWindow } from './day-buckets.ts';
import type { DailyStatsReader, DayCounters } from './dynamo-stats-store.ts';
import type { DailyStatsReport, DailySummary, DayStats, TenantDailyStats } from './stats-schemas.ts';

/**
 * The daily statistics (GET /admin/stats/daily, GET /tenant/stats/daily, and the charts drawn from
 * them): each listed client's counts per UTC day over the last `days` days, and their sums. Only
 * counts: no contact, no text.
 */

const rounded = (value: number) => Math.round(value * 10_000) / 10_000;

const billableView = (byCategory: Record<string, number> = {}) => ({
  total: Object.values(byCategory).reduce((sum, count) => sum + count, 0),
  by_category: { ...byCategory },
});

function dayView({ day, counters, billable }: DayCounters): DayStats {
  return {
    date: day,
    messages_in: counters.messages_in,
    answered: counters.answered,
    by_responder: { ...counters.by_responder },
    transcription_seconds: counters.transcription_seconds,
    image_inputs: counters.image_inputs,
    billable: billableView(billable),
  };
}

/** A series of days with its sums and who answered, as shares of the answers. */
export function dailySummary(series: readonly DayCounters[]): DailySummary {
  const sum = series.reduce((total, day) => addCounters(total, day.counters), noCounters());
  const shareOf = (counters: TenantCounters) =>
    counters.answered === 0
      ? null
      : (Object.fromEntries(
          RESPONDERS.map((kind) => [kind, rounded(counters.by_responder[kind] / counters.answered)]),
        ) as NonNullable<DailySummary['answer_shares']>);
  return {
    messages_in: sum.messages_in,
    answered: sum.answered,
    by_responder: { ...sum.by_responder },
    answer_shares: shareOf(sum),
    transcription_seconds: sum.transcription_seconds,
    image_inputs: sum.image_inputs,
    billable: billableView(series.reduce((total, day) => addBillable(total, day.billable ?? {}), {})),
    daily: series.map(dayView),
  };
}

/** The day-by-day sums of several series of the same window (each has one entry per day). */
const sumSeries = (window: DayWindow, all: ReadonlyArray<readonly DayCounters[]>): DayCounters[] =>
  daysIn(window).map((day, index) => ({
    day,
    counters: all.reduce(
      (total, series) => addCounters(total, series[index]?.counters ?? noCounters()),
      noCounters(),
    ),
    billable: all.reduce((total, series) => addBillable(total, series[index]?.billable ?? {}), {}),
  }));

const windowView = (window: DayWindow) => ({
  days: window.days,
  first_day: window.first,
  last_day: window.last,
  since: window.since.toISOString(),
  until: window.until.toISOString(),
});

const emptySeries = (window: DayWindow): DayCounters[] =>
  daysIn(window).map((day) => ({ day, counters: noCounters() }));

export async function dailyStatsReport(
  clients: ReadonlyArray<Pick<Client, 'id' | 'name' | 'active'>>,
  reader: DailyStatsReader,
  now: Date,
  days: number,
): Promise<DailyStatsReport> {
  const window = dayWindow(now, days);
  const series = await reader.sumDays(
    clients.map((client) => client.id),
    window,
  );
  const seriesOf = (id: string) => series.get(id) ?? emptySeries(window);
  return {
    ...windowView(window),
    totals: dailySummary(
      sumSeries(
        window,
        clients.map((client) => seriesOf(client.id)),
      ),
    ),
    tenants: clients.map((client) => ({
      client_id: client.id,
      name: client.name,
      active: client.active,
      ...dailySummary(seriesOf(client.id)),
    })),
  };
}

export async function tenantDailyStats(
  client: Pick<Client, 'id' | 'name'>,
  reader: DailyStatsReader,
  now: Date,
  days: number,
): Promise<TenantDailyStats> {
  const window = dayWindow(now, days);
  const series = (await reader.sumDays([client.id], window)).get(client.id) ?? emptySeries(window);
  return { ...windowView(window), client_id: client.id, name: client.name, ...dailySummary(series) };
}
