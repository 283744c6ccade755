import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { SIMULATOR_TOKEN_HEADER } from '../../infra/local/simulator-token.ts';
import { type LocalStack, startLocalStack } from '../../infra/local/stack.ts';
import { INVITATION_NOT_VALID } from '../../lib/tenants/onboarding.ts';
import { type FakeOpenAi, startFakeOpenAi } from '../fakes/openai-server.ts';
import { screenshotPath, seriousA11yViolations, startBrowser, type TestBrowser } from '../support/browser.ts';
import { uniqueName } from '../support/emulators.ts';
import { laPlazaFaqs } from '../support/fixtures.ts';

/**
 * The tenant's landing page in a real browser (Debian's Chromium), against the local stack as it
 * runs out of the box (its WhatsApp simulator, the SES emulator's inbox) with a fake OpenAI: the
 * operator creates a business with an e-mail; the business opens the link of the invitation,
 * sees its key once, signs out and in, edits itself in its panel and a customer on WhatsApp gets
 * the change; forged requests are refused; the assistant's status changes on screen, without a
 * reload, when it becomes ready; and another business's page shows nothing of it.
 */

const OPERATOR_KEY = 'web-landing-operator-key';
const EMAIL = 'duena@laplaza-web.example';
const PHONE_A = '771000201';
const PHONE_B = '771000202';
const NEW_WELCOME = '¡Bienvenido a La Plaza! Te atiende nuestro asistente.';

// Evaluated in the page by playwright: this file is compiled without the DOM's types.
declare const document: any;
declare const window: any;
declare const localStorage: any;
declare const sessionStorage: any;
declare const MutationObserver: any;

interface StoredEmail {
  destination: { to: string[] };
  body: { html?: string; text?: string };
}

let stack: LocalStack;
let openai: FakeOpenAi;
let browser: TestBrowser;
let context: BrowserContext;
let page: Page;

beforeAll(async () => {
  openai = await startFakeOpenAi();
  [stack, browser] = await Promise.all([
    startLocalStack({
      port: 0,
      dynamoEndpoint: inject('dynamoEndpoint'),
      sqsEndpoint: inject('sqsEndpoint'),
      namePrefix: uniqueName('web'),
      withSes: true,
      seedDemo: false,
      retryDelaySeconds: 1,
      // The built-in simulator; the assistants are built on the fake OpenAI (pending, then ready).
      env: { OPERATOR_API_KEY: OPERATOR_KEY, OPENAI_API_KEY: openai.key, OPENAI_BASE_URL: openai.url },
    }),
    startBrowser(),
  ]);
  context = await browser.browser.newContext({ viewport: { width: 900, height: 900 }, locale: 'es-ES' });
  page = await context.newPage();
});

afterAll(async () => {
  await context?.close().catch(() => undefined);
  await browser?.stop();
  await stack?.stop();
  await openai?.stop();
});

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

