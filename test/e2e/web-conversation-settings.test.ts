import type { Page } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { simulatedWabaIdOf } from '../../infra/local/simulator/graph-read-endpoints.ts';
import { screenshotPath } from '../support/browser.ts';
import { conversationPages } from '../support/conversation-pages.ts';

/**
 * The conversation settings in the pages, in a real browser (Debian's Chromium) against the local
 * stack: on its landing page the business sets how long its assistant waits for the rest of a burst
 * and how long it keeps quiet after a person of the business wrote, and the approved template for
 * replies outside the 24-hour window (chosen from GET /tenant/templates, else typed), with the API's
 * reasons next to the fields; the operator sets the same settings in the console's client form.
 */

const pages = conversationPages({
  prefix: 'websettings',
  operatorKey: 'web-settings-operator-key',
  phoneNumber: '+34666777401',
  phoneNumberId: '771000401',
  customer: '34611999401',
});
const { operator, tenant, openLanding, openConsole, statusOf, expectNoSeriousViolations } = pages;
let page: Page;
beforeAll(() => {
  page = pages.page;
});

// Evaluated in the page by playwright: this file is compiled without the DOM's types.
declare const document: any;

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
    // The reason comes with the templates' answer, which may land after the field shows.
    await page
      .locator('#template-unavailable', { hasText: /no waba_id is set/ })
      .waitFor({ timeout: 10_000 });
    expect(await page.textContent('#template-unavailable')).toMatch(/no waba_id is set/);
    expect((await tenant('PATCH', '/tenant', { waba_id: simulatedWabaIdOf('771000401') })).status).toBe(200);
  });
});

describe('the operator console: the settings in the client form', () => {
  it('creates a client with the settings, refuses an out-of-range one next to the field, and edits them', async () => {
    await openConsole();

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

describe('on a phone', () => {
  it('fits a 375 px phone: the settings and the template, nothing wider than the screen', async () => {
    await openLanding();
    await page.setViewportSize({ width: 375, height: 812 });
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(375);
    for (const [selector, name] of [
      ['#settings-form', 'landing-settings-mobile.png'],
      ['#template-form', 'landing-template-mobile.png'],
    ] as const) {
      const box = await page.locator(selector).boundingBox();
      expect(box!.x + box!.width, selector).toBeLessThanOrEqual(375);
      await page.locator(selector).screenshot({ path: screenshotPath(name) });
    }
    await page.setViewportSize({ width: 900, height: 900 });
  });
});
