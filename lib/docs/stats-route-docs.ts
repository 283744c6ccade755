import {
  chartQuerySchema,
  dailyStatsQuerySchema,
  dailyStatsReportSchema,
  tenantChartQuerySchema,
  tenantDailyStatsQuerySchema,
  tenantDailyStatsSchema,
} from '../stats/stats-schemas.ts';
import type { RouteDoc } from './tenant-route-docs.ts';

/** The entries of docs/api.md for the daily statistics and their charts. */

const CHART =
  'An SVG chart (`image/svg+xml`, drawn on the server, no script): messages received and answered per UTC day as bars, and who answered them (OpenAI, the FAQ responder, the FAQ responder after OpenAI failed, declined) as shares of one bar. It has `role="img"`, a `<title>` and a `<desc>` that says the same in words; every text is escaped. The web pages show it with `<img src>`, authenticated by their session cookie.';

export const statsRouteDocs: Record<string, RouteDoc> = {
  'GET /admin/stats/daily': {
    summary:
      "Each client's counts per UTC day over the last `days` days (today so far included; kept 16 days, so up to 14 can be asked), and their sums per day: messages received, answers by responder and who answered as shares, seconds of audio transcribed and images given to the model. Deactivated clients are listed with `active: false` unless `active_only=true`. Counts only: no contacts, no text.",
    query: dailyStatsQuerySchema,
    response: dailyStatsReportSchema,
    responses: '200 the report (below); 400 bad query; 401; 403 a tenant key',
  },
  'GET /admin/stats/chart.svg': {
    summary: `${CHART} This one sums every client. \`lang\` picks the words (default: \`Accept-Language\`).`,
    query: chartQuerySchema,
    responses: '200 SVG; 400 bad query; 401; 403 a tenant key',
  },
  'GET /tenant/stats/daily': {
    summary:
      "The key's tenant's counts per UTC day over the last `days` days, in the shape of one entry of `GET /admin/stats/daily` (another tenant's are never reachable here).",
    query: tenantDailyStatsQuerySchema,
    response: tenantDailyStatsSchema,
    responses:
      '200 the report (below); 400 bad query; 401; 403 the operator key, or the client is deactivated',
  },
  'GET /tenant/stats/chart.svg': {
    summary: `${CHART} This one is the key's tenant's only, in its \`language\` unless \`lang\` says otherwise; the landing page shows it as \`<img src="/tenant/stats/chart.svg">\`.`,
    query: tenantChartQuerySchema,
    responses: '200 SVG; 400 bad query; 401; 403 the operator key, or the client is deactivated',
  },
};