async function eventually<T>(probe: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const start = Date.now();
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() - start > timeoutMs) throw new Error('timed out waiting');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function chat(method: string, path: string, body?: unknown) {
  const res = await fetch(`${stack.url}/simulator/api${path}`, {
    method,
    headers: { [SIMULATOR_TOKEN_HEADER]: stack.simulator!.apiToken, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, body: (await res.json()) as any };
}

/** A fetch made by the page itself (its origin, its cookie), as a forged or scripted request would be. */
function pageFetch(
  target: Page,
  method: string,
  path: string,
  headers: Record<string, string>,
  body?: unknown,
) {
  return target.evaluate(
    async ([m, p, h, b]) => {
      const res = await fetch(p as string, {
        method: m as string,
        headers: h as Record<string, string>,
        credentials: 'same-origin',
        ...(b === undefined ? {} : { body: JSON.stringify(b) }),
      });
      return { status: res.status, body: await res.text() };
    },
    [method, path, headers, body] as const,
  );
}

const visible = (selector: string) => page.locator(selector).isVisible();
const textOf = async (selector: string) => (await page.locator(selector).textContent()) ?? '';

async function expectNoSeriousViolations(target: Page) {
  const violations = await seriousA11yViolations(target);
  expect(violations, JSON.stringify(violations, null, 2)).toEqual([]);
}

describe("a business's landing page, in a browser", () => {
  // The steps build on each other: one business from its invitation to its panel, then another.
  let slugA: string;
  let slugB: string;
  let inviteLink: string;
  let apiKey: string;
  const customer = '34611999001';

  it('is created by the operator with an e-mail, which brings the invitation link', async () => {
    const created = await operator('POST', '/clients', {
      name: 'Restaurante La Plaza',
      phone_number: '+34666777201',
      phone_number_id: PHONE_A,
      faqs: laPlazaFaqs,
      welcome_message: 'Hola, soy el asistente de La Plaza.',
      business_hours: 'L-V: 9:00-22:00',
      email: EMAIL,
    });
    expect(created.status, created.raw).toBe(201);
    slugA = created.body.slug;
    const other = await operator('POST', '/clients', {
      name: 'Sol Hair Salon',
      phone_number: '+34666777202',
      phone_number_id: PHONE_B,
      faqs: [{ q: "Do you cut children's hair?", a: 'Yes, on Saturday mornings.' }],
      language: 'en',
    });
    expect(other.status, other.raw).toBe(201);
    slugB = other.body.slug;

    const inbox = await fetch(`${stack.sesUrl}/store`);
    const { emails } = (await inbox.json()) as { emails: StoredEmail[] };
    const email = emails.find((e) => e.destination.to.includes(EMAIL));
    const match = /(https?:\/\/\S+\/client\/[a-z0-9]+\?invite=[A-Za-z0-9_%]+)/.exec(email?.body.text ?? '');
    expect(match, email?.body.text).not.toBeNull();
    inviteLink = match![1]!;
    expect(new URL(inviteLink).pathname).toBe(`/client/${slugA}`);

    // Its assistant is built on the fake OpenAI meanwhile (pending, then ready).
    await eventually(async () => {
      const { body } = await operator('GET', `/clients/${created.body.id}`);
      return body.assistant_status === 'ready' ? true : undefined;
    });
  });

  it('shows anyone only the public status, with a sign-in form, accessibly', async () => {
    const res = await page.goto(`${stack.url}/client/${slugA}`);
    expect(res?.status()).toBe(200);
    await page.waitForSelector('#landing[data-ready="true"]');
    expect(await page.locator('html').getAttribute('lang')).toBe('es');
    expect(await textOf('h1')).toBe('Restaurante La Plaza');
    const statuses = await page.locator('#public-status li').allInnerTexts();
    expect(statuses).toEqual([
      'Servicio activo',
      'WhatsApp Cloud API',
      'WhatsApp conectado',
      'Asistente listo',
    ]);
    expect(await visible('#sign-in-form')).toBe(true);
    expect(await page.locator('#sign-in-key').getAttribute('type')).toBe('password');
    expect(await page.locator('#sign-in-key').getAttribute('autocomplete')).toBe('off');
    expect(await visible('#tenant-panel')).toBe(false);
    // Nothing of the business beyond its status: no FAQ, no welcome, no number, no e-mail.
    const content = await page.content();
    for (const secret of [laPlazaFaqs[0]!.a, 'Hola, soy el asistente', '+34666777201', EMAIL, PHONE_A]) {
      expect(content).not.toContain(secret);
    }
    await expectNoSeriousViolations(page);
    await page.screenshot({ path: screenshotPath('landing-public.png'), fullPage: true });
  });

  it('answers an unknown page with a plain, accessible 404', async () => {
    const res = await page.goto(`${stack.url}/client/${'z'.repeat(26)}`);
    expect(res?.status()).toBe(404);
    expect(await textOf('h1')).toBe('Página no encontrada');
    await expectNoSeriousViolations(page);
  });

  it('opened from the invitation, shows the key once, starts a session and drops the invite from the address bar', async () => {
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: stack.url });
    await page.goto(inviteLink);
    await page.waitForSelector('#landing[data-ready="true"]');
    // Nothing is accepted until a person clicks (a mail scanner opening the link uses nothing up).
    expect(new URL(page.url()).search).toBe('');
    expect(await textOf('#key-value')).toBe('');
    await page.click('#invite-accept');
    await page.waitForSelector('#landing[data-accepted="true"]');
    apiKey = await textOf('#key-value');
    expect(apiKey).toMatch(/^wta_live_/);
    expect(await textOf('#key-warning')).toMatch(/Solo se muestra esta vez/);
    expect(new URL(page.url()).search).toBe('');
    expect(page.url()).toBe(`${stack.url}/client/${slugA}`);
    expect(await visible('#tenant-panel')).toBe(true);
    expect(await visible('#sign-in')).toBe(false);

    await page.click('#copy-key');
    await page.waitForFunction(() => document.getElementById('copy-status')?.textContent !== '');
    expect(await textOf('#copy-status')).toMatch(/copiada|selecciona/);

    // The key is the tenant's; the session works without it; the browser keeps no key anywhere.
    const own = await call(apiKey, 'GET', '/tenant');
    expect(own.body.slug).toBe(slugA);
    const session = await pageFetch(page, 'GET', '/web/session', {});
    expect(session.status).toBe(200);
    expect(session.body).not.toContain(apiKey);
    const stored = await page.evaluate(() => [localStorage.length, sessionStorage.length, document.cookie]);
    expect(stored).toEqual([0, 0, '']);
  });

  it('refuses the same invitation a second time with the API reason', async () => {
    const fresh = await context.browser()!.newContext();
    const other = await fresh.newPage();
    await other.goto(inviteLink);
    await other.waitForSelector('#landing[data-ready="true"]');
    await other.click('#invite-accept');
    await other.waitForSelector('#landing[data-accepted="true"]');
    expect(await other.locator('#page-error').textContent()).toBe(INVITATION_NOT_VALID);
    expect(await other.locator('#key-value').textContent()).toBe('');
    expect(await other.locator('#sign-in').isVisible()).toBe(true);
    expect(new URL(other.url()).search).toBe('');
    await fresh.close();
  });

  it('signs out, refuses a wrong key with the reason, and signs in again with the key', async () => {
    await page.click('#key-stored');
    expect(await visible('#key-once')).toBe(false);
    await page.click('#sign-out');
    await page.waitForSelector('#sign-in', { state: 'visible' });
    expect(await visible('#tenant-panel')).toBe(false);
    expect(await textOf('#page-message')).toBe('Has cerrado la sesión.');
    expect((await pageFetch(page, 'GET', '/web/session', {})).status).toBe(401);
    expect(await page.content()).not.toContain(laPlazaFaqs[0]!.a);

    // A well-formed key nobody holds (built here: a literal would look like a leaked key to the scanner).
    await page.fill('#sign-in-key', ['wta', 'live', 'notakey', '0'.repeat(32)].join('_'));
    await page.click('#sign-in-button');
    await page.waitForFunction(() => document.getElementById('sign-in-error')?.textContent !== '');
    expect(await textOf('#sign-in-error')).toMatch(/not valid/);
    expect(await page.locator('#sign-in-key').getAttribute('aria-invalid')).toBe('true');
    expect(await visible('#tenant-panel')).toBe(false);

    await page.fill('#sign-in-key', apiKey);
    await page.click('#sign-in-button');
    await page.waitForSelector('#tenant-panel', { state: 'visible' });
    expect(await page.locator('#sign-in-key').inputValue()).toBe('');
    expect(await page.locator('#welcome-message').inputValue()).toBe('Hola, soy el asistente de La Plaza.');
    expect(await page.locator('.faq-q').count()).toBe(laPlazaFaqs.length);
  });

  it('saves a new welcome message, and a customer writing on WhatsApp gets it', async () => {
    await page.fill('#welcome-message', NEW_WELCOME);
    await page.click('#settings-form button[type="submit"]');
    await page.waitForFunction(() => document.getElementById('settings-status')?.textContent === 'Guardado.');
    expect((await call(apiKey, 'GET', '/tenant')).body.welcome_message).toBe(NEW_WELCOME);

    const sent = await chat('POST', '/messages', {
      phone_number_id: PHONE_A,
      from: customer,
      name: 'Ana',
      text: '¿Abrís el domingo?',
    });
    expect(sent.status).toBe(200);
    const welcome = await eventually(async () => {
      const { body } = await chat(
        'GET',
        `/conversation?${new URLSearchParams({ phone_number_id: PHONE_A, contact: customer })}`,
      );
      return (body.messages as Array<{ direction: string; text: string }>).find(
        (m) => m.direction === 'out' && m.text === NEW_WELCOME,
      );
    });
    expect(welcome.text).toBe(NEW_WELCOME);

    // The conversation shows in the panel, with its messages.
    await eventually(async () => {
      await page.click('#refresh-conversations');
      return (await page.locator('#conversation-list button.conversation').count()) > 0 ? true : undefined;
    });
    await page.locator('#conversation-list button.conversation').first().click();
    await page.waitForSelector('#messages', { state: 'visible' });
    await eventually(async () => {
      const texts = await page.locator('#message-list .message-text').allInnerTexts();
      if (texts.includes(NEW_WELCOME) && texts.includes('¿Abrís el domingo?')) return texts;
      await page.locator('#conversation-list button.conversation').first().click();
      return undefined;
    });
  });

  it('refuses a forged request: PATCH /tenant without the CSRF token, or with a wrong one, is 403', async () => {
    const json = { 'content-type': 'application/json' };
    const without = await pageFetch(page, 'PATCH', '/tenant', json, { welcome_message: 'forged' });
    expect(without.status).toBe(403);
    const wrong = await pageFetch(
      page,
      'PATCH',
      '/tenant',
      { ...json, 'x-csrf-token': 'not-the-token' },
      { welcome_message: 'forged' },
    );
    expect(wrong.status).toBe(403);
    expect(JSON.parse(wrong.body).message).toMatch(/x-csrf-token/);
    expect((await call(apiKey, 'GET', '/tenant')).body.welcome_message).toBe(NEW_WELCOME);
  });

  it('shows the reasons of the API: next to a field, and for QR mode with its warning', async () => {
    await page.click('#add-faq');
    const count = await page.locator('.faq-q').count();
    expect(await page.evaluate(() => document.activeElement?.id)).toBe(`faq-q-${count}`);
    await page.click('#faqs-form button[type="submit"]');
    const fieldError = page.locator(`#faq-q-${count} + .field-error`);
    await fieldError.waitFor();
    expect(await fieldError.textContent()).not.toBe('');
    expect(await page.locator(`#faq-q-${count}`).getAttribute('aria-invalid')).toBe('true');
    await page.locator('.remove-faq').last().click();
    expect(await page.locator('.faq-q').count()).toBe(count - 1);

    expect(await textOf('#qr-warning')).toMatch(/puede bloquear/);
  });

  it('switches to QR mode, shows the QR, shows the linked number once the phone scans it, and switches back', async () => {
    const before = (await call(apiKey, 'GET', '/tenant')).body;
    await page.check('#channel-qr');
    await page.click('#channel-form button[type="submit"]');
    await page.waitForFunction(() => document.getElementById('channel-status')?.textContent !== '');
    expect((await call(apiKey, 'GET', '/tenant')).body.channel).toBe('qr');
    await page.locator('#cloud-form').waitFor({ state: 'hidden' });

    // The runner shows a QR; the panel polls it and draws it.
    await page.locator('#qr-panel .qr-code svg').waitFor({ timeout: 30_000 });
    const shown = await eventually(async () => {
      const qr = (await call(apiKey, 'GET', '/tenant/qr')).body;
      return qr.state === 'qr' ? qr : undefined;
    });
    expect(await page.content()).not.toContain(shown.qr);
    const scan = await fetch(`${stack.url}/simulator/phone/scan`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ qr: shown.qr, phone_number: '34655000111' }),
    });
    expect(scan.status).toBe(200);
    await page.locator('#qr-phone-number', { hasText: '34655000111' }).waitFor({ timeout: 30_000 });
    await page.screenshot({ path: '/tmp/landing-qr-linked.png', fullPage: true });

    await page.check('#channel-cloud');
    await page.click('#channel-form button[type="submit"]');
    await eventually(async () => {
      const tenant = (await call(apiKey, 'GET', '/tenant')).body;
      return tenant.channel === 'cloud_api' ? tenant : undefined;
    });
    expect((await call(apiKey, 'GET', '/tenant')).body.phone_number_id).toBe(before.phone_number_id);
    await page.locator('#cloud-form').waitFor({ state: 'visible' });
    expect((await call(apiKey, 'GET', '/tenant/qr')).status).toBe(409);
  });

  it('tests the connection and shows each check', async () => {
    await page.click('#test-connection');
    await page.locator('#connection-checks li').first().waitFor();
    const checks = await page
      .locator('#connection-checks li')
      .evaluateAll((items) =>
        items.map((li) => [li.getAttribute('data-check'), li.classList.contains('ok')]),
      );
    expect(checks).toEqual([
      ['token', true],
      ['phone_number', true],
    ]);
    expect(await textOf('#connection-checks li:first-child')).toMatch(/^Token de acceso: Correcto — /);
    expect(await textOf('#cloud-status')).toBe('La conexión funciona.');
  });

  it('creates a key shown once, and revokes it', async () => {
    await page.click('#create-key');
    await page.waitForSelector('#key-once', { state: 'visible' });
    const second = await textOf('#key-value');
    expect(second).toMatch(/^wta_live_/);
    expect(second).not.toBe(apiKey);
    await eventually(async () => ((await page.locator('#key-list tr').count()) === 2 ? true : undefined));
    // What it looks like (the key itself masked: screenshots are kept in docs/).
    await page.locator('#key-once').screenshot({
      path: screenshotPath('landing-key.png'),
      mask: [page.locator('#key-value')],
      maskColor: '#8c959f',
    });
    await page.click('#key-stored');
    expect(await page.content()).not.toContain(second);
    const secondId = (await call(second, 'GET', '/tenant/api-keys')).body.api_keys.find(
      (k: { prefix: string }) => second.startsWith(k.prefix),
    )?.key_id;
    expect(secondId).toBeTruthy();
    await page.click(`button.revoke-key[data-key-id="${secondId}"]`);
    await eventually(async () => ((await page.locator('#key-list tr').count()) === 1 ? true : undefined));
    expect((await call(second, 'GET', '/tenant')).status).toBe(401);
  });

  it('rebuilds the assistant when the FAQs are saved, and the page shows it becoming ready without a reload', async () => {
    // Indexing takes 15 polls (about 15 s, longer than the 10 s refresh): the page sees both states.
    openai.setIndexing({ polls: 15 });
    await page.evaluate(() => {
      window.notReloaded = true;
      const seen: string[] = [];
      window.seen = seen;
      const item = document.querySelector('#public-status [data-status="assistant"]')!;
      seen.push(item.textContent ?? '');
      new MutationObserver(() => seen.push(item.textContent ?? '')).observe(item, {
        childList: true,
        characterData: true,
        subtree: true,
      });
    });
    await page.click('#add-faq');
    const n = await page.locator('.faq-q').count();
    await page.fill(`#faq-q-${n}`, '¿Tenéis terraza?');
    await page.fill(`#faq-a-${n}`, 'Sí, con diez mesas al sol.');
    await page.click('#faqs-form button[type="submit"]');
    await page.waitForSelector('#assistant-state[data-state="pending"]');
    expect(await textOf('#assistant-state')).toMatch(/Preparando el asistente/);

    await page.waitForSelector('#assistant-state[data-state="ready"]', { timeout: 45_000 });
    await page.waitForFunction(
      () =>
        document.querySelector('#public-status [data-status="assistant"]')?.textContent === 'Asistente listo',
      undefined,
      { timeout: 15_000 },
    );
    const seen = await page.evaluate(() => window.seen as string[]);
    expect(seen).toContain('Asistente preparándose');
    expect(seen.at(-1)).toBe('Asistente listo');
    expect(await page.evaluate(() => window.notReloaded)).toBe(true);
    expect((await call(apiKey, 'GET', '/tenant')).body.faqs).toHaveLength(laPlazaFaqs.length + 1);

    await expectNoSeriousViolations(page);
    await page.screenshot({ path: screenshotPath('landing-panel.png'), fullPage: true });
    // On a phone: one column, nothing wider than the screen.
    await page.setViewportSize({ width: 390, height: 844 });
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    await page.screenshot({ path: screenshotPath('landing-mobile.png'), fullPage: true });
    await page.setViewportSize({ width: 900, height: 900 });
  }, 90_000);

  it("shows another business's page with nothing of the first, even while signed in as the first", async () => {
    await page.goto(`${stack.url}/client/${slugB}`);
    await page.waitForSelector('#landing[data-ready="true"]');
    expect(await textOf('h1')).toBe('Sol Hair Salon');
    // In the business's language.
    expect(await page.locator('html').getAttribute('lang')).toBe('en');
    expect(await textOf('#sign-in-heading')).toBe('Business sign-in');
    expect(await textOf('#public-status li:first-child')).toBe('Service active');
    expect(await visible('#sign-in')).toBe(true);
    expect(await visible('#tenant-panel')).toBe(false);
    const content = await page.content();
    for (const ofA of ['Restaurante La Plaza', NEW_WELCOME, laPlazaFaqs[0]!.a, 'Yes, on Saturday']) {
      expect(content).not.toContain(ofA);
    }
    expect(await page.locator('.faq-q').count()).toBe(0);
    // The session is still A's (its own page still opens the panel) but this page shows none of it.
    expect((await pageFetch(page, 'GET', '/web/session', {})).status).toBe(200);

    // A's key on B's page is refused here too.
    await page.fill('#sign-in-key', apiKey);
    await page.click('#sign-in-button');
    await page.waitForFunction(() => document.getElementById('sign-in-error')?.textContent !== '');
    expect(await textOf('#sign-in-error')).toMatch(/another business/);
    expect(await visible('#tenant-panel')).toBe(false);
    expect(await page.content()).not.toContain(NEW_WELCOME);
  });
});
