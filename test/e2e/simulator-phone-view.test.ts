import type { BrowserContext, Page, Route } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type StandaloneSimulator, startStandaloneSimulator } from '../../infra/local/whatsapp-simulator.ts';
import { screenshotPath, seriousA11yViolations, startBrowser, type TestBrowser } from '../support/browser.ts';
import { APP_SECRET } from '../unit/simulator-helpers.ts';

/**
 * The chat page's phone view, in a real browser (Debian's Chromium), served by the simulator as it
 * is: a person plays the linked phone of a QR-mode business by hand. The simulator's phone routes
 * are answered here by a stand-in that records each call (method, path, JSON body), so what the
 * page sends is checked: scan a QR, write as a customer, see what the account sent (refreshed by
 * itself), log out.
 */

// Evaluated in the page by playwright: this file is compiled without the DOM's types.
declare const document: any;

const LINKED = '34600999000';
const QR_TEXT = '2@TESTONLYqrref,TESTONLYpub=,TESTONLYid=,TESTONLYadv=';

let sim: StandaloneSimulator;
let browser: TestBrowser;
let context: BrowserContext;
let page: Page;
const calls: Array<{ method: string; path: string; query: string; body: unknown }> = [];
const sent: Array<{ to: string; text: string; at: string }> = [];

async function phoneRoutes(route: Route) {
  const request = route.request();
  const url = new URL(request.url());
  const raw = request.postData();
  calls.push({
    method: request.method(),
    path: url.pathname,
    query: url.search,
    body: raw ? JSON.parse(raw) : undefined,
  });
  const json = (status: number, body: unknown) =>
    route.fulfill({ status, contentType: 'application/json', body: JSON.stringify(body) });
  const key = `${request.method()} ${url.pathname}`;
  if (key === 'GET /simulator/phone/sent') return json(200, sent);
  if (key === 'POST /simulator/phone/scan') return json(200, { linked: true });
  if (key === 'POST /simulator/phone/receive') return json(200, { delivered: true });
  if (key === 'POST /simulator/phone/logout') return json(200, { logged_out: true });
  return json(404, { error: 'not_found', message: 'not found' });
}

const posts = (path: string) => calls.filter((c) => c.method === 'POST' && c.path === path);

beforeAll(async () => {
  [sim, browser] = await Promise.all([startStandaloneSimulator({ appSecret: APP_SECRET }), startBrowser()]);
  context = await browser.browser.newContext({ viewport: { width: 480, height: 900 } });
  page = await context.newPage();
  await page.route('**/simulator/phone/**', phoneRoutes);
});

afterAll(async () => {
  await context?.close().catch(() => undefined);
  await browser?.stop();
  await sim?.stop();
});

describe("the chat page's phone view, in a browser", () => {
  it('opens from its tab, and the chat view hides', async () => {
    await page.goto(`${sim.url}/simulator`);
    expect(await page.locator('#phone-view').isVisible()).toBe(false);
    await page.click('#tab-phone');
    expect(await page.locator('#phone-view').isVisible()).toBe(true);
    expect(await page.locator('#chat-view').isVisible()).toBe(false);
    expect(await page.locator('#tab-phone').getAttribute('aria-pressed')).toBe('true');
  });

  it('asks for the linked number before anything, and sends nothing without it', async () => {
    await page.fill('#phone-qr', QR_TEXT);
    await page.click('#phone-scan-button');
    expect(await page.locator('#phone-status').textContent()).toBe('Enter the linked phone number first.');
    expect(posts('/simulator/phone/scan')).toEqual([]);
  });

  it('scans the QR: POST /simulator/phone/scan {"qr","phone_number"}', async () => {
    await page.fill('#phone-number', LINKED);
    await page.locator('#phone-number').dispatchEvent('change');
    await page.click('#phone-scan-button');
    await page.waitForFunction(() =>
      document.getElementById('phone-status')?.textContent?.startsWith('Scanned'),
    );
    expect(posts('/simulator/phone/scan').map((c) => c.body)).toEqual([
      { qr: QR_TEXT, phone_number: LINKED },
    ]);
    expect(await page.locator('#phone-qr').inputValue()).toBe('');
  });

  it('writes as a customer: POST /simulator/phone/receive {"phone_number","from","text"}', async () => {
    await page.fill('#phone-from', '34611222333');
    await page.fill('#phone-text', '¿Abrís mañana?');
    await page.click('#phone-send');
    await page.waitForFunction(() =>
      document.getElementById('phone-status')?.textContent?.startsWith('Sent to'),
    );
    expect(posts('/simulator/phone/receive').map((c) => c.body)).toEqual([
      { phone_number: LINKED, from: '34611222333', text: '¿Abrís mañana?' },
    ]);
  });

  it('lists what the linked account sent, refreshed by itself: GET /simulator/phone/sent?phone_number=…', async () => {
    sent.push({ to: '34611222333', text: 'Sí, de 9:00 a 14:00.', at: new Date().toISOString() });
    await page.waitForFunction(
      () => document.querySelector('#phone-sent li strong')?.textContent === 'To 34611222333: ',
    );
    expect(await page.locator('#phone-sent li span').first().textContent()).toBe('Sí, de 9:00 a 14:00.');
    const reads = calls.filter((c) => c.method === 'GET' && c.path === '/simulator/phone/sent');
    expect(reads.length).toBeGreaterThan(0);
    for (const read of reads) expect(read.query).toBe(`?phone_number=${LINKED}`);
    // Text from the account is text, never markup.
    sent.push({ to: '34611222333', text: '<img src=x>', at: new Date().toISOString() });
    await page.waitForFunction(() => document.querySelectorAll('#phone-sent li').length === 2);
    expect(await page.locator('#phone-sent img').count()).toBe(0);
    expect(await page.locator('#phone-sent li span').nth(2).textContent()).toBe('<img src=x>');
  });

  it('is accessible, and looks like this', async () => {
    const violations = await seriousA11yViolations(page);
    // Only the phone view and its tabs are this change's; the chat view is hidden here.
    expect(violations, JSON.stringify(violations, null, 2)).toEqual([]);
    await page.screenshot({ path: screenshotPath('simulator-phone.png'), fullPage: true });
  });

  it('logs out from the phone: POST /simulator/phone/logout {"phone_number"}', async () => {
    await page.click('#phone-logout');
    await page.waitForFunction(() =>
      document.getElementById('phone-status')?.textContent?.startsWith('Logged out'),
    );
    expect(posts('/simulator/phone/logout').map((c) => c.body)).toEqual([{ phone_number: LINKED }]);
  });

  it('shows a refusal of the simulator with its message', async () => {
    await page.unroute('**/simulator/phone/**');
    await page.route('**/simulator/phone/scan', (route) =>
      route.fulfill({
        status: 409,
        contentType: 'application/json',
        body: JSON.stringify({ error: 'conflict', message: 'this QR is no longer current' }),
      }),
    );
    await page.fill('#phone-qr', 'an old QR');
    await page.click('#phone-scan-button');
    await page.waitForFunction(
      () => document.getElementById('phone-status')?.textContent === 'this QR is no longer current',
    );
    expect(await page.locator('#phone-status').getAttribute('class')).toContain('error');
  });
});
