import { describe, expect, it } from 'vitest';
import {
  buildInboundMediaPayload,
  buildInboundPayload,
  buildStatusPayload,
  serializeLikeMeta,
  signDelivery,
} from '../../infra/local/simulator/inbound-payloads.ts';
import { verifyWebhookSignature } from '../../lib/webhook/signature.ts';
import { APP_SECRET, fixtures, PHONE_NUMBER_ID } from './simulator-helpers.ts';

const business = {
  wabaId: '102290129340398',
  phoneNumberId: PHONE_NUMBER_ID,
  displayPhoneNumber: '34666777888',
};

describe('the builder of Meta-shaped inbound payloads', () => {
  it('builds the same Meta shape as the fixtures', () => {
    // Given the fields of the fixtures' "text" example
    const payload = buildInboundPayload({
      ...business,
      from: '34600111222',
      userId: 'ES.1349120865530274',
      name: 'Lucía',
      text: '¿A qué hora abrís el sábado?',
      messageId: 'wamid.HBgLMzQ2MDAxMTEyMjIVAgASGBQzQUI1RjQ4QTlCNUY1MjdGQTdGMgA=',
      timestamp: 1795560000,
    });
    // Then the body is the fixture, key order included
    expect(payload).toEqual(fixtures.text);
    expect(JSON.stringify(payload)).toBe(JSON.stringify(fixtures.text));
  });

  it('builds a username-only customer (no phone) like the fixtures', () => {
    const payload = buildInboundPayload({
      ...business,
      userId: 'ES.8812736450019283',
      text: '¿Hacéis reservas?',
      messageId: 'wamid.X',
    });
    const value = (payload.entry as Array<{ changes: Array<{ value: Record<string, unknown[]> }> }>)[0]
      ?.changes[0]?.value;
    expect(value?.contacts?.[0]).toEqual({ profile: { name: 'Cliente' }, user_id: 'ES.8812736450019283' });
    expect(value?.messages?.[0]).toMatchObject({ from_user_id: 'ES.8812736450019283', type: 'text' });
    expect(value?.messages?.[0]).not.toHaveProperty('from');
  });

  it('builds a reply in context like the fixtures', () => {
    const payload = buildInboundPayload({
      ...business,
      from: '34600111222',
      userId: 'ES.1349120865530274',
      name: 'Lucía',
      text: '¿Y el domingo?',
      messageId: 'wamid.CTX1',
      replyTo: 'wamid.OUTGOING1',
      timestamp: 1795560000,
    });
    expect(JSON.stringify(payload)).toBe(JSON.stringify(fixtures.text_reply_in_context));
  });

  it('requires a phone or a user id', () => {
    expect(() => buildInboundPayload({ phoneNumberId: PHONE_NUMBER_ID, text: 'hola' })).toThrow();
  });

  it('builds statuses like the fixtures: sent with pricing and contact, failed with errors and none', () => {
    const recipient = {
      ...business,
      messageId: 'wamid.OUTGOING1',
      recipientId: '34600111222',
      recipientUserId: 'ES.1349120865530274',
      timestamp: 1795560010,
    };
    const sent = buildStatusPayload({
      ...recipient,
      status: 'sent',
      name: 'Lucía',
      pricing: { billable: true, pricing_model: 'PMP', category: 'service', type: 'regular' },
    });
    expect(JSON.stringify(sent)).toBe(JSON.stringify(fixtures.status_sent));
    const read = buildStatusPayload({ ...recipient, status: 'read', name: 'Lucía' });
    expect(JSON.stringify(read)).toBe(JSON.stringify(fixtures.status_read));
    const failed = buildStatusPayload({
      ...recipient,
      status: 'failed',
      errors: [
        {
          code: 131047,
          title: 'Re-engagement message',
          message: 'Re-engagement message',
          error_data: {
            details:
              'Message failed to send because more than 24 hours have passed since the customer last replied to this number.',
          },
        },
      ],
    });
    expect(JSON.stringify(failed)).toBe(JSON.stringify(fixtures.status_failed_outside_window));
    expect(() => buildStatusPayload({ ...business, messageId: 'w', status: 'sent' })).toThrow(/recipient/);
  });

  it('serializes like Meta: ASCII only, non-ASCII as \\uXXXX, same JSON value', () => {
    const body = { text: '¿Qué tal? 👋', plain: 'abc~' };
    const raw = serializeLikeMeta(body);
    expect(raw).toBe('{"text":"\\u00bfQu\\u00e9 tal? \\ud83d\\udc4b","plain":"abc~"}');
    expect(JSON.parse(raw)).toEqual(body);
  });

  it('signs exactly the escaped bytes, with the headers Meta sends', () => {
    const delivery = signDelivery(fixtures.text, APP_SECRET);
    expect(delivery.raw).toBe(serializeLikeMeta(fixtures.text));
    expect(delivery.headers).toMatchObject({ 'content-type': 'application/json' });
    expect(
      verifyWebhookSignature(Buffer.from(delivery.raw), delivery.headers['x-hub-signature-256'], APP_SECRET),
    ).toBe(true);
    expect(
      verifyWebhookSignature(Buffer.from(delivery.raw), delivery.headers['x-hub-signature-256'], 'other'),
    ).toBe(false);
  });
});

