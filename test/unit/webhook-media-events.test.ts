import { describe, expect, it } from 'vitest';
import { type InboundMessageEvent, inboundMessageEventSchema } from '../../lib/conversation/inbound-event.ts';
import { parseInboundMessage } from '../../lib/webhook/payload-fast-path.ts';
import { messageEvent } from '../../lib/webhook/queue-events.ts';

/**
 * What the webhook queues of a media, location or contacts message: the fields the assistant
 * fetches and reads, bounded; a field that cannot be read costs itself, never the message.
 */

function queued(raw: Record<string, unknown>): InboundMessageEvent['message'] {
  const parsed = parseInboundMessage({
    from: '34600000001',
    id: 'wamid.M1',
    timestamp: '1767000000',
    ...raw,
  });
  if (!parsed.success) throw new Error(`refused: ${JSON.stringify(parsed.error.issues)}`);
  const fifo = messageEvent(parsed.data, { key: '34600000001', wa_id: '34600000001' }, '1234', 'cl_a', 'now');
  // What the consumer reads back must pass the queue contract.
  const event = inboundMessageEventSchema.parse(JSON.parse(fifo.body));
  return event.message;
}

const sha = 'n2ZkZYgH2y0bSkhLG4UOp0dkGRE8BWlsGZGhNn6Mrt8=';

describe('a media message on the queue', () => {
  it('given a voice note, then its id, MIME type, sha256 and voice flag travel', () => {
    expect(
      queued({
        type: 'audio',
        audio: { mime_type: 'audio/ogg; codecs=opus', sha256: sha, id: '1035217115283581', voice: true },
      }),
    ).toEqual({
      id: 'wamid.M1',
      type: 'audio',
      timestamp: 1767000000,
      media: { id: '1035217115283581', mime_type: 'audio/ogg; codecs=opus', sha256: sha, voice: true },
    });
  });

  it('given a document, then its caption is the text and its filename travels with the media', () => {
    const message = queued({
      type: 'document',
      document: {
        caption: '¿Está listo?',
        filename: 'pedido.pdf',
        mime_type: 'application/pdf',
        sha256: sha,
        id: '77',
      },
    });
    expect(message.text).toBe('¿Está listo?');
    expect(message.media).toEqual({
      id: '77',
      mime_type: 'application/pdf',
      sha256: sha,
      filename: 'pedido.pdf',
    });
  });

  it('given a media id that is no id, then the message keeps its caption and has no media', () => {
    const message = queued({
      type: 'image',
      image: { id: 'not an id', caption: 'hola', mime_type: 'image/jpeg' },
    });
    expect(message).toMatchObject({ type: 'image', text: 'hola' });
    expect(message.media).toBeUndefined();
  });

  it('given an audio or sticker field that is not an object, then the message is kept without media', () => {
    for (const type of ['audio', 'sticker']) {
      for (const value of [null, [], 'x', 5]) {
        const message = queued({ type, [type]: value });
        expect(message.type).toBe(type);
        expect(message.media).toBeUndefined();
      }
    }
  });

  it('given a sha256 or MIME type out of bounds, then only that field is dropped', () => {
    const message = queued({
      type: 'image',
      image: { id: '88', sha256: 'x'.repeat(129), mime_type: 'y'.repeat(129), voice: 'yes' },
    });
    expect(message.media).toEqual({ id: '88' });
  });
});

describe('a location or contact card on the queue', () => {
  it('given a location without a name, then its coordinates are the text', () => {
    expect(queued({ type: 'location', location: { latitude: 40.4168, longitude: -3.7038 } }).text).toBe(
      '40.4168, -3.7038',
    );
  });

  it('given a named location, then its name and address are the text', () => {
    const location = { latitude: 1, longitude: 2, name: 'La Plaza', address: 'Calle Mayor 1' };
    expect(queued({ type: 'location', location }).text).toBe('La Plaza, Calle Mayor 1');
  });

  it('given coordinates out of range, then they are dropped and the message kept', () => {
    expect(queued({ type: 'location', location: { latitude: 500, longitude: 'x' } }).text).toBeUndefined();
  });

  it('given contact cards, then their names and phones are the text', () => {
    const contacts = [
      {
        name: { formatted_name: 'Ana Pérez' },
        phones: [{ phone: '+34 600 000 000' }, { phone: '+34 911 000 000' }],
      },
      { name: { formatted_name: 'Luis' } },
    ];
    expect(queued({ type: 'contacts', contacts }).text).toBe(
      'Ana Pérez +34 600 000 000 +34 911 000 000; Luis',
    );
  });

  it('given more than 20 cards, then the cards are dropped and the message kept', () => {
    const contacts = Array.from({ length: 21 }, (_, i) => ({ name: { formatted_name: `C${i}` } }));
    const message = queued({ type: 'contacts', contacts });
    expect(message).toMatchObject({ type: 'contacts' });
    expect(message.text).toBeUndefined();
  });
});
