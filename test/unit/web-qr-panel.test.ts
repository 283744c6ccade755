import QRCode from 'qrcode';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { errorResponse } from '../../lib/http/http-response.ts';
import type { QrState, QrStatus } from '../../lib/qr/qr-status-store.ts';
import type { Client } from '../../lib/tenants/client.ts';
import { landingWords } from '../../lib/web/pages/landing-words.ts';
import { qrPanel } from '../../lib/web/pages/qr-panel.ts';
import { SESSION_COOKIE } from '../../lib/web/session-store.ts';
import { type WebDeps, webRoutes } from '../../lib/web/web-routes.ts';
import { apiEvent } from '../support/api-events.ts';
import { qrClient, SAMPLE_QR } from '../support/qr-landing.ts';

/**
 * The QR panel of a QR tenant's landing page: its state in the tenant's language, the QR drawn as an
 * SVG in state `qr` only, its expiry, the linked number, the buttons of each state; the QR's text in
 * no attribute, no other element and no log line; and the route that serves it to the tenant's own
 * session only.
 */

const NOW = new Date('2026-12-02T12:00:00.000Z');
const EXPIRES = '2026-12-02T12:00:45.000Z';
const STATES: QrState[] = [
  'starting',
  'qr',
  'linking',
  'connected',
  'reconnecting',
  'logged_out',
  'qr_expired',
  'failed',
];

function statusIn(state: QrState): QrStatus {
  if (state === 'qr') return { state, qr: SAMPLE_QR, qr_expires_at: EXPIRES, restarts: 0 };
  const linked = state === 'connected' || state === 'reconnecting' || state === 'linking';
  return { state, restarts: 1, ...(linked ? { phone_number: '34600999000' } : {}) };
}

/** The QR's text and pieces of it long enough to be recognised anywhere. */
const qrFragments = () => [SAMPLE_QR, ...SAMPLE_QR.split(',').map((part) => part.slice(0, 12))];

/** The dark modules an SVG of qrcode's paths draws, as "row,col" (margin removed). */
function darkModules(svg: string, margin: number): Set<string> {
  const d = /<path stroke="#000000" d="([^"]+)"/.exec(svg)?.[1] ?? '';
  const dark = new Set<string>();
  let x = 0;
  let y = 0;
  for (const [, op, a, b] of d.matchAll(/([Mmh])(-?[\d.]+)(?:\s(-?[\d.]+))?/g)) {
    if (op === 'M') [x, y] = [Number(a), Number(b)];
    else if (op === 'm') [x, y] = [x + Number(a), y + Number(b)];
    else {
      for (let i = 0; i < Number(a); i++) dark.add(`${Math.floor(y) - margin},${x + i - margin}`);
      x += Number(a);
    }
  }
  return dark;
}

