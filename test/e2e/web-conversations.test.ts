import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { SIMULATOR_TOKEN_HEADER } from '../../infra/local/simulator-token.ts';
import { type LocalStack, startLocalStack } from '../../infra/local/stack.ts';
import { screenshotPath, seriousA11yViolations, startBrowser, type TestBrowser } from '../support/browser.ts';
import { uniqueName } from '../support/emulators.ts';
import { laPlazaFaqs } from '../support/fixtures.ts';

/**
 * The conversation behaviours of the pages, in a real browser (Debian's Chromium) against the local
 * stack: the business sets how long its assistant waits for a burst and how long it keeps quiet
 * after a person wrote, and the template for replies outside the 24-hour window, on its landing
 * page (the API's reasons next to the fields); it takes a chat over and hands it back, and sees a
 * chat whose customer asked for a person (in so many words) flagged; the operator sets the same settings in the
 * console's client form and takes over and hands back a chat there too.
 */

const OPERATOR_KEY = 'web-conversations-operator-key';
const PHONE_ID = '771000401';
const CUSTOMER = '34611999401';
const ASKS_FOR_PERSON = '34611999402';

// Evaluated in the page by playwright: this file is compiled without the DOM's types.
declare const document: any;

let stack: LocalStack;
let browser: TestBrowser;
let context: BrowserContext;
let page: Page;
let clientId: string;
let apiKey: string;
let anaContact: string;

