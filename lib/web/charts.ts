import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import type { DailySummary } from '../stats/stats-schemas.ts';
import { escapeHtml } from './escape.ts';
import type { PageLanguage } from './i18n.ts';

/**
 * The daily statistics as a picture, drawn on the server as SVG (no chart library, no script): the
 * messages received and answered per UTC day as paired bars, and who answered them (OpenAI, the FAQ
 * responder, the FAQ responder after OpenAI failed, declined) as one stacked bar. Served at
 * `/admin/stats/chart.svg` (every tenant) and `/tenant/stats/chart.svg` (the key's tenant) and shown
 * by the pages with `<img>`. It carries `role="img"`, a `<title>` and a `<desc>` that says in words
 * what it shows; every text in it is escaped.
 */

const WIDTH = 720;
const HEIGHT = 400;
const PLOT = { left: 56, right: 704, top: 70, bottom: 262 };
const SHARE_BAR = { y: 316, height: 22 };

/** Colours with at least 3:1 contrast against white (graphical objects, WCAG 1.4.11). */
const COLOURS = {
  received: '#0550ae',
  answered: '#0b6e4f',
  openai: '#0550ae',
  faq: '#0b6e4f',
  fallback: '#9a6700',
  declined: '#57606a',
  text: '#1f2328',
  muted: '#57606a',
  grid: '#d0d7de',
} as const;

const SHARE_KINDS = ['openai', 'faq', 'fallback', 'declined'] as const;

const words = {
  es: {
    heading: (days: number) => `Mensajes por día, últimos ${days} días (UTC)`,
    received: 'Recibidos',
    answered: 'Respondidos',
    share: 'Quién respondió',
    kinds: {
      openai: 'OpenAI',
      faq: 'Respuestas frecuentes',
      fallback: 'Respaldo (falló OpenAI)',
      declined: 'Rechazados',
    },
    none: 'Sin mensajes en estos días.',
    noAnswers: 'Todavía no hay respuestas.',
    summary: (days: number, received: string, answered: string) =>
      `Mensajes recibidos en los últimos ${days} días: ${received}; respondidos: ${answered}.`,
    shares: (parts: string) => `Respondidos por: ${parts}.`,
    busiest: (day: string, count: string) => `Día con más mensajes: ${day} (${count}).`,
    bar: (day: string, received: string, answered: string) =>
      `${day}: ${received} recibidos, ${answered} respondidos`,
    months: ['ene', 'feb', 'mar', 'abr', 'may', 'jun', 'jul', 'ago', 'sep', 'oct', 'nov', 'dic'],
    percent: (value: number) => `${value}\u00a0%`,
  },
  en: {
    heading: (days: number) => `Messages per day, last ${days} days (UTC)`,
    received: 'Received',
    answered: 'Answered',
    share: 'Who answered',
    kinds: {
      openai: 'OpenAI',
      faq: 'FAQ responder',
      fallback: 'Fallback (OpenAI failed)',
      declined: 'Declined',
    },
    none: 'No messages in these days.',
    noAnswers: 'No answers yet.',
    summary: (days: number, received: string, answered: string) =>
      `Messages received in the last ${days} days: ${received}; answered: ${answered}.`,
    shares: (parts: string) => `Answered by: ${parts}.`,
    busiest: (day: string, count: string) => `Busiest day: ${day} (${count}).`,
    bar: (day: string, received: string, answered: string) =>
      `${day}: ${received} received, ${answered} answered`,
    months: ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'],
    percent: (value: number) => `${value}%`,
  },
} as const;

export interface DailyChartInput {
  /** Whose messages: "Todos los clientes", a business's name. Escaped. */
  title: string;
  lang: PageLanguage;
  summary: DailySummary;
}

/** XML-escapes text and attribute values (the same rules as HTML). */
export const escapeXml = escapeHtml;
const e = escapeXml;
const fixed = (value: number) => Number(value.toFixed(1));

/** The top of the value axis: 4 steps of 1, 2 or 5 × 10ⁿ, at least the largest value. */
export function axisMax(largest: number): number {
  const step = Math.max(1, Math.ceil(largest / 4));
  const magnitude = 10 ** Math.floor(Math.log10(step));
  const nice = [1, 2, 5, 10].map((m) => m * magnitude).find((candidate) => candidate >= step) ?? step;
  return nice * 4;
}

