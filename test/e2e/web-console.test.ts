import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { SIMULATOR_TOKEN_HEADER } from '../../infra/local/simulator-token.ts';
import { type LocalStack, startLocalStack } from '../../infra/local/stack.ts';
import { screenshotPath, seriousA11yViolations, startBrowser, type TestBrowser } from '../support/browser.ts';
import { uniqueName } from '../support/emulators.ts';
import { laPlazaFaqs } from '../support/fixtures.ts';

/**
 * The operator console in a real browser (Debian's Chromium) against the local stack as it runs out
 * of the box (the WhatsApp simulator, the SES emulator's inbox; answers from the FAQs): the operator
 * signs in with its key, sees its clients with their state and statistics and the 14-day chart,
 * creates a client with an e-mail (the invitation lands in the inbox), deactivates and reactivates
 * it from the table; a wrong key, a tenant's key and a forged request without the CSRF token are
 * refused; axe-core finds no serious or critical violation signed out or in.
 */

const OPERATOR_KEY = 'web-console-operator-key';
const SEEDED = { name: 'Panadería Sol', phone_number: '+34666777301', phone_number_id: '771000301' };
const CREATED = {
  name: 'Floristería Luna',
  phone: '+34666777302',
  phoneId: '771000302',
  email: 'luna@floristeria.example',
};

let stack: LocalStack;
let browser: TestBrowser;
let context: BrowserContext;
let page: Page;
let seededId: string;

