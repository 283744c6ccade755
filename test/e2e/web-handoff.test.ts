import type { Page } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { screenshotPath } from '../support/browser.ts';
import { conversationPages, eventually, hhmm } from '../support/conversation-pages.ts';

/**
 * Handed-off chats in the pages, in a real browser (Debian's Chromium) against the local stack: the
 * business takes a chat over on its landing page and hands it back, the operator does the same in
 * the console, and a chat whose customer asked for a person in so many words is flagged in both
 * conversation lists.
 */

const ASKS_FOR_PERSON = '34611999412';

const pages = conversationPages({
  prefix: 'webhandoff',
  operatorKey: 'web-handoff-operator-key',
  phoneNumber: '+34666777411',
  phoneNumberId: '771000411',
  customer: '34611999411',
});
const { tenant, customerWrites, openLanding, openConsole, expectNoSeriousViolations } = pages;
let page: Page;
beforeAll(() => {
  page = pages.page;
});

// Evaluated in the page by playwright: this file is compiled without the DOM's types.
declare const document: any;

describe('handed-off chats in the conversation lists', () => {
  const listed = async (contact: string) =>
    (await tenant('GET', '/tenant/conversations')).body.conversations.find(
      (c: { contact: string }) => c.contact === contact,
    );

  it('the business takes a chat over on its landing page: badged until it hands it back', async () => {
    await openLanding();
    const item = page.locator(`#conversation-list .conversation-item[data-contact="${pages.anaContact}"]`);
    await item.waitFor();
    expect(await item.getAttribute('data-handoff')).toBe('');
    expect(await item.locator('.handoff-badge').count()).toBe(0);

    await item.getByRole('button', { name: 'Tomar el control de la conversación con Ana' }).click();
    await page
      .locator(`.conversation-item[data-contact="${pages.anaContact}"][data-handoff="tenant"]`)
      .waitFor();
    const { handoff } = await listed(pages.anaContact);
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
    await page.locator(`.conversation-item[data-contact="${pages.anaContact}"][data-handoff=""]`).waitFor();
    expect(await item.locator('.handoff-badge').count()).toBe(0);
    expect(await page.textContent('#conversations-status')).toMatch(/^El asistente vuelve a contestar/);
    expect((await listed(pages.anaContact)).handoff).toBeNull();
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

    // On a 375 px phone: the badge wraps, nothing is wider than the screen.
    await page.setViewportSize({ width: 375, height: 812 });
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(375);
    const box = await item.boundingBox();
    expect(box!.x + box!.width).toBeLessThanOrEqual(375);
    await page
      .locator('#conversation-list')
      .screenshot({ path: screenshotPath('landing-handoff-mobile.png') });
    await page.setViewportSize({ width: 900, height: 900 });
  });

  it('the operator takes a chat over in the console and hands it back', async () => {
    await openConsole();
    const row = page.locator('#clients-body tr', { hasText: 'Restaurante La Plaza' });
    await row.getByRole('button', { name: 'Gestionar Restaurante La Plaza' }).click();
    await page.waitForSelector('#details:not([hidden])');
    await page.click('#load-conversations');
    const item = page.locator(`#conversations-list li[data-contact="${pages.anaContact}"]`);
    await item.waitFor();
    expect(await item.getAttribute('data-handoff')).toBe('');
    // The customer who asked for a person is flagged here too.
    const luis = page.locator('#conversations-list li[data-handoff="customer_request"] .handoff-badge');
    expect(await luis.textContent()).toMatch(/^El cliente pidió hablar con una persona/);

    await item.getByRole('button', { name: /^Tomar el control de la conversación con Ana/ }).click();
    await page
      .locator(`#conversations-list li[data-contact="${pages.anaContact}"][data-handoff="operator"]`)
      .waitFor();
    const { handoff } = await listed(pages.anaContact);
    expect(handoff.by).toBe('operator');
    expect(await item.locator('.handoff-badge').textContent()).toContain(hhmm(handoff.until));
    expect(await page.textContent('#action-result')).toMatch(/la atiende ahora una persona/);
    await expectNoSeriousViolations();

    await item.getByRole('button', { name: /^Devolver al bot la conversación con Ana/ }).click();
    await page
      .locator(`#conversations-list li[data-contact="${pages.anaContact}"][data-handoff=""]`)
      .waitFor();
    expect(await item.locator('.handoff-badge').count()).toBe(0);
    expect((await listed(pages.anaContact)).handoff).toBeNull();
  });
});
