import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWebHandler, type WebDeps } from '../../functions/web.ts';
import { httpApiEvent, matchPath } from '../../infra/local/lambda-events.ts';
import { QrStatusStore } from '../../lib/qr/qr-status-store.ts';
import { type ShardLease, ShardLeases } from '../../lib/qr/shard-lease.ts';
import { functions } from '../../lib/topology.ts';
import { SESSION_COOKIE } from '../../lib/web/session-store.ts';
import { screenshotPath, seriousA11yViolations, startBrowser, type TestBrowser } from '../support/browser.ts';
import { freshTable } from '../support/emulators.ts';
import { qrClient, SAMPLE_QR } from '../support/qr-landing.ts';

/**
 * A QR tenant's landing page in a real browser (Debian's Chromium): the real web handler (its
 * route table, its pages and scripts) with the tenant's session and its QR status as the ports of
 * WebDeps, the status written by QrStatusStore under a shard lease on DynamoDB Local, as the runner
 * writes it. The tenant API the page calls (/web/session, /tenant…, POST /tenant/qr/…) is a small
 * stand-in here that records what the page sends. The page shows the QR as an SVG; when the runner
 * writes `connected` the panel shows it without a reload; Unlink and "Show a new QR" reach the
 * tenant API with the session's CSRF token.
 */

// Evaluated in the page by playwright: this file is compiled without the DOM's types.
declare const document: any;
declare const window: any;

const SESSION = 'Q'.repeat(32);
const CSRF = 'c'.repeat(32);
const client = qrClient();

let server: Server;
let base: string;
let browser: TestBrowser;
let context: BrowserContext;
let page: Page;
let statuses: QrStatusStore;
let lease: ShardLease;
const output: string[] = [];
const actions: Array<{ method: string; path: string; csrf: string | undefined; cookie: string | undefined }> =
  [];

const cookieValue = (req: IncomingMessage) =>
  /(?:^|;\s*)wa_session=([^;]+)/.exec(req.headers.cookie ?? '')?.[1];