async function call(key: string, method: string, path: string, body?: unknown) {
  const res = await fetch(`${stack.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const raw = await res.text();
  return { status: res.status, body: (raw ? JSON.parse(raw) : undefined) as any, raw };
}
const operator = (method: string, path: string, body?: unknown) => call(OPERATOR_KEY, method, path, body);
const tenant = (method: string, path: string, body?: unknown) => call(apiKey, method, path, body);

async function eventually<T>(probe: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const start = Date.now();
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() - start > timeoutMs) throw new Error('timed out waiting');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** A customer writes on WhatsApp; the conversation's contact key, once it is listed. */
async function customerWrites(from: string, name: string, text: string) {
  const res = await fetch(`${stack.url}/simulator/api/messages`, {
    method: 'POST',
    headers: { [SIMULATOR_TOKEN_HEADER]: stack.simulator!.apiToken, 'content-type': 'application/json' },
    body: JSON.stringify({ phone_number_id: PHONE_ID, from, name, text }),
  });
  const sent = (await res.json()) as any;
  expect(sent.webhook_status, JSON.stringify(sent)).toBe(200);
  // Its key is the business-scoped user id the simulator sends along with the wa_id.
  const contact = await eventually(async () => {
    const { body } = await operator('GET', `/clients/${clientId}/conversations`);
    return body.conversations.find((c: { wa_id: string }) => c.wa_id === from)?.contact as string | undefined;
  });
  await stack.drained();
  return contact;
}

/** The time of day a page in es-ES shows for an instant (the browser runs in UTC, see below). */
const hhmm = (iso: string) =>
  new Intl.DateTimeFormat('es-ES', { hour: '2-digit', minute: '2-digit', timeZone: 'UTC' }).format(
    new Date(iso),
  );

async function expectNoSeriousViolations() {
  const violations = await seriousA11yViolations(page);
  expect(violations, JSON.stringify(violations, null, 2)).toEqual([]);
}

/** The page's own status line of a form, once it says something. */
async function statusOf(id: string) {
  await page.waitForFunction((el) => document.getElementById(el)?.textContent !== '', id);
  return (await page.locator(`#${id}`).textContent()) ?? '';
}

beforeAll(async () => {
  [stack, browser] = await Promise.all([
    startLocalStack({
      port: 0,
      dynamoEndpoint: inject('dynamoEndpoint'),
      sqsEndpoint: inject('sqsEndpoint'),
      namePrefix: uniqueName('webconv'),
      seedDemo: false,
      retryDelaySeconds: 1,
      env: { OPERATOR_API_KEY: OPERATOR_KEY, OPENAI_API_KEY: '' },
    }),
    startBrowser(),
  ]);
  const created = await operator('POST', '/clients', {
    name: 'Restaurante La Plaza',
    phone_number: '+34666777401',
    phone_number_id: PHONE_ID,
    faqs: laPlazaFaqs,
    // Every message answered at once: the chats below are set up without waiting for a burst.
    reply_delay_seconds: 0,
    // The WhatsApp Business Account its templates are read from and checked against.
    waba_id: '100200300400',
  });
  expect(created.status, created.raw).toBe(201);
  clientId = created.body.id;
  const key = await operator('POST', `/clients/${clientId}/api-keys`);
  expect(key.status).toBe(201);
  apiKey = key.body.api_key;
  anaContact = await customerWrites(CUSTOMER, 'Ana', laPlazaFaqs[0]!.q);

  context = await browser.browser.newContext({
    viewport: { width: 900, height: 900 },
    locale: 'es-ES',
    timezoneId: 'UTC',
  });
  page = await context.newPage();
  // Shorter than the test's own limit, so a wait that fails says which.
  page.setDefaultTimeout(15_000);
  page.on('dialog', (dialog) => dialog.accept());
}, 60_000);

afterAll(async () => {
  await context?.close().catch(() => undefined);
  await browser?.stop();
  await stack?.stop();
});

/** The business's landing page, signed in with its key. */
async function openLanding() {
  await page.goto(`${stack.url}/client/${(await tenant('GET', '/tenant')).body.slug}`);
  await page.waitForSelector('#landing[data-ready="true"]');
  if (await page.isVisible('#sign-in')) {
    await page.fill('#sign-in-key', apiKey);
    await page.click('#sign-in-button');
  }
  await page.waitForSelector('#tenant-panel', { state: 'visible' });
}

describe("the conversation settings on the business's landing page", () => {
  it('shows the current settings, and saves only what changed: GET /tenant has it', async () => {
    await openLanding();
    expect(await page.inputValue('#reply-delay')).toBe('0');
    expect(await page.inputValue('#handoff-minutes')).toBe('60');
    // Each hint is the field's description.
    expect(await page.getAttribute('#reply-delay', 'aria-describedby')).toBe('reply-delay-hint');
    expect(await page.textContent('#reply-delay-hint')).toMatch(/los contesta juntos/);
    expect(await page.getAttribute('#handoff-minutes', 'aria-describedby')).toBe('handoff-hint');

    const patches: unknown[] = [];
    page.on('request', (request) => {
      if (request.method() === 'PATCH' && new URL(request.url()).pathname === '/tenant') {
        patches.push(request.postDataJSON());
      }
    });
    await page.fill('#reply-delay', '5');
    await page.fill('#handoff-minutes', '120');
    await page.click('#settings-form button[type="submit"]');
    expect(await statusOf('settings-status')).toBe('Guardado.');
    expect(patches).toEqual([{ reply_delay_seconds: 5, handoff_minutes: 120 }]);
    const saved = (await tenant('GET', '/tenant')).body;
    expect([saved.reply_delay_seconds, saved.handoff_minutes]).toEqual([5, 120]);
  });

  it("shows the API's reason next to an out-of-range value, and saves nothing", async () => {
    await page.fill('#reply-delay', '31');
    await page.click('#settings-form button[type="submit"]');
    const error = page.locator('#reply-delay + .field-error');
    await error.waitFor();
    expect(await error.textContent()).toMatch(/30/);
    expect(await page.getAttribute('#reply-delay', 'aria-invalid')).toBe('true');
    expect(await page.getAttribute('#reply-delay', 'aria-describedby')).toContain(
      (await error.getAttribute('id'))!,
    );
    expect(await page.textContent('#settings-status')).toMatch(/reply_delay_seconds/);
    expect((await tenant('GET', '/tenant')).body.reply_delay_seconds).toBe(5);
    await expectNoSeriousViolations();
    await page.locator('#settings-form').screenshot({ path: screenshotPath('landing-settings-error.png') });

    // Set right, the error goes.
    await page.fill('#reply-delay', '0');
    await page.click('#settings-form button[type="submit"]');
    expect(await statusOf('settings-status')).toBe('Guardado.');
    expect(await page.locator('#settings-form .field-error').count()).toBe(0);
    expect(await page.getAttribute('#reply-delay', 'aria-invalid')).toBeNull();
    expect((await tenant('GET', '/tenant')).body.reply_delay_seconds).toBe(0);
  });

  it('names the window template by typing it where GET /tenant/templates is not there, and clears it', async () => {
    // The route answering 404 (a deployment without it): the name and language are typed.
    await page.route('**/tenant/templates', (route) =>
      route.fulfill({ status: 404, contentType: 'application/json', body: '{"message":"not found"}' }),
    );
    await page.reload();
    await page.waitForSelector('#tenant-panel', { state: 'visible' });
    await page.locator('#template-name').waitFor({ state: 'visible' });
    expect(await page.isVisible('#template-select')).toBe(false);

    // A language Meta does not spell so: the API's reason next to the language.
    await page.fill('#template-name', 'respuesta_pendiente');
    await page.fill('#template-language', 'Spanish');
    await page.click('#template-form button[type="submit"]');
    const error = page.locator('#template-language + .field-error');
    await error.waitFor();
    expect(await error.textContent()).toMatch(/language code/);
    expect(await page.getAttribute('#template-language', 'aria-invalid')).toBe('true');
    expect((await tenant('GET', '/tenant')).body.window_template).toBeNull();

    await page.fill('#template-language', 'es');
    await page.click('#template-form button[type="submit"]');
    expect(await statusOf('template-status')).toBe('Guardado.');
    expect((await tenant('GET', '/tenant')).body.window_template).toEqual({
      name: 'respuesta_pendiente',
      language: 'es',
    });
    await expectNoSeriousViolations();

    // Both emptied: no template (null).
    await page.fill('#template-name', '');
    await page.fill('#template-language', '');
    await page.click('#template-form button[type="submit"]');
    await page.waitForFunction(() => document.getElementById('template-status')?.textContent === 'Guardado.');
    expect((await tenant('GET', '/tenant')).body.window_template).toBeNull();
    await page.unroute('**/tenant/templates');
  });

  it('offers the approved templates in a list where GET /tenant/templates lists them', async () => {
    // What the route answers for a WABA with two approved templates and one still in review.
    await page.route('**/tenant/templates', (route) =>
      route.fulfill({
        status: 200,
        contentType: 'application/json',
        body: JSON.stringify({
          templates: [
            { name: 'respuesta_pendiente', language: 'es', status: 'APPROVED', category: 'UTILITY' },
            { name: 'pending_reply', language: 'en', status: 'APPROVED', category: 'UTILITY' },
            { name: 'oferta_semanal', language: 'es', status: 'PENDING', category: 'MARKETING' },
          ],
        }),
      }),
    );
    await page.reload();
    await page.waitForSelector('#tenant-panel', { state: 'visible' });
    await page.locator('#template-select').waitFor({ state: 'visible' });
    expect(await page.isVisible('#template-name')).toBe(false);
    const options = await page.locator('#template-select option').allTextContents();
    expect(options).toEqual(['Ninguna', 'respuesta_pendiente · es', 'pending_reply · en']);
    await page.selectOption('#template-select', { label: 'pending_reply · en' });
    await page.click('#template-form button[type="submit"]');
    expect(await statusOf('template-status')).toBe('Guardado.');
    expect((await tenant('GET', '/tenant')).body.window_template).toEqual({
      name: 'pending_reply',
      language: 'en',
    });
    expect(await page.inputValue('#template-select')).toBe('pending_reply|en');
    await expectNoSeriousViolations();
    await page.locator('#template-form').screenshot({ path: screenshotPath('landing-template.png') });

    await page.selectOption('#template-select', '');
    await page.click('#template-form button[type="submit"]');
    await page.waitForFunction(() => document.getElementById('template-status')?.textContent === 'Guardado.');
    expect((await tenant('GET', '/tenant')).body.window_template).toBeNull();
    await page.unroute('**/tenant/templates');
  });
  it("lists the WABA's own approved templates (GET /tenant/templates), and refuses one it does not approve next to its name", async () => {
    // The real route: the simulator's WABA has two approved templates and one in review.
    await openLanding();
    await page.locator('#template-select').waitFor({ state: 'visible' });
    expect(await page.locator('#template-select option').allTextContents()).toEqual([
      'Ninguna',
      'respuesta_pendiente · es',
      'pending_reply · en',
    ]);
    expect(await page.textContent('#template-unavailable')).toBe('');

    // Typed where the list is not there: a name the WABA does not approve is the API's 400.
    await page.route('**/tenant/templates', (route) =>
      route.fulfill({ status: 404, contentType: 'application/json', body: '{"message":"not found"}' }),
    );
    await page.reload();
    await page.locator('#template-name').waitFor({ state: 'visible' });
    await page.fill('#template-name', 'no_aprobada');
    await page.fill('#template-language', 'es');
    await page.click('#template-form button[type="submit"]');
    const error = page.locator('#template-name + .field-error');
    await error.waitFor();
    expect(await error.textContent()).toMatch(/not an approved template/);
    expect(await page.getAttribute('#template-name', 'aria-invalid')).toBe('true');
    expect(await page.textContent('#template-status')).toMatch(/no_aprobada/);
    expect((await tenant('GET', '/tenant')).body.window_template).toBeNull();
    await page.unroute('**/tenant/templates');
  });

  it('says why the templates cannot be listed for a business without a WABA', async () => {
    expect((await tenant('PATCH', '/tenant', { waba_id: null })).status).toBe(200);
    await openLanding();
    await page.locator('#template-name').waitFor({ state: 'visible' });
    expect(await page.textContent('#template-unavailable')).toMatch(/no waba_id is set/);
    expect((await tenant('PATCH', '/tenant', { waba_id: '100200300400' })).status).toBe(200);
  });
});

describe('the operator console: the settings in the client form', () => {
  it('creates a client with the settings, refuses an out-of-range one next to the field, and edits them', async () => {
    await page.goto(`${stack.url}/console`);
    await page.waitForSelector('#sign-in:not([hidden])');
    await page.fill('#operator-key', OPERATOR_KEY);
    await page.click('#sign-in-form button[type=submit]');
    await page.waitForSelector('#workspace:not([hidden])');

    await page.click('#new-client');
    await page.fill('#f-name', 'Floristería Luna');
    await page.fill('#f-phone_number', '+34666777402');
    await page.fill('#f-phone_number_id', '771000402');
    await page.fill('#faq-rows [data-faq="q"]', '¿Hacéis ramos de novia?');
    await page.fill('#faq-rows [data-faq="a"]', 'Sí, por encargo con una semana de antelación.');
    expect(await page.getAttribute('#f-reply_delay_seconds', 'aria-describedby')).toBe(
      'f-reply_delay_seconds-hint f-reply_delay_seconds-error',
    );
    await page.fill('#f-reply_delay_seconds', '8');
    await page.fill('#f-handoff_minutes', '20000');
    await page.click('#client-form-submit');
    await page.waitForSelector('#f-handoff_minutes-error:not([hidden])');
    expect(await page.textContent('#f-handoff_minutes-error')).toMatch(/10080/);
    expect(await page.getAttribute('#f-handoff_minutes', 'aria-invalid')).toBe('true');
    await expectNoSeriousViolations();

    await page.fill('#f-handoff_minutes', '30');
    await page.click('#client-form-submit');
    await page.waitForFunction(() =>
      document.getElementById('notice').textContent.includes('Floristería Luna'),
    );
    const listed = (await operator('GET', '/clients')).body.clients.find(
      (c: { name: string }) => c.name === 'Floristería Luna',
    );
    const created = (await operator('GET', `/clients/${listed.id}`)).body;
    expect([created.reply_delay_seconds, created.handoff_minutes]).toEqual([8, 30]);

    // Edited: the form shows them, and sends only what changed.
    const row = page.locator('#clients-body tr', { hasText: 'Floristería Luna' });
    await row.getByRole('button', { name: 'Gestionar Floristería Luna' }).click();
    await page.waitForSelector('#details:not([hidden])');
    expect(await page.textContent('#details-facts')).toContain('8 s');
    await page.click('#action-edit');
    await page.waitForSelector('#client-form-section:not([hidden])');
    expect(await page.inputValue('#f-reply_delay_seconds')).toBe('8');
    expect(await page.inputValue('#f-handoff_minutes')).toBe('30');
    const patches: unknown[] = [];
    const onRequest = (request: import('playwright-core').Request) => {
      if (request.method() === 'PATCH') patches.push(request.postDataJSON());
    };
    page.on('request', onRequest);
    await page.fill('#f-reply_delay_seconds', '0');
    await page.click('#client-form-submit');
    await page.waitForFunction(() => document.getElementById('notice').textContent.includes('guardados'));
    page.off('request', onRequest);
    expect(patches).toEqual([{ reply_delay_seconds: 0 }]);
    const edited = (await operator('GET', `/clients/${listed.id}`)).body;
    expect([edited.reply_delay_seconds, edited.handoff_minutes]).toEqual([0, 30]);
    await page.locator('#details-facts').waitFor();
    expect(await page.textContent('#details-facts')).toContain('0 s');
  });
});

describe('handed-off chats in the conversation lists', () => {
  const listed = async (contact: string) =>
    (await tenant('GET', '/tenant/conversations')).body.conversations.find(
      (c: { contact: string }) => c.contact === contact,
    );

  it('the business takes a chat over on its landing page: badged until it hands it back', async () => {
    await openLanding();
    const item = page.locator(`#conversation-list .conversation-item[data-contact="${anaContact}"]`);
    await item.waitFor();
    expect(await item.getAttribute('data-handoff')).toBe('');
    expect(await item.locator('.handoff-badge').count()).toBe(0);

    await item.getByRole('button', { name: 'Tomar el control de la conversación con Ana' }).click();
    await page.locator(`.conversation-item[data-contact="${anaContact}"][data-handoff="tenant"]`).waitFor();
    const { handoff } = await listed(anaContact);
    expect(handoff.by).toBe('tenant');
    const badge = (await item.locator('.handoff-badge').textContent()) ?? '';
    expect(badge).toMatch(/^Atendido por una persona hasta /);
    expect(badge).toContain(hhmm(handoff.until));
    expect(await page.textContent('#conversations-status')).toMatch(/^Atiendes tú la conversación con Ana/);
    // The focus stays on the chat's button, which now hands it back.
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Devolver al bot');
    await expectNoSeriousViolations();
    await page.locator('#conversation-list').screenshot({ path: screenshotPath('landing-handoff.png') });

    await item.getByRole('button', { name: 'Devolver al bot la conversación con Ana' }).click();
    await page.locator(`.conversation-item[data-contact="${anaContact}"][data-handoff=""]`).waitFor();
    expect(await item.locator('.handoff-badge').count()).toBe(0);
    expect(await page.textContent('#conversations-status')).toMatch(/^El asistente vuelve a contestar/);
    expect((await listed(anaContact)).handoff).toBeNull();
  });

  it('flags a chat whose customer asked for a person in so many words', async () => {
    // The customer's own words hand the chat off (the assistant tells them a person will answer).
    const contact = await customerWrites(ASKS_FOR_PERSON, 'Luis', 'Quiero hablar con una persona');
    const { handoff } = await eventually(async () => {
      const item = await listed(contact);
      return item?.handoff?.by === 'customer_request' ? item : undefined;
    });

    await openLanding();
    const item = page.locator(`#conversation-list .conversation-item[data-contact="${contact}"]`);
    await item.waitFor();
    expect(await item.getAttribute('data-handoff')).toBe('customer_request');
    const badge = item.locator('.handoff-badge');
    expect(await badge.textContent()).toBe(
      `El cliente pidió hablar con una persona (hasta ${hhmm(handoff.until)})`,
    );
    expect(await badge.getAttribute('class')).toContain('requested');
    expect(await item.getByRole('button', { name: 'Devolver al bot la conversación con Luis' }).count()).toBe(
      1,
    );
    await expectNoSeriousViolations();
  });

  it('the operator takes a chat over in the console and hands it back', async () => {
    await page.goto(`${stack.url}/console`);
    await page.waitForSelector('#sign-in:not([hidden]), #workspace:not([hidden])');
    if (await page.isVisible('#sign-in')) {
      await page.fill('#operator-key', OPERATOR_KEY);
      await page.click('#sign-in-form button[type=submit]');
    }
    await page.waitForSelector('#workspace:not([hidden])');
    const row = page.locator('#clients-body tr', { hasText: 'Restaurante La Plaza' });
    await row.getByRole('button', { name: 'Gestionar Restaurante La Plaza' }).click();
    await page.waitForSelector('#details:not([hidden])');
    await page.click('#load-conversations');
    const item = page.locator(`#conversations-list li[data-contact="${anaContact}"]`);
    await item.waitFor();
    expect(await item.getAttribute('data-handoff')).toBe('');
    // The customer who asked for a person is flagged here too.
    const luis = page.locator('#conversations-list li[data-handoff="customer_request"] .handoff-badge');
    expect(await luis.textContent()).toMatch(/^El cliente pidió hablar con una persona/);

    await item.getByRole('button', { name: /^Tomar el control de la conversación con Ana/ }).click();
    await page
      .locator(`#conversations-list li[data-contact="${anaContact}"][data-handoff="operator"]`)
      .waitFor();
    const { handoff } = await listed(anaContact);
    expect(handoff.by).toBe('operator');
    expect(await item.locator('.handoff-badge').textContent()).toContain(hhmm(handoff.until));
    expect(await page.textContent('#action-result')).toMatch(/la atiende ahora una persona/);
    await expectNoSeriousViolations();

    await item.getByRole('button', { name: /^Devolver al bot la conversación con Ana/ }).click();
    await page.locator(`#conversations-list li[data-contact="${anaContact}"][data-handoff=""]`).waitFor();
    expect(await item.locator('.handoff-badge').count()).toBe(0);
    expect((await listed(anaContact)).handoff).toBeNull();
  });
});

describe('on a phone', () => {
  it('fits a 375 px phone: the settings, the template and the badged list, nothing wider than the screen', async () => {
    await openLanding();
    await page.setViewportSize({ width: 375, height: 812 });
    await page.locator('#conversation-list .conversation-item').first().waitFor();
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(375);
    for (const [selector, name] of [
      ['#settings-form', 'landing-settings-mobile.png'],
      ['#template-form', 'landing-template-mobile.png'],
      ['#conversation-list', 'landing-handoff-mobile.png'],
    ] as const) {
      const box = await page.locator(selector).boundingBox();
      expect(box!.x + box!.width, selector).toBeLessThanOrEqual(375);
      await page.locator(selector).screenshot({ path: screenshotPath(name) });
    }
    await page.setViewportSize({ width: 900, height: 900 });
  });
});
