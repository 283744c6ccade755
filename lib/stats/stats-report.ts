import type { Client } from '../tenants/client.ts';
import { addCounters, noCounters, type TenantCounters } from './conversation-stats.ts';
import type { StatsReader } from './dynamo-stats-store.ts';
import { hourWindow } from './hour-buckets.ts';
import type { StatsCounters, StatsReport } from './stats-schemas.ts';

/**
 * The operator's statistics report (GET /admin/stats): every listed client's counters over the last
 * 24 hourly buckets, and their totals. Which clients are listed is the caller's choice.
 */

/** Buckets of the report: the current hour and the 23 before it (see hour-buckets.ts for why 24). */
export const STATS_WINDOW_HOURS = 24;

/** Share of answers that came from the FAQ responder because OpenAI failed; null when none. */
export function fallbackRate(counters: TenantCounters): number | null {
  if (counters.answered === 0) return null;
  return Math.round((counters.by_responder.fallback / counters.answered) * 10_000) / 10_000;
}

/** The counters as the API shows them, with what is derived from them. */
export function countersView(counters: TenantCounters): StatsCounters {
  return {
    messages_in: counters.messages_in,
    answered: counters.answered,
    by_responder: { ...counters.by_responder },
    fallbacks: counters.by_responder.fallback,
    fallback_rate: fallbackRate(counters),
    input_tokens: counters.input_tokens,
    output_tokens: counters.output_tokens,
    transcription_seconds: counters.transcription_seconds,
    image_inputs: counters.image_inputs,
    last_message_at: counters.last_message_at,
  };
}

export async function statsReport(
  clients: ReadonlyArray<Pick<Client, 'id' | 'name' | 'active'>>,
  reader: StatsReader,
  now: Date,
): Promise<StatsReport> {
  const window = hourWindow(now, STATS_WINDOW_HOURS);
  const sums = await reader.sumWindow(
    clients.map((client) => client.id),
    window,
  );
  const countersOf = (id: string) => sums.get(id) ?? noCounters();
  return {
    window_hours: window.hours,
    since: window.since.toISOString(),
    until: window.until.toISOString(),
    // Rates of the totals come from the summed counts, not from averaging the tenants' rates.
    totals: countersView(
      clients.reduce((total, client) => addCounters(total, countersOf(client.id)), noCounters()),
    ),
    tenants: clients.map((client) => ({
      client_id: client.id,
      name: client.name,
      active: client.active,
      ...countersView(countersOf(client.id)),
    })),
  };
}
