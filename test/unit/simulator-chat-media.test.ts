import { createHash } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type StandaloneSimulator, startStandaloneSimulator } from '../../infra/local/whatsapp-simulator.ts';
import { verifyWebhookSignature } from '../../lib/webhook/signature.ts';
import {
  APP_SECRET,
  PHONE_NUMBER_ID,
  startWebhookRecorder,
  TOKEN,
  type WebhookRecorder,
} from './simulator-helpers.ts';

/**
 * The chat API's media route, `POST /simulator/api/media`: a file sent as the customer becomes media
 * the Graph stand-in serves and a signed webhook shaped like Meta's for its type; what WhatsApp would
 * not send is refused with a 4xx and the reason. `GET /simulator/api/media?id=` gives the page the bytes.
 */

let webhook: WebhookRecorder;
let sim: StandaloneSimulator;

beforeAll(async () => {
  webhook = await startWebhookRecorder();
  sim = await startStandaloneSimulator({ appSecret: APP_SECRET, webhookUrl: webhook.url });
});

afterEach(() => {
  sim.simulator.reset();
  sim.simulator.webhookUrl = webhook.url;
  webhook.deliveries.length = 0;
});

afterAll(async () => {
  await sim.stop();
  await webhook.stop();
});

const OGG = Buffer.concat([Buffer.from('OggS'), Buffer.alloc(60, 1)]);
const JPEG = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.alloc(40, 2)]);
const PDF = Buffer.from('%PDF-1.7\n%…');

const chatApi = (path: string, init: RequestInit = {}) =>
  fetch(`${sim.url}${path}`, {
    ...init,
    headers: { 'x-simulator-token': sim.simulator.apiToken, ...(init.headers as Record<string, string>) },
  });

const postMedia = (body: Record<string, unknown>, headers: Record<string, string> = {}) =>
  chatApi('/simulator/api/media', {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });

const customer = { phone_number_id: PHONE_NUMBER_ID, from: '34600111222', name: 'Lucía' };
const voiceNote = {
  ...customer,
  kind: 'audio',
  mime_type: 'audio/ogg',
  voice: true,
  data: OGG.toString('base64'),
};

/** The one message of the last delivery, after checking its signature. */
function deliveredMessage(): Record<string, unknown> {
  const delivery = webhook.deliveries.at(-1);
  expect(delivery).toBeDefined();
  const signature = delivery?.headers['x-hub-signature-256'] as string;
  expect(verifyWebhookSignature(delivery!.raw, signature, APP_SECRET)).toBe(true);
  const body = JSON.parse(delivery!.raw.toString('utf8'));
  return body.entry[0].changes[0].value.messages[0];
}

const sha256 = (data: Buffer, encoding: 'base64' | 'hex') =>
  createHash('sha256').update(data).digest(encoding);

