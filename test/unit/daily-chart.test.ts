import { describe, expect, it } from 'vitest';
import { noCounters, type TenantCounters } from '../../lib/stats/conversation-stats.ts';
import { dailySummary } from '../../lib/stats/daily-report.ts';
import { addDays, dayOf, daysIn, dayWindow } from '../../lib/stats/day-buckets.ts';
import type { DayCounters } from '../../lib/stats/dynamo-stats-store.ts';
import { axisMax, dailyChartSvg, svgResponse } from '../../lib/web/charts.ts';

const NOW = new Date('2026-12-02T01:30:00.000Z');

function counters(
  received: number,
  byResponder: Partial<TenantCounters['by_responder']> = {},
): TenantCounters {
  const by = { ...noCounters().by_responder, ...byResponder };
  return {
    ...noCounters(),
    messages_in: received,
    answered: by.openai + by.faq + by.fallback + by.declined,
    by_responder: by,
  };
}

const series = (make: (index: number) => TenantCounters, days = 14): DayCounters[] =>
  daysIn(dayWindow(NOW, days)).map((day, index) => ({ day, counters: make(index) }));

const count = (svg: string, pattern: RegExp) => svg.match(pattern)?.length ?? 0;

describe('UTC days', () => {
  it('given a time just before and just after midnight UTC, then two days', () => {
    expect(dayOf(new Date('2026-12-01T23:59:59.999Z'))).toBe('2026-12-01');
    expect(dayOf(new Date('2026-12-02T00:00:00.000Z'))).toBe('2026-12-02');
  });

  it('given 14 days at 01:30 on 2 December, then 19 November 00:00 to today, months and years rolling over', () => {
    const window = dayWindow(NOW, 14);
    expect(window).toMatchObject({ days: 14, first: '2026-11-19', last: '2026-12-02' });
    expect(window.since.toISOString()).toBe('2026-11-19T00:00:00.000Z');
    expect(daysIn(window)).toHaveLength(14);
    expect(daysIn(window)[12]).toBe('2026-12-01');
    expect(addDays('2026-12-31', 1)).toBe('2027-01-01');
    expect(addDays('2028-03-01', -1)).toBe('2028-02-29');
    expect(() => dayWindow(NOW, 0)).toThrow(RangeError);
  });
});

describe('dailySummary', () => {
  it('sums the days and says who answered as shares of the answers', () => {
    const summary = dailySummary(
      series((index) =>
        index === 13
          ? { ...counters(5, { openai: 2, faq: 1, declined: 1 }), transcription_seconds: 9, image_inputs: 2 }
          : index === 0
            ? { ...counters(0), transcription_seconds: 3 }
            : counters(0),
      ),
    );
    expect(summary).toMatchObject({
      messages_in: 5,
      answered: 4,
      answer_shares: { openai: 0.5, faq: 0.25, fallback: 0, declined: 0.25 },
      transcription_seconds: 12,
      image_inputs: 2,
    });
    expect(summary.daily).toHaveLength(14);
    expect(summary.daily[13]).toEqual({
      date: '2026-12-02',
      messages_in: 5,
      answered: 4,
      by_responder: { openai: 2, faq: 1, fallback: 0, declined: 1 },
      transcription_seconds: 9,
      image_inputs: 2,
      billable: { total: 0, by_category: {} },
    });
  });

  it('sums the billable messages per category over the days', () => {
    const days = series(() => counters(0)).map((day, index) =>
      index === 12
        ? { ...day, billable: { service: 2, marketing: 1 } }
        : index === 13
          ? { ...day, billable: { service: 1 } }
          : day,
    );
    const summary = dailySummary(days);
    expect(summary.billable).toEqual({ total: 4, by_category: { service: 3, marketing: 1 } });
    expect(summary.daily[13]?.billable).toEqual({ total: 1, by_category: { service: 1 } });
  });

  it('given no answers, then no shares (null, not a division by zero)', () => {
    expect(dailySummary(series(() => counters(2))).answer_shares).toBeNull();
  });
});