describe('the QR panel', () => {
  for (const lang of ['es', 'en'] as const) {
    const w = landingWords[lang].qrPanel;
    for (const state of STATES) {
      it(`says in ${lang} where a ${state} session is, with the right parts`, async () => {
        const { html } = await qrPanel(statusIn(state), lang, NOW);
        expect(html).toContain(`data-qr-state="${state}"`);
        expect(html).toContain(w.states[state]);
        expect(html).toContain(w.heading);
        // The SVG in state qr only, with its expiry.
        expect(html.includes('<svg'), state).toBe(state === 'qr');
        expect(html.includes('datetime='), state).toBe(state === 'qr');
        if (state === 'qr') expect(html).toContain(`${w.expiresIn} <time datetime="${EXPIRES}"`);
        // The linked number while a session is linked.
        expect(html.includes('34600999000'), state).toBe(
          state === 'connected' || state === 'reconnecting' || state === 'linking',
        );
        // Unlink while linked; a new QR where the runner waits for the tenant to ask.
        expect(html.includes('data-qr-action="unlink"'), state).toBe(
          ['linking', 'connected', 'reconnecting'].includes(state),
        );
        expect(html.includes('data-qr-action="start"'), state).toBe(
          ['qr_expired', 'logged_out', 'failed'].includes(state),
        );
        if (html.includes('data-qr-action="unlink"')) expect(html).toContain(`>${w.unlink}</button>`);
        if (html.includes('data-qr-action="start"')) expect(html).toContain(`>${w.start}</button>`);
        // The other language's words are nowhere.
        const other = landingWords[lang === 'es' ? 'en' : 'es'].qrPanel;
        expect(html).not.toContain(other.states[state]);
      });
    }
  }

  it('says "Desvincular" and "Mostrar un QR nuevo" in Spanish, "Unlink" and "Show a new QR" in English', () => {
    expect(landingWords.es.qrPanel.unlink).toBe('Desvincular');
    expect(landingWords.es.qrPanel.start).toBe('Mostrar un QR nuevo');
    expect(landingWords.en.qrPanel.unlink).toBe('Unlink');
    expect(landingWords.en.qrPanel.start).toBe('Show a new QR');
  });

  it('draws the QR of the text it was given, and puts the text itself nowhere in the HTML', async () => {
    const { html } = await qrPanel(statusIn('qr'), 'es', NOW);
    for (const fragment of qrFragments()) expect(html).not.toContain(fragment);
    // Not in an attribute in another encoding either.
    expect(html).not.toContain(encodeURIComponent(SAMPLE_QR));
    expect(html).not.toContain(Buffer.from(SAMPLE_QR).toString('base64').slice(0, 16));
    // The SVG is paths only: no text, title or description element, no link.
    const svg = /<svg[\s\S]*<\/svg>/.exec(html)?.[0] ?? '';
    expect(svg).not.toMatch(/<(text|title|desc|a|image|use)\b/);
    // Its dark modules are exactly the QR of SAMPLE_QR (margin 2).
    const expected = QRCode.create(SAMPLE_QR, { errorCorrectionLevel: 'M' }).modules;
    const want = new Set<string>();
    for (let r = 0; r < expected.size; r++)
      for (let c = 0; c < expected.size; c++) if (expected.get(r, c)) want.add(`${r},${c}`);
    expect(darkModules(svg, 2)).toEqual(want);
    // The seconds left to scan it.
    expect(html).toContain('>45 s</time>');
  });

  it('shows no QR when a status of another state carries one (a stale QR outlives nothing)', async () => {
    const { html } = await qrPanel({ state: 'connected', qr: SAMPLE_QR, restarts: 0 }, 'en', NOW);
    expect(html).not.toContain('<svg');
    for (const fragment of qrFragments()) expect(html).not.toContain(fragment);
  });

  it('escapes what the runner reported (a linked number is text, not markup)', async () => {
    const { html } = await qrPanel({ state: 'connected', phone_number: '<b>x</b>', restarts: 0 }, 'en', NOW);
    expect(html).toContain('&lt;b&gt;x&lt;/b&gt;');
    expect(html).not.toContain('<b>x</b>');
  });

  it('shows a session with no status yet as starting, without buttons', async () => {
    const { html } = await qrPanel(undefined, 'en', NOW);
    expect(html).toContain(landingWords.en.qrPanel.states.starting);
    expect(html).not.toContain('data-qr-action');
  });
});

