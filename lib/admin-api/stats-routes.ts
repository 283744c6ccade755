import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { header, json, parseQuery } from '../http/http-response.ts';
import { dailyStatsReport, tenantDailyStats } from '../stats/daily-report.ts';
import { type DailyStatsReader, readsDays } from '../stats/dynamo-stats-store.ts';
import {
  chartQuerySchema,
  dailyStatsQuerySchema,
  tenantChartQuerySchema,
  tenantDailyStatsQuerySchema,
} from '../stats/stats-schemas.ts';
import { dailyChartSvg, svgResponse } from '../web/charts.ts';
import { type PageLanguage, pageLanguage, preferredLanguage } from '../web/i18n.ts';
import type { ClientRoute } from './client-scoped-routes.ts';
import type { AdminApiDeps } from './deps.ts';
import type { OperatorRoute } from './operator-routes.ts';

/**
 * The daily statistics, as JSON and as an SVG chart: the operator's over every client
 * (`/admin/stats/daily`, `/admin/stats/chart.svg`) and a tenant's over itself only
 * (`/tenant/stats/daily`, `/tenant/stats/chart.svg`: the client is the key's or the session's,
 * never a parameter). The pages show the charts with `<img>`, authenticated by the session cookie.
 */

function dailyReader(deps: AdminApiDeps): DailyStatsReader {
  if (!readsDays(deps.stats)) throw new Error('the daily statistics reader is not configured');
  return deps.stats;
}

const nowOf = (deps: AdminApiDeps) => deps.now?.() ?? new Date();

const ALL_CLIENTS: Record<PageLanguage, string> = { es: 'Todos los clientes', en: 'All clients' };

const languageOf = (event: APIGatewayProxyEventV2, asked: PageLanguage | undefined, fallback?: string) =>
  asked ?? (fallback ? pageLanguage(fallback) : preferredLanguage(header(event, 'accept-language')));

export const operatorStatsRoutes: Record<string, OperatorRoute> = {
  'GET /admin/stats/daily': async (event, deps) => {
    const { days, active_only } = parseQuery(event, dailyStatsQuerySchema);
    const reader = dailyReader(deps);
    const clients = await deps.service.list({ activeOnly: active_only });
    return json(200, await dailyStatsReport(clients, reader, nowOf(deps), days));
  },
  'GET /admin/stats/chart.svg': async (event, deps) => {
    const { days, active_only, lang } = parseQuery(event, chartQuerySchema);
    const reader = dailyReader(deps);
    const clients = await deps.service.list({ activeOnly: active_only });
    const report = await dailyStatsReport(clients, reader, nowOf(deps), days);
    const language = languageOf(event, lang);
    return svgResponse(
      dailyChartSvg({ title: ALL_CLIENTS[language], lang: language, summary: report.totals }),
    );
  },
};

export const tenantStatsRoutes: Record<string, ClientRoute> = {
  'GET /tenant/stats/daily': async (event, client, deps) => {
    const { days } = parseQuery(event, tenantDailyStatsQuerySchema);
    return json(200, await tenantDailyStats(client, dailyReader(deps), nowOf(deps), days));
  },
  'GET /tenant/stats/chart.svg': async (event, client, deps) => {
    const { days, lang } = parseQuery(event, tenantChartQuerySchema);
    const stats = await tenantDailyStats(client, dailyReader(deps), nowOf(deps), days);
    const language = languageOf(event, lang, client.language);
    return svgResponse(dailyChartSvg({ title: client.name, lang: language, summary: stats }));
  },
};