export function dailyChartSvg(input: DailyChartInput): string {
  const w = words[input.lang];
  const { summary } = input;
  const days = summary.daily;
  const format = new Intl.NumberFormat(input.lang === 'en' ? 'en-GB' : 'es-ES');
  const n = (value: number) => format.format(value);
  const dayLabel = (date: string) => {
    const [, month, day] = date.split('-');
    return `${Number(day)} ${w.months[Number(month) - 1] ?? month}`;
  };

  const largest = Math.max(0, ...days.map((day) => Math.max(day.messages_in, day.answered)));
  const top = axisMax(largest);
  const plotHeight = PLOT.bottom - PLOT.top;
  const slot = (PLOT.right - PLOT.left) / Math.max(1, days.length);
  const barWidth = Math.max(2, slot * 0.34);
  const y = (value: number) => PLOT.bottom - (value / top) * plotHeight;

  const grid = [0, 1, 2, 3, 4].map((step) => {
    const value = (top / 4) * step;
    const at = fixed(y(value));
    return `<line x1="${PLOT.left}" x2="${PLOT.right}" y1="${at}" y2="${at}" stroke="${COLOURS.grid}" stroke-width="1"/>
<text x="${PLOT.left - 8}" y="${fixed(at + 4)}" text-anchor="end" font-size="12" fill="${COLOURS.muted}">${e(n(value))}</text>`;
  });

  const bars = days.map((day, index) => {
    const x = PLOT.left + slot * index + (slot - 2 * barWidth) / 2;
    const label = dayLabel(day.date);
    const tip = e(w.bar(label, n(day.messages_in), n(day.answered)));
    const bar = (kind: 'received' | 'answered', value: number, left: number) =>
      `<rect class="bar ${kind}" data-date="${e(day.date)}" x="${fixed(left)}" y="${fixed(y(value))}" width="${fixed(barWidth)}" height="${fixed(PLOT.bottom - y(value))}" fill="${COLOURS[kind]}"><title>${tip}</title></rect>`;
    const showLabel = days.length <= 14 || index % Math.ceil(days.length / 14) === 0;
    return [
      bar('received', day.messages_in, x),
      bar('answered', day.answered, x + barWidth),
      showLabel
        ? `<text x="${fixed(PLOT.left + slot * index + slot / 2)}" y="${PLOT.bottom + 18}" text-anchor="middle" font-size="12" fill="${COLOURS.muted}">${e(label)}</text>`
        : '',
    ].join('\n');
  });

  const legend = (
    [
      ['received', w.received],
      ['answered', w.answered],
    ] as const
  ).map(
    ([kind, text], index) =>
      `<rect x="${PLOT.left + index * 150}" y="42" width="14" height="14" fill="${COLOURS[kind]}"/>
<text x="${PLOT.left + index * 150 + 20}" y="54" font-size="13" fill="${COLOURS.text}">${e(text)}</text>`,
  );

  const shares = summary.answer_shares;
  const shareParts: string[] = [];
  const shareWords: string[] = [];
  if (shares) {
    let left = PLOT.left;
    const span = PLOT.right - PLOT.left;
    SHARE_KINDS.forEach((kind, index) => {
      const share = shares[kind];
      const width = share * span;
      const percent = w.percent(Math.round(share * 100));
      if (width > 0) {
        shareParts.push(
          `<rect class="share ${kind}" x="${fixed(left)}" y="${SHARE_BAR.y}" width="${fixed(width)}" height="${SHARE_BAR.height}" fill="${COLOURS[kind]}"><title>${e(`${w.kinds[kind]}: ${percent}`)}</title></rect>`,
        );
      }
      left += width;
      const column = index % 2;
      const row = Math.floor(index / 2);
      shareParts.push(
        `<rect x="${PLOT.left + column * 330}" y="${SHARE_BAR.y + 36 + row * 22}" width="12" height="12" fill="${COLOURS[kind]}"/>
<text x="${PLOT.left + column * 330 + 18}" y="${SHARE_BAR.y + 47 + row * 22}" font-size="13" fill="${COLOURS.text}">${e(`${w.kinds[kind]}: ${percent} (${n(summary.by_responder[kind])})`)}</text>`,
      );
      if (summary.by_responder[kind] > 0) shareWords.push(`${w.kinds[kind]} ${percent}`);
    });
  } else {
    shareParts.push(
      `<text x="${PLOT.left}" y="${SHARE_BAR.y + 16}" font-size="13" fill="${COLOURS.muted}">${e(w.noAnswers)}</text>`,
    );
  }

  const busiest = days.reduce<(typeof days)[number] | undefined>(
    (best, day) => (day.messages_in > (best?.messages_in ?? 0) ? day : best),
    undefined,
  );
  const description = [
    w.summary(days.length, n(summary.messages_in), n(summary.answered)),
    shares ? w.shares(shareWords.join(', ')) : w.noAnswers,
    busiest ? w.busiest(dayLabel(busiest.date), n(busiest.messages_in)) : '',
  ]
    .filter(Boolean)
    .join(' ');
  const heading = `${input.title}: ${w.heading(days.length)}`;

  return `<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-labelledby="chart-title chart-desc" viewBox="0 0 ${WIDTH} ${HEIGHT}" width="${WIDTH}" height="${HEIGHT}" font-family="system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif">
<title id="chart-title">${e(heading)}</title>
<desc id="chart-desc">${e(description)}</desc>
<rect width="${WIDTH}" height="${HEIGHT}" fill="#ffffff"/>
<text x="${PLOT.left}" y="26" font-size="16" font-weight="600" fill="${COLOURS.text}">${e(heading)}</text>
${legend.join('\n')}
${grid.join('\n')}
${bars.join('\n')}
${largest === 0 ? `<text x="${(PLOT.left + PLOT.right) / 2}" y="${(PLOT.top + PLOT.bottom) / 2}" text-anchor="middle" font-size="14" fill="${COLOURS.muted}">${e(w.none)}</text>` : ''}
<text x="${PLOT.left}" y="${SHARE_BAR.y - 10}" font-size="14" font-weight="600" fill="${COLOURS.text}">${e(w.share)}</text>
${shareParts.join('\n')}
</svg>
`;
}

/** An SVG answer: private (a tenant's counts), never cached, and allowed to load nothing at all. */
export function svgResponse(svg: string): APIGatewayProxyStructuredResultV2 {
  return {
    statusCode: 200,
    headers: {
      'content-type': 'image/svg+xml; charset=utf-8',
      'cache-control': 'private, no-store',
      'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'no-referrer',
      'cross-origin-resource-policy': 'same-origin',
    },
    body: svg,
  };
}