/** The tenant API as the page uses it, for this one tenant. */
function tenantApi(req: IncomingMessage, res: ServerResponse, path: string): boolean {
  const send = (status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  if (!path.startsWith('/tenant') && !path.startsWith('/web/session')) return false;
  if (cookieValue(req) !== SESSION) {
    send(401, { error: 'unauthorized', message: 'the session has ended: sign in again' });
    return true;
  }
  const route = `${req.method} ${path}`;
  if (route === 'GET /web/session') {
    send(200, { kind: 'tenant', csrf_token: CSRF, key_id: 'key-1', client_id: client.id });
  } else if (route === 'GET /tenant') {
    send(200, {
      id: client.id,
      slug: client.slug,
      name: client.name,
      channel: 'qr',
      language: 'es',
      faqs: [],
      bot_enabled: true,
      welcome_message: '',
      business_hours: '',
      assistant_status: 'ready',
      has_whatsapp_access_token: false,
      has_openai_api_key: false,
    });
  } else if (route === 'GET /tenant/api-keys') {
    send(200, { api_keys: [] });
  } else if (route === 'GET /tenant/conversations') {
    send(200, { conversations: [] });
  } else if (route === 'POST /tenant/qr/unlink' || route === 'POST /tenant/qr/start') {
    const csrf = req.headers['x-csrf-token'];
    actions.push({
      method: req.method!,
      path,
      csrf: typeof csrf === 'string' ? csrf : undefined,
      cookie: cookieValue(req),
    });
    if (csrf !== CSRF) send(403, { error: 'forbidden', message: 'missing or wrong x-csrf-token' });
    else send(202, { accepted: true });
  } else {
    send(404, { error: 'not_found', message: `no route ${route}` });
  }
  return true;
}

async function startServer(deps: WebDeps) {
  const handler = createWebHandler(async () => deps);
  server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (tenantApi(req, res, url.pathname)) return;
    const route = functions.web.routes.find(
      (r) => r.method === req.method && matchPath(r.path, url.pathname) !== undefined,
    );
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(req.headers))
      if (typeof value === 'string') headers[name] = value;
    const event = httpApiEvent({
      method: req.method ?? 'GET',
      path: url.pathname,
      headers,
      query: Object.fromEntries(url.searchParams),
      ...(route
        ? { routeKey: `${route.method} ${route.path}`, pathParameters: matchPath(route.path, url.pathname)! }
        : {}),
    });
    handler(event).then(
      (result: APIGatewayProxyStructuredResultV2) => {
        res.writeHead(result.statusCode ?? 200, result.headers as Record<string, string>);
        res.end(result.body ?? '');
      },
      () => {
        res.writeHead(500);
        res.end();
      },
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

beforeAll(async () => {
  // Whatever this process prints (the handler's logs among it) is kept, to look for the QR in it.
  for (const stream of [process.stdout, process.stderr]) {
    const write = stream.write.bind(stream);
    stream.write = ((chunk: unknown, ...rest: never[]) => {
      output.push(String(chunk));
      return write(chunk as string, ...rest);
    }) as typeof stream.write;
  }
  const { aws, tableName } = await freshTable();
  statuses = new QrStatusStore(aws.dynamo, tableName);
  const leases = new ShardLeases(aws.dynamo, tableName, { owner: 'runner-web-test', durationMs: 600_000 });
  lease = (await leases.acquire('0'))!;
  expect(lease).toBeDefined();
  await statuses.writeStatus(
    client.id,
    {
      state: 'qr',
      qr: SAMPLE_QR,
      qr_expires_at: new Date(Date.now() + 60_000).toISOString(),
      restarts: 0,
    },
    lease,
  );
  await startServer({
    clients: { findBySlug: async (slug) => (slug === client.slug ? client : undefined) },
    qrModeAvailable: true,
    tenantSessions: { tenantOf: async (id) => (id === SESSION ? client.id : undefined) },
    qrStatus: { read: (tenantId) => statuses.readStatus(tenantId) },
  });
  browser = await startBrowser();
  context = await browser.browser.newContext({ viewport: { width: 900, height: 900 }, locale: 'es-ES' });
  await context.addCookies([
    { name: SESSION_COOKIE, value: SESSION, url: base, httpOnly: true, sameSite: 'Strict' },
  ]);
  page = await context.newPage();
});

afterAll(async () => {
  await context?.close().catch(() => undefined);
  await browser?.stop();
  await new Promise((resolve) => server?.close(resolve));
});

async function expectNoSeriousViolations(target: Page) {
  const violations = await seriousA11yViolations(target);
  expect(violations, JSON.stringify(violations, null, 2)).toEqual([]);
}

describe("a QR tenant's landing page, in a browser", () => {
  it('shows the signed-in tenant its QR as an SVG, its expiry, and no "not available" hint', async () => {
    await page.goto(`${base}/client/${client.slug}`);
    await page.waitForSelector('#landing[data-ready="true"]');
    await page.waitForSelector('#qr-panel[data-qr-state="qr"] .qr-code svg');
    expect(await page.locator('#qr-state').textContent()).toBe(
      'Escanea este código QR con WhatsApp en tu teléfono.',
    );
    expect(await page.locator('.qr-expiry').textContent()).toMatch(/^Caduca en \d+ s$/);
    expect(await page.locator('#qr-unavailable').count()).toBe(0);
    expect(await page.locator('[data-qr-action]').count()).toBe(0);
    // The QR's text is in no part of the page (the SVG is paths only).
    const content = await page.content();
    expect(content).not.toContain(SAMPLE_QR);
    for (const part of SAMPLE_QR.split(',')) expect(content).not.toContain(part.slice(0, 12));
    await expectNoSeriousViolations(page);
    await page.locator('#qr-panel').screenshot({ path: screenshotPath('landing-qr.png') });
  });

  it('shows the account connected, with its number, once the runner says so, without a reload', async () => {
    await page.evaluate(() => {
      window.notReloaded = true;
    });
    await statuses.writeStatus(client.id, { state: 'linking', restarts: 0 }, lease);
    await statuses.writeStatus(
      client.id,
      { state: 'connected', phone_number: '34600999000', restarts: 0 },
      lease,
    );
    await page.waitForSelector('#qr-panel[data-qr-state="connected"]', { timeout: 20_000 });
    expect(await page.locator('#qr-state').textContent()).toBe('WhatsApp conectado.');
    expect(await page.locator('#qr-phone-number').textContent()).toBe('34600999000');
    expect(await page.locator('.qr-code').count()).toBe(0);
    expect(await page.evaluate(() => window.notReloaded)).toBe(true);
    expect(await page.locator('[data-qr-action="unlink"]').textContent()).toBe('Desvincular');
    await expectNoSeriousViolations(page);
    await page.locator('#qr-panel').screenshot({ path: screenshotPath('landing-qr-connected.png') });
  });

  it('sends Unlink to the tenant API with the session and its CSRF token', async () => {
    await page.click('[data-qr-action="unlink"]');
    await page.waitForFunction(() => document.getElementById('qr-status')?.textContent?.startsWith('Pedido'));
    expect(actions).toEqual([{ method: 'POST', path: '/tenant/qr/unlink', csrf: CSRF, cookie: SESSION }]);
    expect(await page.locator('#qr-status').textContent()).toBe('Pedido: se desvinculará la cuenta.');
  });

  it('offers a new QR once the account is logged out, and asks the tenant API for it', async () => {
    await statuses.writeStatus(client.id, { state: 'logged_out', restarts: 0 }, lease);
    await page.waitForSelector('#qr-panel[data-qr-state="logged_out"]', { timeout: 20_000 });
    expect(await page.locator('#qr-state').textContent()).toBe('La cuenta se desvinculó desde el teléfono.');
    await page.click('[data-qr-action="start"]');
    await page.waitForFunction(() => document.getElementById('qr-status')?.textContent?.includes('QR nuevo'));
    expect(actions.at(-1)).toEqual({ method: 'POST', path: '/tenant/qr/start', csrf: CSRF, cookie: SESSION });
    // A new QR, written by the runner, shows by itself too.
    await statuses.writeStatus(
      client.id,
      {
        state: 'qr',
        qr: `${SAMPLE_QR}-2`,
        qr_expires_at: new Date(Date.now() + 60_000).toISOString(),
        restarts: 0,
      },
      lease,
    );
    await page.waitForSelector('#qr-panel[data-qr-state="qr"] .qr-code svg', { timeout: 20_000 });
    expect(await page.evaluate(() => window.notReloaded)).toBe(true);
  });

  it('shows nothing of the QR to a browser without the session', async () => {
    const anonymous = await browser.browser.newContext();
    const other = await anonymous.newPage();
    const res = await other.goto(`${base}/client/${client.slug}/qr`);
    expect(res?.status()).toBe(401);
    await other.goto(`${base}/client/${client.slug}`);
    await other.waitForSelector('#landing[data-ready="true"]');
    expect(await other.locator('#qr-panel-slot').isVisible()).toBe(false);
    expect(await other.locator('svg').count()).toBe(0);
    await anonymous.close();
  });

  it('never wrote the QR text to the output', () => {
    const printed = output.join('');
    expect(printed).not.toContain(SAMPLE_QR);
    for (const part of SAMPLE_QR.split(',')) expect(printed).not.toContain(part.slice(0, 12));
  });
});
