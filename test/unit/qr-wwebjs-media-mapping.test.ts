import { describe, expect, it } from 'vitest';
import { EngineMediaUnavailableError } from '../../lib/qr/session-engine.ts';
import { contactCardsText, engineMessageOf, messageTypeOf } from '../../lib/qr/wwebjs-mapping.ts';
import { FakeMessage, type FakeMessageFields } from '../fakes/wwebjs-fake-client.ts';

/** whatsapp-web.js 1.34 messages (types, captions, media, locations, vCards) as the engine port's. */
const mapped = (fields: FakeMessageFields) => {
  const message = new FakeMessage(fields);
  return { message, engine: engineMessageOf(message, '34600111222') };
};
const base64 = (text: string) => Buffer.from(text).toString('base64');

describe('whatsapp-web.js message types', () => {
  it('maps the types people write, the others as other, and notices to nothing', () => {
    expect(messageTypeOf('chat')).toBe('text');
    expect(messageTypeOf(undefined)).toBe('text');
    expect(messageTypeOf('ptt')).toBe('audio');
    expect(messageTypeOf('audio')).toBe('audio');
    expect(messageTypeOf('image')).toBe('image');
    expect(messageTypeOf('video')).toBe('video');
    expect(messageTypeOf('document')).toBe('document');
    expect(messageTypeOf('sticker')).toBe('sticker');
    expect(messageTypeOf('location')).toBe('location');
    expect(messageTypeOf('vcard')).toBe('contacts');
    expect(messageTypeOf('multi_vcard')).toBe('contacts');
    expect(messageTypeOf('poll_creation')).toBe('other');
    expect(messageTypeOf('order')).toBe('other');
    expect(messageTypeOf('toString')).toBe('other'); // not a key of an object's prototype
    for (const notice of ['e2e_notification', 'gp2', 'call_log', 'protocol', 'revoked', 'ciphertext']) {
      expect(messageTypeOf(notice), notice).toBeUndefined();
    }
    expect(mapped({ type: 'notification_template', body: 'x' }).engine).toBeUndefined();
  });
});

describe('whatsapp-web.js media', () => {
  it('a voice note (ptt) is a voice audio whose bytes are downloaded only when asked for', async () => {
    const { message, engine } = mapped({
      type: 'ptt',
      hasMedia: true,
      data: { mimetype: 'audio/ogg; codecs=opus', size: 9 },
      download: { mimetype: 'audio/ogg; codecs=opus', data: base64('voice!!!!') },
    });
    expect(engine).toMatchObject({ type: 'audio', text: '', chat: '34699000001', fromMe: false });
    expect(engine?.media).toMatchObject({ mimeType: 'audio/ogg; codecs=opus', voice: true, size: 9 });
    expect(engine?.media?.filename).toBeUndefined();
    expect(message.downloads).toBe(0);
    expect((await engine!.media!.download()).toString()).toBe('voice!!!!');
    expect(message.downloads).toBe(1);
  });

  it('a forwarded audio file is audio but no voice note', () => {
    const { engine } = mapped({ type: 'audio', hasMedia: true, data: { mimetype: 'audio/mpeg' } });
    expect(engine).toMatchObject({ type: 'audio', media: { mimeType: 'audio/mpeg' } });
    expect(engine?.media?.voice).toBeUndefined();
  });

  it('an image keeps its caption as the text', async () => {
    const { engine } = mapped({
      type: 'image',
      hasMedia: true,
      body: '¿Tenéis este modelo?',
      data: { mimetype: 'image/jpeg', size: 3 },
      download: { mimetype: 'image/jpeg', data: base64('jpg') },
    });
    expect(engine).toMatchObject({ type: 'image', text: '¿Tenéis este modelo?' });
    expect(engine?.media).toMatchObject({ mimeType: 'image/jpeg', size: 3 });
    expect((await engine!.media!.download()).toString()).toBe('jpg');
  });

  it('a document carries its file name (only documents do)', () => {
    const document = mapped({
      type: 'document',
      hasMedia: true,
      body: 'la factura',
      data: { mimetype: 'application/pdf', filename: 'factura-12.pdf', size: 2048 },
    }).engine;
    expect(document).toMatchObject({
      type: 'document',
      text: 'la factura',
      media: { mimeType: 'application/pdf', filename: 'factura-12.pdf', size: 2048 },
    });
    const video = mapped({
      type: 'video',
      hasMedia: true,
      data: { mimetype: 'video/mp4', filename: 'v.mp4' },
    });
    expect(video.engine?.media?.filename).toBeUndefined();
  });

  it('a download that finds the media gone (downloadMedia answers undefined) rejects as unavailable', async () => {
    const { engine } = mapped({ type: 'image', hasMedia: true, data: { mimetype: 'image/jpeg' } });
    await expect(engine!.media!.download()).rejects.toBeInstanceOf(EngineMediaUnavailableError);
    const empty = mapped({ type: 'image', hasMedia: true, download: { mimetype: 'image/jpeg', data: '' } });
    await expect(empty.engine!.media!.download()).rejects.toBeInstanceOf(EngineMediaUnavailableError);
  });

  it('a media type without a download path (hasMedia false) has no media; an unknown MIME type says so', () => {
    expect(mapped({ type: 'image', hasMedia: false, body: 'caption' }).engine).toMatchObject({
      type: 'image',
      text: 'caption',
    });
    expect(mapped({ type: 'image', hasMedia: false }).engine?.media).toBeUndefined();
    expect(mapped({ type: 'sticker', hasMedia: true }).engine?.media?.mimeType).toBe(
      'application/octet-stream',
    );
  });
});

describe('whatsapp-web.js locations and contact cards', () => {
  it('a location reads as its name and address, else its coordinates, never its thumbnail body', () => {
    const named = mapped({
      type: 'location',
      body: '/9j/4AAQSkZJRgABAQ', // WhatsApp Web's JPEG thumbnail
      location: { latitude: 40.4168, longitude: -3.7038, description: 'Bar La Plaza\nCalle Mayor 1, Madrid' },
    }).engine;
    expect(named).toMatchObject({ type: 'location', text: 'Bar La Plaza, Calle Mayor 1, Madrid' });
    expect(named?.media).toBeUndefined();
    const pin = mapped({
      type: 'location',
      body: '/9j/',
      location: { latitude: '40.4', longitude: '-3.7', description: '' },
    });
    expect(pin.engine?.text).toBe('40.4, -3.7');
  });

  it('shared contacts read as their names and numbers', () => {
    const card = [
      'BEGIN:VCARD',
      'VERSION:3.0',
      'N:Pérez;Ana;;;',
      'FN:Ana Pérez\\, Bar',
      'item1.TEL;waid=34600000000:+34 600 00 00 00',
      'item1.X-ABLabel:Móvil',
      'END:VCARD',
    ].join('\n');
    expect(mapped({ type: 'vcard', body: card, vCards: [card] }).engine).toMatchObject({
      type: 'contacts',
      text: 'Ana Pérez, Bar +34 600 00 00 00',
    });
    const luis = 'BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Luis\r\nTEL;type=CELL:+34 611\r\n 22 33 44\r\nEND:VCARD';
    expect(contactCardsText([card, luis])).toBe('Ana Pérez, Bar +34 600 00 00 00; Luis +34 61122 33 44');
  });
});
