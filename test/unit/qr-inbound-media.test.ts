import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { customerMessageEvent } from '../../lib/qr/runner/inbound-events.ts';
import { keepMedia, type MediaSink } from '../../lib/qr/runner/inbound-media.ts';
import { messageKeyOf } from '../../lib/qr/runner/shard-sessions.ts';
import { EngineMediaUnavailableError, type EngineMessage } from '../../lib/qr/session-engine.ts';

/** The runner's side of a QR customer's media: what is kept, and how the queue event describes it. */
function message(partial: Partial<EngineMessage> = {}): EngineMessage {
  return {
    id: 'false_34699000001@c.us_3EB0A',
    chat: '34699000001',
    from: '34699000001',
    type: 'audio',
    text: '',
    media: { mimeType: 'audio/ogg; codecs=opus', voice: true, download: async () => Buffer.from('opus') },
    chatKind: 'direct',
    fromMe: false,
    at: new Date('2026-12-01T10:00:00Z'),
    ...partial,
  };
}

function sink(fail?: Error) {
  const stored: Array<Parameters<MediaSink['store']>[0]> = [];
  return {
    stored,
    store: async (media: Parameters<MediaSink['store']>[0]) => {
      if (fail) throw fail;
      stored.push(media);
    },
  };
}

const AT_SECONDS = Date.parse('2026-12-01T10:00:00Z') / 1000;
const eventOf = (m: EngineMessage, kept?: Parameters<typeof customerMessageEvent>[3]) =>
  JSON.parse(customerMessageEvent('tenant-a', m, new Date('2026-12-01T10:00:01Z'), kept).body);

describe('keepMedia', () => {
  it('stores the bytes under their bare MIME type with their sha256', async () => {
    const to = sink();
    const kept = await keepMedia('tenant-a', message(), to);
    const sha256 = createHash('sha256').update('opus').digest('hex');
    expect(kept).toEqual({ stored: true, sha256 });
    expect(to.stored).toEqual([
      {
        tenantId: 'tenant-a',
        messageId: 'false_34699000001@c.us_3EB0A',
        bytes: Buffer.from('opus'),
        mimeType: 'audio/ogg',
        sha256,
      },
    ]);
  });

  it('refuses a type Meta refuses, and what is over the limit announced or downloaded, without storing', async () => {
    let downloads = 0;
    const counted = (bytes: Buffer) => async () => {
      downloads += 1;
      return bytes;
    };
    const to = sink();
    const gif = message({
      type: 'image',
      media: { mimeType: 'image/gif', download: counted(Buffer.from('g')) },
    });
    const announced = message({
      type: 'image',
      media: { mimeType: 'image/jpeg', size: 6 * 1024 * 1024, download: counted(Buffer.from('j')) },
    });
    const big = message({
      type: 'sticker',
      media: { mimeType: 'image/webp', download: counted(Buffer.alloc(500 * 1024 + 1)) },
    });
    expect(await keepMedia('tenant-a', gif, to)).toMatchObject({ stored: false, reason: 'mime_not_allowed' });
    expect(await keepMedia('tenant-a', announced, to)).toMatchObject({ stored: false, reason: 'too_large' });
    expect(downloads).toBe(0); // neither was downloaded
    expect(await keepMedia('tenant-a', big, to)).toMatchObject({ stored: false, reason: 'too_large' });
    expect(to.stored).toEqual([]);
  });

  it('answers unavailable for gone media and for a download that hangs, store_failed for a failed write', async () => {
    const gone = message({
      media: {
        mimeType: 'audio/ogg',
        download: async () => {
          throw new EngineMediaUnavailableError('gone');
        },
      },
    });
    expect(await keepMedia('tenant-a', gone, sink())).toMatchObject({ stored: false, reason: 'unavailable' });
    const hung = message({ media: { mimeType: 'audio/ogg', download: () => new Promise<Buffer>(() => {}) } });
    expect(await keepMedia('tenant-a', hung, sink(), 20)).toMatchObject({
      stored: false,
      reason: 'unavailable',
      detail: 'the download took more than 20 ms',
    });
    const refused = await keepMedia('tenant-a', message(), sink(new Error('Access Denied')));
    expect(refused).toMatchObject({
      stored: false,
      reason: 'store_failed',
      detail: 'storing it failed: Error: Access Denied',
    });
  });
});

describe('customerMessageEvent with media', () => {
  it('describes stored media with stored and sha256, unstored media without, and keeps the caption as the text', () => {
    const stored = eventOf(message({ text: 'escucha' }), { stored: true, sha256: 'ab'.repeat(32) });
    expect(stored.message).toEqual({
      id: 'false_34699000001@c.us_3EB0A',
      type: 'audio',
      timestamp: AT_SECONDS,
      text: 'escucha',
      media: { stored: true, sha256: 'ab'.repeat(32), mime_type: 'audio/ogg; codecs=opus', voice: true },
    });
    const unstored = eventOf(
      message({
        type: 'document',
        media: { mimeType: 'application/zip', filename: 'a.zip', download: async () => Buffer.alloc(0) },
      }),
      { stored: false, reason: 'mime_not_allowed', detail: 'no' },
    );
    expect(unstored.message.media).toEqual({ mime_type: 'application/zip', filename: 'a.zip' });
  });

  it('writes what the assistant does not read as unsupported, and a text as text', () => {
    expect(eventOf(message({ type: 'other', text: '¿Qué día?', media: undefined })).message.type).toBe(
      'unsupported',
    );
    const text = eventOf(message({ type: 'text', text: 'hola', media: undefined })).message;
    expect(text).toEqual({
      id: 'false_34699000001@c.us_3EB0A',
      type: 'text',
      timestamp: AT_SECONDS,
      text: 'hola',
    });
  });
});

describe('messageKeyOf', () => {
  it("names a whatsapp-web.js message by its key, without the customer's number", () => {
    expect(messageKeyOf('false_34699000001@c.us_3EB0A1B2C3')).toBe('3EB0A1B2C3');
    expect(messageKeyOf('false_120363000000@g.us_3EB0D4_34699000001@c.us')).toBe('3EB0D4');
    expect(messageKeyOf('sim_voice1')).toBe('sim_voice1');
  });
});