describe('the builder of Meta-shaped media payloads', () => {
  const customer = {
    ...business,
    from: '34600111222',
    userId: 'ES.1349120865530274',
    name: 'Lucía',
    timestamp: 1795560000,
  };
  const lookaside = (id: string) => `https://lookaside.fbsbx.com/whatsapp_business/attachments/?mid=${id}`;

  it('builds a voice note like the fixtures, key order included', () => {
    const payload = buildInboundMediaPayload({
      ...customer,
      kind: 'audio',
      messageId: 'wamid.AUD1',
      mediaId: '1122334455667788',
      mimeType: 'audio/ogg; codecs=opus',
      sha256: 'hXx1a9W8a3yJm2c6k5ZQGd1L9Zr5iKcM3sT2bq0N0nA=',
      voice: true,
      url: lookaside('1122334455667788'),
    });
    expect(JSON.stringify(payload)).toBe(JSON.stringify(fixtures.audio_voice_note));
  });

  it('builds a photo with its caption like the fixtures', () => {
    const payload = buildInboundMediaPayload({
      ...customer,
      kind: 'image',
      messageId: 'wamid.IMG1',
      mediaId: '1044231289999123',
      mimeType: 'image/jpeg',
      sha256: '7w4kq4mkHx2pVbK0Pw8ZbVd2yPzJ0Ykz8w1PpdUu6V8=',
      caption: '¿Tenéis esta mesa libre?',
      url: lookaside('1044231289999123'),
    });
    expect(JSON.stringify(payload)).toBe(JSON.stringify(fixtures.image));
  });

  it('builds a document with its caption and file name like the fixtures', () => {
    const payload = buildInboundMediaPayload({
      ...customer,
      kind: 'document',
      messageId: 'wamid.DOC1',
      mediaId: '2233445566778899',
      mimeType: 'application/pdf',
      sha256: 'b1ZcVf3u5o6fCkZr3pYgQ2wq8L9Tn0Xv4s7y1AaBcDe=',
      caption: 'Mi reserva',
      filename: 'reserva.pdf',
    });
    expect(JSON.stringify(payload)).toBe(JSON.stringify(fixtures.document));
  });

  it("gives each type only Meta's fields: voice false on an audio file, no caption on audio", () => {
    const payload = buildInboundMediaPayload({
      ...customer,
      kind: 'audio',
      messageId: 'wamid.AUD2',
      mediaId: '1',
      mimeType: 'audio/mpeg',
      sha256: 'x',
      caption: 'not on audio',
      filename: 'song.mp3',
      replyTo: 'wamid.OUTGOING1',
    });
    const message = (
      payload.entry as Array<{ changes: Array<{ value: { messages: Array<Record<string, unknown>> } }> }>
    )[0]?.changes[0]?.value.messages[0];
    expect(message?.audio).toEqual({ mime_type: 'audio/mpeg', sha256: 'x', id: '1', voice: false });
    expect(Object.keys(message ?? {})).toEqual([
      'from',
      'from_user_id',
      'id',
      'timestamp',
      'type',
      'audio',
      'context',
    ]);
    expect(message?.context).toEqual({ from: '34666777888', id: 'wamid.OUTGOING1' });
    const image = buildInboundMediaPayload({
      ...customer,
      kind: 'image',
      mediaId: '2',
      mimeType: 'image/png',
      sha256: 'y',
      voice: true,
      filename: 'x.png',
    });
    expect(JSON.stringify(image)).toContain('"image":{"mime_type":"image/png","sha256":"y","id":"2"}');
  });

  it('requires a phone or a user id', () => {
    expect(() =>
      buildInboundMediaPayload({
        ...business,
        kind: 'image',
        mediaId: '1',
        mimeType: 'image/png',
        sha256: 'y',
      }),
    ).toThrow(/from/);
  });
});