async function operator(method: string, path: string, body?: unknown) {
  const res = await fetch(`${stack.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${OPERATOR_KEY}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const raw = await res.text();
  return { status: res.status, body: (raw ? JSON.parse(raw) : undefined) as any };
}

async function chat(method: string, path: string, body?: unknown) {
  const res = await fetch(`${stack.url}/simulator/api${path}`, {
    method,
    headers: { [SIMULATOR_TOKEN_HEADER]: stack.simulator!.apiToken, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, body: (await res.json()) as any };
}

async function eventually<T>(probe: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const start = Date.now();
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() - start > timeoutMs) throw new Error('timed out waiting');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

// Evaluated in the page by playwright: this file is compiled without the DOM's types.
declare const document: any;
declare const window: any;

/** Runs in the page (a string: this file is compiled without the DOM's types). */
const inPage = <T>(source: string) => page.evaluate(source) as Promise<T>;

const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

/**
 * axe-core on the page as it is. The page's CSP refuses the inline <script> that addScriptTag
 * writes, so axe is evaluated through the DevTools protocol instead (which CSP does not govern).
 */
const a11yViolations = () =>
  seriousA11yViolations(
    new Proxy(page, {
      get: (target, property, receiver) =>
        property === 'addScriptTag'
          ? async () => target.evaluate(axeSource)
          : Reflect.get(target, property, receiver),
    }),
  );

beforeAll(async () => {
  [stack, browser] = await Promise.all([
    startLocalStack({
      port: 0,
      dynamoEndpoint: inject('dynamoEndpoint'),
      sqsEndpoint: inject('sqsEndpoint'),
      namePrefix: uniqueName('console'),
      withSes: true,
      seedDemo: false,
      retryDelaySeconds: 1,
      env: { OPERATOR_API_KEY: OPERATOR_KEY, OPENAI_API_KEY: '' },
    }),
    startBrowser(),
  ]);
  // A client with a customer conversation, so the table and the chart have something to show.
  const seeded = await operator('POST', '/clients', { ...SEEDED, faqs: laPlazaFaqs });
  expect(seeded.status).toBe(201);
  seededId = seeded.body.id;
  const from = '34611222444';
  const sent = await chat('POST', '/messages', {
    phone_number_id: SEEDED.phone_number_id,
    from,
    name: 'Ana',
    text: laPlazaFaqs[0]!.q,
  });
  expect(sent.body.webhook_status).toBe(200);
  await eventually(async () => {
    const { body } = await chat(
      'GET',
      `/conversation?${new URLSearchParams({ phone_number_id: SEEDED.phone_number_id, contact: from })}`,
    );
    return (body.messages as Array<{ direction: string }>).find((message) => message.direction === 'out');
  });
  await stack.drained();

  context = await browser.browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'es-ES' });
  page = await context.newPage();
  page.on('dialog', (dialog) => dialog.accept());
});

afterAll(async () => {
  await context?.close().catch(() => undefined);
  await browser?.stop();
  await stack?.stop();
});

async function signIn(key: string) {
  await page.fill('#operator-key', key);
  await page.click('#sign-in-form button[type=submit]');
}

describe('the operator console', () => {
  it('opens signed out, in Spanish, with no serious accessibility violation', async () => {
    const response = await page.goto(`${stack.url}/console`);
    expect(response!.status()).toBe(200);
    expect(response!.headers()['content-security-policy']).not.toContain('unsafe-inline');
    await page.waitForSelector('#sign-in:not([hidden])');
    expect(await page.getAttribute('html', 'lang')).toBe('es');
    expect(await page.textContent('h1')).toBe('Consola del operador');
    expect(await page.isHidden('#workspace')).toBe(true);
    expect(await a11yViolations()).toEqual([]);

    const english = await fetch(`${stack.url}/console`, {
      headers: { 'accept-language': 'en-GB,en;q=0.9,es;q=0.5' },
    });
    const body = await english.text();
    expect(body).toContain('<html lang="en">');
    expect(body).toContain('<h1>Operator console</h1>');
  });

  it('refuses a wrong key with the reason next to the field', async () => {
    await signIn('not-the-operator-key');
    await page.waitForSelector('#operator-key-error:not([hidden])');
    expect(await page.textContent('#operator-key-error')).toContain('not valid');
    expect(await page.getAttribute('#operator-key', 'aria-invalid')).toBe('true');
    expect(await page.isHidden('#workspace')).toBe(true);
  });

  it("refuses a tenant's key: the console is the operator's, and the tenant's session is ended", async () => {
    const key = await operator('POST', `/clients/${seededId}/api-keys`);
    expect(key.status).toBe(201);
    await signIn(key.body.api_key);
    await page.waitForFunction(() => document.getElementById('alert').textContent.includes('operador'));
    expect(await page.isHidden('#workspace')).toBe(true);
    const session = await inPage<number>(`fetch('/web/session').then((r) => r.status)`);
    expect(session).toBe(401);
    expect(await inPage<number>('localStorage.length + sessionStorage.length')).toBe(0);
  });

  it('signs the operator in: totals, the clients with their statistics, the chart', async () => {
    await signIn(OPERATOR_KEY);
    await page.waitForSelector('#workspace:not([hidden])');
    expect(await page.inputValue('#operator-key')).toBe('');
    const row = page.locator('#clients-body tr', { hasText: SEEDED.name });
    await row.waitFor();
    expect(await page.textContent('#total-clients')).toBe('1');
    expect(await page.textContent('#total-active')).toBe('1');
    expect(await page.textContent('#total-connected')).toBe('1');
    const cells = await row.locator('td').allTextContents();
    // number, channel, active, connected, assistant, invitation, messages, answers, fallback rate, last
    expect(cells.slice(0, 9)).toEqual([
      SEEDED.phone_number,
      'Cloud API',
      'Activo',
      'Conectado',
      'Listo',
      'Sin invitar',
      '1',
      '1',
      '0\u00a0%',
    ]);
    expect(cells[9]).not.toBe('—');

    await page.waitForFunction(() => {
      const img = document.getElementById('chart');
      return img?.complete && img.naturalWidth > 0;
    });
    const svg = await inPage<{ status: number; type: string; body: string }>(
      `fetch('/admin/stats/chart.svg').then(async (r) => ({ status: r.status, type: r.headers.get('content-type'), body: await r.text() }))`,
    );
    expect(svg.status).toBe(200);
    expect(svg.type).toContain('image/svg+xml');
    expect(svg.body).toMatch(/<title id="chart-title">Todos los clientes: Mensajes por día/);
    expect(svg.body).not.toContain('<script');
    await page.waitForFunction(() =>
      document.getElementById('chart-summary').textContent.includes('Mensajes recibidos en 14 días: 1;'),
    );
    expect(await a11yViolations()).toEqual([]);
  });

  it('creates a client with FAQs and an e-mail from the form: it is in the table and invited', async () => {
    await page.click('#new-client');
    await page.fill('#f-name', CREATED.name);
    await page.fill('#f-phone_number', '666'); // not E.164: the API's reason shows next to the field
    await page.fill('#f-phone_number_id', CREATED.phoneId);
    await page.fill('#f-email', CREATED.email);
    await page.fill('#faq-rows [data-faq="q"]', '¿Hacéis ramos de novia?');
    await page.fill('#faq-rows [data-faq="a"]', 'Sí, por encargo con una semana de antelación.');
    await page.click('#add-faq');
    await page.locator('#faq-rows [data-faq="q"]').nth(1).fill('¿Abrís los domingos?');
    await page.locator('#faq-rows [data-faq="a"]').nth(1).fill('Los domingos abrimos de 10 a 14.');
    await page.click('#client-form-submit');
    await page.waitForSelector('#f-phone_number-error:not([hidden])');
    expect(await page.textContent('#f-phone_number-error')).toContain('E.164');
    expect(await a11yViolations()).toEqual([]);

    await page.fill('#f-phone_number', CREATED.phone);
    await page.click('#client-form-submit');
    await page.waitForFunction(
      (email) => document.getElementById('notice').textContent.includes(email),
      CREATED.email,
    );
    const row = page.locator('#clients-body tr', { hasText: CREATED.name });
    await row.waitFor();
    expect(await row.locator('td').nth(5).textContent()).toBe('Enviada');
    expect(await page.textContent('#total-clients')).toBe('2');

    const res = await fetch(`${stack.sesUrl}/store`);
    const { emails } = (await res.json()) as {
      emails: Array<{ destination: { to: string[] }; body: { text?: string } }>;
    };
    const invitation = emails.find((email) => email.destination.to.includes(CREATED.email));
    expect(invitation?.body.text).toMatch(/\/client\/[A-Za-z0-9]+\?invite=wti_/);

    const listed = await operator('GET', '/clients');
    const created = listed.body.clients.find((client: { name: string }) => client.name === CREATED.name);
    expect(created.faqs).toHaveLength(2);

    await page.fill('#search', 'luna');
    expect(await page.locator('#clients-body tr').count()).toBe(1);
    await page.fill('#search', '');
    await page.screenshot({ path: screenshotPath('console.png'), fullPage: true });
  });

  it('refuses a forged request without the CSRF token (the session cookie alone is not enough)', async () => {
    const forged = await inPage<{ status: number; body: { message: string } }>(`fetch('/clients', {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'Forged', phone_number: '+34666777399', phone_number_id: '771000399', faqs: [{ q: 'a', a: 'b' }] }),
    }).then(async (r) => ({ status: r.status, body: await r.json() }))`);
    expect(forged.status).toBe(403);
    expect(forged.body.message).toContain('x-csrf-token');
    const listed = await operator('GET', '/clients');
    expect(listed.body.clients.map((client: { name: string }) => client.name)).not.toContain('Forged');
  });

  it('deactivates and reactivates a client from the table', async () => {
    const row = page.locator('#clients-body tr', { hasText: CREATED.name });
    await row.getByRole('button', { name: `Desactivar ${CREATED.name}` }).click();
    await row.getByRole('button', { name: `Reactivar ${CREATED.name}` }).waitFor();
    expect(await row.locator('td.client-active').textContent()).toBe('Desactivado');
    expect(await page.textContent('#total-active')).toBe('1');
    const id = await row.getAttribute('data-client-id');
    expect((await operator('GET', `/clients/${id}`)).body.active).toBe(false);

    await page.selectOption('#filter-active', 'inactive');
    expect(await page.locator('#clients-body tr').allTextContents()).toEqual([
      expect.stringContaining(CREATED.name),
    ]);
    await page.selectOption('#filter-active', '');

    await row.getByRole('button', { name: `Reactivar ${CREATED.name}` }).click();
    await row.getByRole('button', { name: `Desactivar ${CREATED.name}` }).waitFor();
    expect(await row.locator('td.client-active').textContent()).toBe('Activo');
    expect(await page.textContent('#total-active')).toBe('2');
    expect((await operator('GET', `/clients/${id}`)).body.active).toBe(true);
  });

  it('opens a client: tests its connection, issues a key shown once, reads its conversations', async () => {
    const row = page.locator('#clients-body tr', { hasText: SEEDED.name });
    await row.getByRole('button', { name: `Gestionar ${SEEDED.name}` }).click();
    await page.waitForSelector('#details:not([hidden])');
    await page.click('#action-test');
    await page.waitForSelector('#connection-checks:not([hidden]) li');
    expect(await page.textContent('#connection-checks')).toContain('phone_number');

    await page.click('#action-issue-key');
    await page.waitForSelector('#new-key:not([hidden])');
    expect(await page.inputValue('#new-key-value')).toMatch(/^wta_live_/);
    await page.click('#new-key-done');
    expect(await page.inputValue('#new-key-value')).toBe('');
    expect(await inPage<number>('localStorage.length + sessionStorage.length')).toBe(0);

    await page.click('#load-conversations');
    await page.getByRole('button', { name: /Ver mensajes de Ana/ }).click();
    await page.waitForSelector('#messages:not([hidden]) li.message.inbound');
    expect(await page.textContent('#messages-list')).toContain(laPlazaFaqs[0]!.q);
    await page.screenshot({ path: screenshotPath('console-client.png'), fullPage: true });
    expect(await a11yViolations()).toEqual([]);
  });

  it('edits a client, runs its purge and erases a customer, each after a confirmation', async () => {
    await page.click('#action-edit');
    await page.waitForSelector('#client-form-section:not([hidden])');
    expect(await page.inputValue('#f-name')).toBe(SEEDED.name);
    await page.fill('#f-business_hours', 'De 7:00 a 14:00 todos los días');
    await page.click('#client-form-submit');
    await page.waitForFunction(() => document.getElementById('notice').textContent.includes('guardados'));
    expect((await operator('GET', `/clients/${seededId}`)).body.business_hours).toBe(
      'De 7:00 a 14:00 todos los días',
    );

    await page.click('#action-purge');
    await page.waitForFunction(() => document.getElementById('action-result').textContent.includes('Purga'));
    expect(await page.textContent('#action-result')).toContain('Purga terminada');

    await page.getByRole('button', { name: /Borrar cliente final: Ana/ }).click();
    await page.waitForFunction(() =>
      document.getElementById('action-result').textContent.includes('borrados'),
    );
    await page.waitForFunction(() =>
      document.getElementById('conversations-list').textContent.includes('Todavía no hay conversaciones.'),
    );
    const left = await operator('GET', `/clients/${seededId}/conversations`);
    expect(left.body.conversations).toEqual([]);
  });

  it('fits a phone: the table scrolls on its own, nothing else overflows', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    await page.click('#details-close');
    await page.evaluate(() => {
      window.scrollTo(0, 0);
      document.querySelector('.table-wrap').scrollLeft = 0;
    });
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    await page.screenshot({ path: screenshotPath('console-mobile.png'), fullPage: true });
    expect(await a11yViolations()).toEqual([]);
    await page.setViewportSize({ width: 1280, height: 900 });
  });

  it('signs out', async () => {
    await page.click('#sign-out');
    await page.waitForSelector('#sign-in:not([hidden])');
    expect(await page.isHidden('#workspace')).toBe(true);
    expect(await inPage<number>(`fetch('/clients').then((r) => r.status)`)).toBe(401);
  });
});
