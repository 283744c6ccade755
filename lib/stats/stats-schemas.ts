import * as z from 'zod';
import type { ResponderKind } from '../observability/metric-catalog.ts';
import { activeOnlyParam } from '../tenants/client-schemas.ts';

/**
 * The contract of GET /admin/stats: the query the handler validates and the report it answers with.
 * `npm run docs:api` renders both into docs/api.md; the integration test parses real answers with
 * the report schema, so the documentation cannot drift from what the route returns.
 */

export const statsQuerySchema = z.object({ active_only: activeOnlyParam }).strict();

const count = (what: string) => z.number().int().min(0).describe(what);

const byResponderShape = {
  openai: count('Answered by OpenAI'),
  faq: count('Answered by the offline FAQ responder (no OpenAI configured)'),
  fallback: count('Answered by the FAQ responder because OpenAI failed after its retries'),
  declined: count('Politely declined (off-topic, prompt injection, no matching FAQ)'),
} satisfies Record<ResponderKind, z.ZodType>;

const countersShape = {
  messages_in: count('Customer messages received'),
  answered: count('Messages a responder answered (the sum of by_responder)'),
  by_responder: z.object(byResponderShape).strict(),
  fallbacks: count('Same as by_responder.fallback'),
  fallback_rate: z
    .number()
    .min(0)
    .max(1)
    .nullable()
    .describe('fallbacks / answered, rounded to 4 decimals; null when nothing was answered'),
  input_tokens: count('OpenAI input tokens billed'),
  output_tokens: count('OpenAI output tokens billed'),
  last_message_at: z.iso
    .datetime()
    .nullable()
    .describe('When the latest customer message of the window was received; null when none was'),
};

export const statsCountersSchema = z.object(countersShape).strict();

export const tenantStatsSchema = z
  .object({
    client_id: z.string(),
    name: z.string(),
    active: z.boolean().describe('false for a deactivated (soft-deleted) client'),
    ...countersShape,
  })
  .strict();

export const statsReportSchema = z
  .object({
    window_hours: z
      .number()
      .int()
      .describe('Hourly buckets summed: the current UTC hour so far and the 23 whole hours before it'),
    since: z.iso.datetime().describe('Start of the oldest bucket (on the hour, 23 to 24 hours ago)'),
    until: z.iso.datetime().describe('When the report was taken'),
    totals: statsCountersSchema.describe('The sums over every tenant listed'),
    tenants: z.array(tenantStatsSchema).describe('One entry per client, oldest client first'),
  })
  .strict();

export type StatsCounters = z.output<typeof statsCountersSchema>;
export type TenantStats = z.output<typeof tenantStatsSchema>;
export type StatsReport = z.output<typeof statsReportSchema>;
