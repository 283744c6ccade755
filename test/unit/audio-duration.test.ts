import { describe, expect, it } from 'vitest';
import { oggOpusDurationSeconds } from '../../lib/media/audio-duration.ts';
import { jpegImage, oggCrc32, oggVoiceNote, pdfDocument } from '../support/media-samples.ts';

/** The Ogg pages of a stream, split by their own lengths. */
function pages(bytes: Buffer): Buffer[] {
  const out: Buffer[] = [];
  for (let offset = 0; offset < bytes.length; ) {
    const segments = bytes[offset + 26] ?? 0;
    let length = 27 + segments;
    for (let i = 0; i < segments; i++) length += bytes[offset + 27 + i] ?? 0;
    out.push(bytes.subarray(offset, offset + length));
    offset += length;
  }
  return out;
}

describe('oggOpusDurationSeconds', () => {
  it('reads a voice note’s length: the last granule minus the pre-skip, at 48 kHz', () => {
    expect(oggOpusDurationSeconds(oggVoiceNote('hola', 7.5))).toBe(7.5);
    expect(oggOpusDurationSeconds(oggVoiceNote('hola', 0.02))).toBe(0.02);
  });

  it('reads long notes that span many pages', () => {
    const note = oggVoiceNote('un audio largo', 95);
    expect(pages(note).length).toBeGreaterThan(10);
    expect(oggOpusDurationSeconds(note)).toBe(95);
  });

  it('walks pages by their lengths, so "OggS" inside the data does not mislead it', () => {
    expect(oggOpusDurationSeconds(oggVoiceNote('OggS OggS OggS', 3))).toBe(3);
  });

  it('stops at the last complete page of a truncated note', () => {
    const note = oggVoiceNote('cortado', 12);
    const [head, tags, firstAudio] = pages(note);
    const truncated = note.subarray(0, note.length - 5);
    // The first audio page holds 255 frames of 20 ms (5.1 s); the cut removes the last page's end.
    expect(firstAudio?.readBigInt64LE(6)).toBe(312n + 255n * 960n);
    expect(oggOpusDurationSeconds(truncated)).toBe(10.2);
    expect(oggOpusDurationSeconds(Buffer.concat([head ?? Buffer.alloc(0), tags ?? Buffer.alloc(0)]))).toBe(
      undefined,
    );
  });

  it('is undefined for anything that is not Ogg Opus', () => {
    expect(oggOpusDurationSeconds(Buffer.alloc(0))).toBeUndefined();
    expect(oggOpusDurationSeconds(jpegImage())).toBeUndefined();
    expect(oggOpusDurationSeconds(pdfDocument('hola'))).toBeUndefined();
    expect(oggOpusDurationSeconds(Buffer.from('ID3\u0004 an mp3 would start so'))).toBeUndefined();
    // Ogg, but Vorbis: the first packet is no OpusHead.
    const vorbis = Buffer.from(oggVoiceNote('hola', 2));
    vorbis.write('\u0001vorbis\u0000', 28, 'latin1');
    expect(oggOpusDurationSeconds(vorbis)).toBeUndefined();
  });
});

describe('the test voice notes (media-samples.ts)', () => {
  it('use the Ogg CRC-32 (check value of "123456789" is 0x89A1897F)', () => {
    expect(oggCrc32(Buffer.from('123456789'))).toBe(0x89a1897f);
  });

  it('carry a valid CRC on every page, OpusHead then OpusTags, and end with the end-of-stream flag', () => {
    const all = pages(oggVoiceNote('¿Abrís el domingo?', 6));
    for (const page of all) {
      const zeroed = Buffer.from(page);
      zeroed.writeUInt32LE(0, 22);
      expect(oggCrc32(zeroed)).toBe(page.readUInt32LE(22));
    }
    expect(all[0]?.subarray(28, 36).toString('latin1')).toBe('OpusHead');
    expect(all[0]?.[5]).toBe(0x02);
    expect(all[1]?.subarray(28, 36).toString('latin1')).toBe('OpusTags');
    expect(all.at(-1)?.[5]).toBe(0x04);
    expect(Buffer.concat(all).includes('SPEECH:¿Abrís el domingo?')).toBe(true);
  });
});
