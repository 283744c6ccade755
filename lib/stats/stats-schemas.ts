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

/** The media counters: what OpenAI bills for voice notes and pictures besides the tokens. */
const TRANSCRIPTION_SECONDS =
  'Seconds of audio (voice notes, audio files) sent to transcription, each rounded up to a whole second';
const IMAGE_INPUTS = 'Images and PDFs given to the model with a message';

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
  transcription_seconds: count(TRANSCRIPTION_SECONDS),
  image_inputs: count(IMAGE_INPUTS),
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

/* ---- Daily statistics: GET /admin/stats/daily, GET /tenant/stats/daily and their charts ---- */

export const MAX_DAILY_DAYS = 14;

const daysParam = z
  .string()
  .regex(/^\d{1,3}$/, `must be a whole number of days from 1 to ${MAX_DAILY_DAYS}`)
  .optional()
  .transform((value) => (value === undefined ? MAX_DAILY_DAYS : Number(value)))
  .refine((days) => days >= 1 && days <= MAX_DAILY_DAYS, {
    message: `must be a whole number of days from 1 to ${MAX_DAILY_DAYS}`,
  })
  .describe(`UTC days to report, today included (1 to ${MAX_DAILY_DAYS}; default ${MAX_DAILY_DAYS})`);

const langParam = z
  .enum(['es', 'en'], { message: 'must be "es" or "en"' })
  .optional()
  .describe(
    "Language of the chart's words (default: the caller's Accept-Language, or the tenant's language)",
  );

export const dailyStatsQuerySchema = z.object({ days: daysParam, active_only: activeOnlyParam }).strict();
export const tenantDailyStatsQuerySchema = z.object({ days: daysParam }).strict();
const reloadParam = z
  .string()
  .max(32)
  .optional()
  .describe('Ignored: a page changes it to load the picture again (`<img src>` of a new URL)');

export const chartQuerySchema = z
  .object({ days: daysParam, active_only: activeOnlyParam, lang: langParam, v: reloadParam })
  .strict();
export const tenantChartQuerySchema = z.object({ days: daysParam, lang: langParam, v: reloadParam }).strict();

const share = (what: string) =>
  z.number().min(0).max(1).describe(`${what} / answered, rounded to 4 decimals`);

/** What Meta bills: the messages whose status webhooks said `billable`, per `pricing.category`. */
const billableSchema = (what: string) =>
  z
    .object({
      total: count(`Billable messages ${what} (the sum of by_category)`),
      by_category: z
        .record(z.string(), z.number().int().min(0))
        .describe(
          "Per Meta's pricing category (`marketing`, `utility`, `authentication`, `service`…; an unknown spelling as `other`), counted once per message on the day of its first status that carried pricing",
        ),
    })
    .strict();

export const dayStatsSchema = z
  .object({
    date: z.iso.date().describe('The UTC day'),
    messages_in: count('Customer messages received that day'),
    answered: count('Messages a responder answered that day (the sum of by_responder)'),
    by_responder: z.object(byResponderShape).strict(),
    transcription_seconds: count(`${TRANSCRIPTION_SECONDS}, that day`),
    image_inputs: count(`${IMAGE_INPUTS}, that day`),
    billable: billableSchema('that day'),
  })
  .strict();

const dailySummaryShape = {
  messages_in: count('Customer messages received over the days'),
  answered: count('Messages answered over the days'),
  by_responder: z.object(byResponderShape).strict(),
  answer_shares: z
    .object({
      openai: share('by_responder.openai'),
      faq: share('by_responder.faq'),
      fallback: share('by_responder.fallback'),
      declined: share('by_responder.declined'),
    } satisfies Record<ResponderKind, z.ZodType>)
    .strict()
    .nullable()
    .describe('Who answered, as shares of the answers; null when nothing was answered'),
  transcription_seconds: count(`${TRANSCRIPTION_SECONDS}, over the days`),
  image_inputs: count(`${IMAGE_INPUTS}, over the days`),
  billable: billableSchema('over the days'),
  daily: z.array(dayStatsSchema).describe('One entry per UTC day, oldest first, zeros included'),
};

const dailyWindowShape = {
  days: z.number().int().min(1).max(MAX_DAILY_DAYS).describe('UTC days reported, today included'),
  first_day: z.iso.date().describe('The oldest day reported'),
  last_day: z.iso.date().describe('Today (UTC), counted so far'),
  since: z.iso.datetime().describe('Start of the oldest day (00:00 UTC)'),
  until: z.iso.datetime().describe('When the report was taken'),
};

export const dailySummarySchema = z.object(dailySummaryShape).strict();

export const dailyStatsReportSchema = z
  .object({
    ...dailyWindowShape,
    totals: dailySummarySchema.describe('The sums over every tenant listed, per day'),
    tenants: z
      .array(
        z
          .object({
            client_id: z.string(),
            name: z.string(),
            active: z.boolean().describe('false for a deactivated (soft-deleted) client'),
            ...dailySummaryShape,
          })
          .strict(),
      )
      .describe('One entry per client, oldest client first'),
  })
  .strict();

export const tenantDailyStatsSchema = z
  .object({ ...dailyWindowShape, client_id: z.string(), name: z.string(), ...dailySummaryShape })
  .strict();

export type DayStats = z.output<typeof dayStatsSchema>;
export type DailySummary = z.output<typeof dailySummarySchema>;
export type DailyStatsReport = z.output<typeof dailyStatsReportSchema>;
export type TenantDailyStats = z.output<typeof tenantDailyStatsSchema>;