describe('the daily chart (SVG)', () => {
  const busy = dailySummary(series((index) => counters(index, { openai: index % 3, faq: index % 2 })));

  it('draws a received and an answered bar for each of the 14 days, labelled in Spanish', () => {
    const svg = dailyChartSvg({ title: 'Restaurante La Plaza', lang: 'es', summary: busy });
    expect(count(svg, /class="bar received"/g)).toBe(14);
    expect(count(svg, /class="bar answered"/g)).toBe(14);
    expect(svg).toContain('data-date="2026-11-19"');
    expect(svg).toContain('data-date="2026-12-02"');
    expect(svg).toContain('>19 nov<');
    expect(svg).toContain('>2 dic<');
    // The tallest bar (13 received) reaches the top of the axis (4 steps of 5: 20 at most).
    expect(axisMax(13)).toBe(20);
    expect(svg).toMatch(/>20<\/text>/);
  });

  it('is accessible: role img, a title and a description in words, no script', () => {
    const svg = dailyChartSvg({ title: 'Restaurante La Plaza', lang: 'es', summary: busy });
    expect(svg).toMatch(
      /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg" role="img" aria-labelledby="chart-title chart-desc"/,
    );
    expect(svg).toContain(
      '<title id="chart-title">Restaurante La Plaza: Mensajes por día, últimos 14 días (UTC)</title>',
    );
    const desc = /<desc id="chart-desc">([^<]*)<\/desc>/.exec(svg)?.[1];
    expect(desc).toContain(
      `Mensajes recibidos en los últimos 14 días: ${busy.messages_in}; respondidos: ${busy.answered}.`,
    );
    expect(desc).toContain('OpenAI');
    expect(svg).not.toMatch(/<script|on\w+=|javascript:|<foreignObject|style=/i);
  });

  it('escapes every text it is given', () => {
    const title = '<script>alert("x")</script> & Co\'s';
    const svg = dailyChartSvg({ title, lang: 'en', summary: busy });
    expect(svg).not.toContain('<script>');
    expect(svg).toContain(
      '&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; Co&#39;s: Messages per day',
    );
    expect(svg).toContain('<title id="chart-title">&lt;script&gt;');
  });

  it('given no messages at all, then 14 empty bars, no shares, and says so', () => {
    const svg = dailyChartSvg({
      title: 'Nueva',
      lang: 'es',
      summary: dailySummary(series(() => counters(0))),
    });
    expect(count(svg, /class="bar received"[^>]*height="0"/g)).toBe(14);
    expect(count(svg, /class="bar answered"[^>]*height="0"/g)).toBe(14);
    expect(svg).not.toContain('class="share');
    expect(svg).toContain('Sin mensajes en estos días.');
    expect(svg).toContain('Todavía no hay respuestas.');
    expect(svg).not.toContain('NaN');
    expect(svg).not.toContain('Infinity');
  });

  it('draws the shares of the answers as one bar whose parts add up to its width', () => {
    const summary = dailySummary(
      series((index) => (index === 0 ? counters(4, { openai: 1, faq: 1, declined: 2 }) : counters(0))),
    );
    const svg = dailyChartSvg({ title: 'X', lang: 'en', summary });
    const widths = [...svg.matchAll(/class="share (\w+)"[^>]*width="([\d.]+)"/g)].map((m) => [
      m[1],
      Number(m[2]),
    ]);
    expect(widths.map(([kind]) => kind)).toEqual(['openai', 'faq', 'declined']);
    expect(widths.reduce((sum, [, width]) => sum + Number(width), 0)).toBeCloseTo(648, 0);
    expect(svg).toContain('Declined: 50% (2)');
  });

  it('is served as a private SVG that may load nothing', () => {
    const response = svgResponse('<svg/>');
    expect(response.headers).toMatchObject({
      'content-type': 'image/svg+xml; charset=utf-8',
      'cache-control': 'private, no-store',
      'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
      'x-content-type-options': 'nosniff',
    });
  });
});