describe('GET /client/{slug}/qr', () => {
  const SESSION = 'S'.repeat(32);
  let client: Client;
  let reads: string[];
  let output: string[];

  const deps = (overrides: Partial<WebDeps> = {}): WebDeps => ({
    clients: { findBySlug: async (slug) => (slug === client.slug ? client : undefined) },
    qrModeAvailable: true,
    tenantSessions: { tenantOf: async (id) => (id === SESSION ? client.id : undefined) },
    qrStatus: {
      read: async (tenantId) => {
        reads.push(tenantId);
        return statusIn('qr');
      },
    },
    ...overrides,
  });

  const get = (d: WebDeps, cookie?: string, slug = client.slug) =>
    webRoutes['GET /client/{slug}/qr']!(
      {
        ...apiEvent('GET', `/client/${slug}/qr`, cookie ? { headers: { cookie } } : {}),
        pathParameters: { slug },
      },
      d,
    ).catch(errorResponse);

  beforeEach(() => {
    client = qrClient();
    reads = [];
    output = [];
    for (const stream of [process.stdout, process.stderr]) {
      const write = stream.write.bind(stream);
      vi.spyOn(stream, 'write').mockImplementation(((chunk: unknown, ...rest: never[]) => {
        output.push(String(chunk));
        return write(chunk as string, ...rest);
      }) as typeof stream.write);
    }
    for (const level of ['log', 'info', 'warn', 'error', 'debug'] as const) {
      vi.spyOn(console, level).mockImplementation((...args: unknown[]) => {
        output.push(args.map(String).join(' '));
      });
    }
  });
  afterEach(() => {
    vi.restoreAllMocks();
    for (const fragment of qrFragments()) expect(output.join('\n')).not.toContain(fragment);
  });

  it("serves the tenant's own session the panel, uncached, under the pages' CSP", async () => {
    const res = await get(deps(), `${SESSION_COOKIE}=${SESSION}`);
    expect(res.statusCode).toBe(200);
    expect(res.headers?.['content-type']).toMatch(/^text\/html/);
    expect(res.headers?.['cache-control']).toBe('no-store');
    expect(res.headers?.['content-security-policy']).toContain("script-src 'self'");
    expect(String(res.body)).toContain('<svg');
    expect(String(res.body)).toContain('id="qr-panel"');
    expect(String(res.body)).not.toContain('<script');
    expect(reads).toEqual([client.id]);
  });

  it('is in the tenant language', async () => {
    client = qrClient({ language: 'en' });
    const res = await get(deps(), `${SESSION_COOKIE}=${SESSION}`);
    expect(String(res.body)).toContain(landingWords.en.qrPanel.states.qr);
  });

  it('refuses anyone else: no session, an unknown one, or another business', async () => {
    expect((await get(deps())).statusCode).toBe(401);
    expect((await get(deps(), `${SESSION_COOKIE}=${'X'.repeat(32)}`)).statusCode).toBe(401);
    const other = deps({ tenantSessions: { tenantOf: async () => 'ANOTHER-TENANT' } });
    expect((await get(other, `${SESSION_COOKIE}=${SESSION}`)).statusCode).toBe(401);
    expect(reads).toEqual([]);
  });

  it('is not there where QR mode is not, nor for a Cloud API business, nor for an unknown page', async () => {
    const cookie = `${SESSION_COOKIE}=${SESSION}`;
    expect((await get(deps({ qrModeAvailable: false }), cookie)).statusCode).toBe(404);
    expect((await get(deps({ qrStatus: undefined }), cookie)).statusCode).toBe(404);
    client = qrClient({ channel: 'cloud_api' });
    expect((await get(deps(), cookie)).statusCode).toBe(404);
    expect((await get(deps(), cookie, 'z'.repeat(26))).statusCode).toBe(404);
    expect(reads).toEqual([]);
  });
});

describe('the landing page and QR mode', () => {
  const page = async (qrModeAvailable: boolean | undefined) => {
    const client = qrClient();
    const d: WebDeps = {
      clients: { findBySlug: async () => client },
      ...(qrModeAvailable === undefined ? {} : { qrModeAvailable }),
    };
    const res = await webRoutes['GET /client/{slug}']!(
      { ...apiEvent('GET', `/client/${client.slug}`), pathParameters: { slug: client.slug } },
      d,
    );
    return String(res.body);
  };

  it('says QR mode is not available, and has no QR panel, where it is not', async () => {
    for (const flag of [undefined, false]) {
      const html = await page(flag);
      expect(html).toContain('id="qr-unavailable"');
      expect(html).toContain(landingWords.es.qrUnavailable);
      expect(html).toContain('data-qr-mode="unavailable"');
      expect(html).not.toContain('qr-panel-slot');
    }
  });

  it('drops that hint and has the QR panel slot where QR mode is available', async () => {
    const html = await page(true);
    expect(html).not.toContain('id="qr-unavailable"');
    expect(html).not.toContain(landingWords.es.qrUnavailable.slice(0, 20));
    expect(html).toContain('aria-describedby="qr-warning"');
    expect(html).toContain('data-qr-mode="available"');
    expect(html).toMatch(/<div id="qr-panel-slot"[^>]*hidden><\/div>/);
    // The public page never carries a QR: the panel comes with the session only.
    expect(html).not.toContain('<svg');
  });
});
