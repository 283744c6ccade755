import { createHash } from 'node:crypto';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type StandaloneSimulator, startStandaloneSimulator } from '../../infra/local/whatsapp-simulator.ts';
import { screenshotPath, seriousA11yViolations, startBrowser, type TestBrowser } from '../support/browser.ts';
import { silentVoiceNote } from '../support/voice-note.ts';
import {
  APP_SECRET,
  PHONE_NUMBER_ID,
  startWebhookRecorder,
  TOKEN,
  type WebhookRecorder,
} from '../unit/simulator-helpers.ts';

/**
 * The chat page sends media as the customer, in a real browser (Debian's Chromium): a photo with a
 * caption and an Ogg file as a voice note, chosen through the page's file input. The webhook (a
 * recorder standing in for the product's) gets Meta's signed payloads, the Graph stand-in serves
 * the bytes behind each media id with the bearer token, and the timeline shows the photo and a
 * player. A bot stand-in answers through the Graph API, so the screenshot shows a conversation.
 */

// Evaluated in the page by playwright: this file is compiled without the DOM's types.
declare const document: any;

const CUSTOMER = '34600111222';
const CAPTION = '¿Tenéis esta mesa libre a las 21:00?';

let sim: StandaloneSimulator;
let webhook: WebhookRecorder;
let browser: TestBrowser;
let context: BrowserContext;
let page: Page;
let photo: Buffer;
const voiceNote = silentVoiceNote(2);

type Message = Record<string, any>;
const messages = () =>
  webhook.deliveries.map(
    (d) => JSON.parse(d.raw.toString('utf8')).entry[0].changes[0].value.messages[0] as Message,
  );

/** A real JPEG, drawn by the browser itself (no binary fixture in the repository). */
async function drawPhoto(): Promise<Buffer> {
  const scratch = await context.newPage();
  const dataUrl = (await scratch.evaluate(`(() => {
    const canvas = document.createElement('canvas');
    canvas.width = 320; canvas.height = 200;
    const g = canvas.getContext('2d');
    const sky = g.createLinearGradient(0, 0, 0, 200);
    sky.addColorStop(0, '#f6d365'); sky.addColorStop(1, '#fda085');
    g.fillStyle = sky; g.fillRect(0, 0, 320, 200);
    g.fillStyle = '#8b5a2b'; g.fillRect(60, 110, 200, 18); g.fillRect(80, 128, 12, 60); g.fillRect(228, 128, 12, 60);
    g.fillStyle = '#ffffff'; g.beginPath(); g.arc(160, 100, 14, 0, Math.PI * 2); g.fill();
    g.fillStyle = '#3b2a1a'; g.font = 'bold 22px sans-serif'; g.fillText('Mesa 4', 122, 50);
    return canvas.toDataURL('image/jpeg', 0.9);
  })()`)) as string;
  await scratch.close();
  return Buffer.from(dataUrl.slice(dataUrl.indexOf(',') + 1), 'base64');
}

/** What the product does with a media id: look it up with the token, fetch the URL with it. */
async function fetchAsTheProduct(mediaId: string): Promise<Buffer> {
  const bearer = { authorization: `Bearer ${TOKEN}` };
  const lookup = (await (
    await fetch(`${sim.graphBaseUrl}/v26.0/${mediaId}`, { headers: bearer })
  ).json()) as {
    url: string;
  };
  return Buffer.from(await (await fetch(lookup.url, { headers: bearer })).arrayBuffer());
}

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('base64');

beforeAll(async () => {
  webhook = await startWebhookRecorder();
  [sim, browser] = await Promise.all([
    startStandaloneSimulator({
      appSecret: APP_SECRET,
      webhookUrl: webhook.url,
      listBusinesses: async () => [{ phoneNumberId: PHONE_NUMBER_ID, name: 'Casa Lucía' }],
    }),
    startBrowser(),
  ]);
  // The bot: answers each message through the Graph stand-in, as the product would.
  const replies = [
    '¡Qué bonita! Sí, la mesa 4 está libre a las 21:00. ¿Para cuántos?',
    'Anotado: 4 personas a las 21:00.',
  ];
  webhook.onDelivery = async () => {
    const text = replies.shift();
    if (!text) return;
    await fetch(`${sim.graphBaseUrl}/v26.0/${PHONE_NUMBER_ID}/messages`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        messaging_product: 'whatsapp',
        to: CUSTOMER,
        type: 'text',
        text: { body: text },
      }),
    });
  };
  context = await browser.browser.newContext({ viewport: { width: 480, height: 1040 } });
  photo = await drawPhoto();
  page = await context.newPage();
  await page.goto(`${sim.url}/simulator`);
  await page.waitForFunction(() => document.getElementById('business')?.value === '631261586727899');
  await page.fill('#phone', CUSTOMER);
  await page.locator('#phone').dispatchEvent('change');
  await page.fill('#name', 'Lucía');
  await page.locator('#name').dispatchEvent('change');
});

afterAll(async () => {
  await context?.close().catch(() => undefined);
  await browser?.stop();
  await sim?.stop();
  await webhook?.stop();
});