describe('sending media as the customer', () => {
  it("delivers a voice note like Meta's webhook, and serves its bytes through the media lookup", async () => {
    const response = await postMedia(voiceNote);
    expect(response.status).toBe(200);
    const result = (await response.json()) as {
      message_id: string;
      media_id: string;
      webhook_status: number;
    };
    expect(result.webhook_status).toBe(200);

    const message = deliveredMessage();
    expect(Object.keys(message)).toEqual(['from', 'from_user_id', 'id', 'timestamp', 'type', 'audio']);
    expect(message).toMatchObject({ from: '34600111222', id: result.message_id, type: 'audio' });
    const audio = message.audio as Record<string, unknown>;
    expect(Object.keys(audio)).toEqual(['mime_type', 'sha256', 'id', 'voice', 'url']);
    expect(audio).toMatchObject({
      mime_type: 'audio/ogg; codecs=opus',
      sha256: sha256(OGG, 'base64'),
      id: result.media_id,
      voice: true,
    });

    // The product's path: look the id up with the bearer token, fetch the URL with it.
    const lookup = await fetch(`${sim.graphBaseUrl}/v26.0/${result.media_id}`, {
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    const info = (await lookup.json()) as {
      url: string;
      sha256: string;
      file_size: number;
      mime_type: string;
    };
    expect(info).toMatchObject({
      mime_type: 'audio/ogg; codecs=opus',
      file_size: OGG.length,
      sha256: sha256(OGG, 'hex'),
    });
    const bytes = await fetch(info.url, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(Buffer.from(await bytes.arrayBuffer())).toEqual(OGG);
    // The webhook's own url works the same way.
    const viaWebhookUrl = await fetch(String(audio.url), { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(Buffer.from(await viaWebhookUrl.arrayBuffer())).toEqual(OGG);
  });

  it('delivers a photo with its caption, and the timeline shows it', async () => {
    const response = await postMedia({
      ...customer,
      kind: 'image',
      mime_type: 'image/jpeg',
      caption: '¿Tenéis esta mesa libre?',
      data: JPEG.toString('base64'),
    });
    expect(response.status).toBe(200);
    const { media_id: mediaId } = (await response.json()) as { media_id: string };
    const image = deliveredMessage().image as Record<string, unknown>;
    expect(Object.keys(image)).toEqual(['caption', 'mime_type', 'sha256', 'id', 'url']);
    expect(image).toMatchObject({
      caption: '¿Tenéis esta mesa libre?',
      mime_type: 'image/jpeg',
      id: mediaId,
    });
    expect(image.sha256).toBe(sha256(JPEG, 'base64'));

    const timeline = await chatApi(
      `/simulator/api/conversation?phone_number_id=${PHONE_NUMBER_ID}&contact=34600111222`,
    );
    const { messages } = (await timeline.json()) as { messages: Array<Record<string, unknown>> };
    expect(messages).toHaveLength(1);
    expect(messages[0]).toMatchObject({
      direction: 'in',
      text: '¿Tenéis esta mesa libre?',
      media: { kind: 'image', id: mediaId, mimeType: 'image/jpeg', size: JPEG.length },
      webhookStatus: 200,
    });

    const preview = await chatApi(`/simulator/api/media?id=${mediaId}`);
    expect(preview.status).toBe(200);
    expect(preview.headers.get('content-type')).toBe('image/jpeg');
    expect(preview.headers.get('content-security-policy')).toBe('sandbox');
    expect(Buffer.from(await preview.arrayBuffer())).toEqual(JPEG);
  });

  it('delivers a document with its file name and caption; an audio file is not a voice note', async () => {
    expect(
      (
        await postMedia({
          ...customer,
          kind: 'document',
          mime_type: 'application/pdf',
          caption: 'Mi reserva',
          filename: 'reserva.pdf',
          data: PDF.toString('base64'),
        })
      ).status,
    ).toBe(200);
    const document = deliveredMessage().document as Record<string, unknown>;
    expect(Object.keys(document)).toEqual(['caption', 'filename', 'mime_type', 'sha256', 'id', 'url']);
    expect(document).toMatchObject({
      caption: 'Mi reserva',
      filename: 'reserva.pdf',
      mime_type: 'application/pdf',
    });

    expect((await postMedia({ ...voiceNote, mime_type: 'audio/mpeg', voice: undefined })).status).toBe(200);
    expect(deliveredMessage().audio).toMatchObject({ mime_type: 'audio/mpeg', voice: false });
  });

  it('refuses what WhatsApp would not send, with the reason, and delivers nothing', async () => {
    const refusals: Array<[Record<string, unknown>, number, RegExp]> = [
      [{ ...voiceNote, data: 'not base64!' }, 400, /data must be base64/],
      [{ ...voiceNote, data: 'abc' }, 400, /padded/],
      [{ ...voiceNote, data: '' }, 400, /data must not be empty/],
      [{ ...voiceNote, from: undefined }, 400, /from or user_id is required/],
      [{ ...voiceNote, kind: 'video' }, 400, /kind/],
      [{ ...voiceNote, mime_type: 'ogg' }, 400, /MIME type/],
      [{ ...voiceNote, mime_type: 'audio/mpeg' }, 400, /a voice note is audio\/ogg/],
      [{ ...voiceNote, caption: 'hola' }, 400, /audio has no caption/],
      [{ ...voiceNote, extra: 1 }, 400, /extra/],
      [
        { ...customer, kind: 'image', mime_type: 'image/png', voice: true, data: 'AAAA' },
        400,
        /voice is for audio/,
      ],
      [
        { ...customer, kind: 'image', mime_type: 'image/png', filename: 'a.png', data: 'AAAA' },
        400,
        /documents only/,
      ],
      [
        { ...customer, kind: 'document', mime_type: 'application/pdf', filename: '../x.pdf', data: 'AAAA' },
        400,
        /without folders/,
      ],
      [
        { ...customer, kind: 'image', mime_type: 'image/png', caption: 'x'.repeat(1025), data: 'AAAA' },
        400,
        /1024/,
      ],
      [{ ...customer, kind: 'image', mime_type: 'image/gif', data: 'R0lGODlh' }, 415, /as a document/],
      [{ ...customer, kind: 'audio', mime_type: 'audio/wav', data: 'AAAA' }, 415, /audio\/aac/],
      [
        {
          ...customer,
          kind: 'image',
          mime_type: 'image/jpeg',
          data: Buffer.alloc(5 * 1024 * 1024 + 1).toString('base64'),
        },
        413,
        /up to 5242880 bytes/,
      ],
    ];
    for (const [body, status, reason] of refusals) {
      const response = await postMedia(body);
      const answer = (await response.json()) as { message: string };
      expect([response.status, answer.message], JSON.stringify(body).slice(0, 120)).toEqual([
        status,
        expect.stringMatching(reason),
      ]);
    }
    const notJson = await chatApi('/simulator/api/media', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{',
    });
    expect(notJson.status).toBe(400);
    expect(webhook.deliveries).toHaveLength(0);
    expect(sim.simulator.inbound).toHaveLength(0);
  });

  it('takes a document of any type (WhatsApp sends any file as one), up to 100 MB', async () => {
    const zip = {
      ...customer,
      kind: 'document',
      mime_type: 'application/zip',
      filename: 'menu.zip',
      data: 'UEsDBA==',
    };
    expect((await postMedia(zip)).status).toBe(200);
    expect(deliveredMessage().document).toMatchObject({ mime_type: 'application/zip', filename: 'menu.zip' });
  });

  it('answers only the chat page: token, same origin and JSON; 503 without a webhook; 404 for unknown media', async () => {
    const anonymous = await fetch(`${sim.url}/simulator/api/media`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(voiceNote),
    });
    expect(anonymous.status).toBe(401);
    expect((await fetch(`${sim.url}/simulator/api/media?id=1`)).status).toBe(401);
    expect((await postMedia(voiceNote, { origin: 'https://evil.example' })).status).toBe(403);
    const form = await chatApi('/simulator/api/media', {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: JSON.stringify(voiceNote),
    });
    expect(form.status).toBe(403);
    sim.simulator.webhookUrl = undefined;
    expect((await postMedia(voiceNote)).status).toBe(503);
    expect((await chatApi('/simulator/api/media?id=999')).status).toBe(404);
    expect((await chatApi('/simulator/api/media?id=../x')).status).toBe(400);
    expect(webhook.deliveries).toHaveLength(0);
  });

  it('answers 502 when the webhook does not answer, and marks the message so', async () => {
    sim.simulator.webhookUrl = 'http://127.0.0.1:9/webhook';
    const response = await postMedia(voiceNote);
    expect(response.status).toBe(502);
    expect(sim.simulator.inbound[0]).toMatchObject({
      webhookStatus: 0,
      media: { kind: 'audio', voice: true },
    });
  });

  it('sendMediaAsCustomer (for tests) delivers the same shape, without a url when no Host is given', async () => {
    const result = await sim.simulator.sendMediaAsCustomer({
      phoneNumberId: PHONE_NUMBER_ID,
      from: '34600111222',
      kind: 'audio',
      mimeType: 'audio/ogg; codecs=opus',
      voice: true,
      data: OGG,
    });
    expect(result.status).toBe(200);
    expect(deliveredMessage().audio).toEqual({
      mime_type: 'audio/ogg; codecs=opus',
      sha256: sha256(OGG, 'base64'),
      id: result.mediaId,
      voice: true,
    });
    expect(sim.simulator.conversation(PHONE_NUMBER_ID, '34600111222')).toMatchObject([
      {
        direction: 'in',
        text: '',
        media: { kind: 'audio', id: result.mediaId, voice: true, size: OGG.length },
      },
    ]);
  });
});