describe('the chat page sends media as the customer, in a browser', () => {
  it('offers an attach button that takes photos, audio and PDFs, reachable by keyboard', async () => {
    const input = page.locator('#attach');
    expect(await input.getAttribute('accept')).toBe('audio/*,image/*,application/pdf');
    expect(await page.locator('label[for="attach"]').textContent()).toContain('Attach a photo');
    await page.focus('#text');
    await page.keyboard.press('Shift+Tab');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('attach');
    expect(await page.locator('#attachment').isVisible()).toBe(false);
  });

  it('sends a photo with its caption: Meta-shaped image webhook, bytes served with the token, shown in the timeline', async () => {
    await page.setInputFiles('#attach', { name: 'mesa.jpg', mimeType: 'image/jpeg', buffer: photo });
    expect(await page.locator('#attachment-name').textContent()).toBe(
      `Photo: mesa.jpg (${Math.round(photo.length / 1024)} KB)`,
    );
    expect(await page.locator('#voice-wrap').isVisible()).toBe(false);
    await page.fill('#text', CAPTION);
    await page.click('#send');
    await page.waitForFunction(() => document.querySelector('#log .msg.customer img')?.naturalWidth > 0);

    const [image] = messages();
    expect(image).toMatchObject({ from: CUSTOMER, type: 'image' });
    expect(image?.image).toMatchObject({ caption: CAPTION, mime_type: 'image/jpeg', sha256: sha256(photo) });
    expect(await fetchAsTheProduct(image?.image.id)).toEqual(photo);
    expect(await page.locator('#log .msg.customer').first().textContent()).toContain(CAPTION);
    expect(await page.locator('#log .msg.customer img').getAttribute('src')).toMatch(/^blob:/);
    // Sent: the attachment is cleared, the composer empty.
    expect(await page.locator('#attachment').isVisible()).toBe(false);
    expect(await page.locator('#text').inputValue()).toBe('');
  });

  it('sends an .ogg as a voice note (ticked by default): audio webhook with voice true, a player in the timeline', async () => {
    await page.setInputFiles('#attach', { name: 'nota.ogg', mimeType: 'audio/ogg', buffer: voiceNote });
    expect(await page.locator('#voice-wrap').isVisible()).toBe(true);
    expect(await page.locator('#voice').isChecked()).toBe(true);
    await page.click('#send');
    // The player has read the file: the bytes are a playable Ogg Opus.
    await page.waitForFunction(() => document.querySelector('#log .msg.customer audio')?.readyState >= 1);

    const audio = messages()[1];
    expect(audio).toMatchObject({ from: CUSTOMER, type: 'audio' });
    expect(audio?.audio).toMatchObject({
      mime_type: 'audio/ogg; codecs=opus',
      sha256: sha256(voiceNote),
      voice: true,
    });
    expect(audio?.audio).not.toHaveProperty('caption');
    expect(await fetchAsTheProduct(audio?.audio.id)).toEqual(voiceNote);
    expect(await page.locator('#log .msg.customer .media-label').textContent()).toMatch(
      /^Voice note · audio\/ogg/,
    );
    expect(await page.locator('#log .msg.customer audio').getAttribute('aria-label')).toBe('Voice note');
  });

  it("shows the simulator's refusal with its reason and keeps the file to fix", async () => {
    await page.setInputFiles('#attach', { name: 'nota.ogg', mimeType: 'audio/ogg', buffer: voiceNote });
    await page.fill('#text', 'a caption the voice note cannot carry is sent after it as a text');
    await page.route('**/simulator/api/media', (route) =>
      route.fulfill({
        status: 413,
        contentType: 'application/json',
        body: JSON.stringify({ error: 'too_large', message: 'WhatsApp takes audio up to 16777216 bytes' }),
      }),
    );
    await page.click('#send');
    await page.waitForFunction(
      () => document.getElementById('error')?.textContent === 'WhatsApp takes audio up to 16777216 bytes',
    );
    expect(await page.locator('#attachment').isVisible()).toBe(true);
    await page.unroute('**/simulator/api/media');
    await page.click('#attachment-remove');
    expect(await page.locator('#attachment').isVisible()).toBe(false);
    await page.fill('#text', '');
    expect(webhook.deliveries).toHaveLength(2);
  });

  it('sends a PDF as a document with its file name: a file chip in the timeline', async () => {
    const pdf = Buffer.from('%PDF-1.7\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n');
    await page.setInputFiles('#attach', { name: 'reserva.pdf', mimeType: 'application/pdf', buffer: pdf });
    expect(await page.locator('#attachment-name').textContent()).toBe(
      `Document: reserva.pdf (${pdf.length} B)`,
    );
    await page.fill('#text', 'Mi reserva');
    await page.click('#send');
    await page.waitForFunction(() => document.querySelector('#log a.chip')?.href?.startsWith('blob:'));
    const document_ = messages()[2];
    expect(document_?.document).toMatchObject({
      caption: 'Mi reserva',
      filename: 'reserva.pdf',
      mime_type: 'application/pdf',
      sha256: sha256(pdf),
    });
    expect(await fetchAsTheProduct(document_?.document.id)).toEqual(pdf);
    expect(await page.locator('#log a.chip').textContent()).toBe(
      `Document: reserva.pdf · application/pdf · ${pdf.length} B`,
    );
    expect(await page.locator('#log a.chip').getAttribute('download')).toBe('reserva.pdf');
  });

  it('is accessible, and looks like this (with a photo about to be sent)', async () => {
    await page.waitForFunction(() => document.querySelectorAll('#log .msg.bot').length === 2);
    await page.setInputFiles('#attach', { name: 'terraza.jpg', mimeType: 'image/jpeg', buffer: photo });
    await page.fill('#text', '¿Y en la terraza?');
    const violations = await seriousA11yViolations(page);
    expect(violations, JSON.stringify(violations, null, 2)).toEqual([]);
    await page.screenshot({ path: screenshotPath('simulator-media.png'), fullPage: true });
  });
});
