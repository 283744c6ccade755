/**
 * Small but real media files for tests: what a customer's phone would send, built byte by byte so
 * no binary fixture is kept in the repository.
 *
 * - `oggVoiceNote(spoken, seconds)`: an Ogg Opus stream (RFC 7845) as WhatsApp voice notes are,
 *   with `SPEECH:<spoken>` in its OpusTags: what the fake OpenAI server "hears" by default.
 * - `jpegImage()`: an 8×8 grey baseline JPEG.
 * - `pdfDocument(text)`: a one-page PDF 1.4 that shows `text`.
 */

/** The marker the fake transcription rule looks for (test/fakes/openai-transcriptions.ts). */
export const SPEECH_MARKER = 'SPEECH:';

const OPUS_PRE_SKIP = 312;
const SAMPLES_PER_FRAME = 960; // 20 ms at 48 kHz
/** An Opus packet of one 20 ms CELT fullband frame of silence (TOC 0xF8, then the frame). */
const SILENT_OPUS_PACKET = Buffer.from([0xf8, 0xff, 0xfe]);
/** Packets per audio page: each packet is one lacing segment, and a page holds at most 255. */
const PACKETS_PER_PAGE = 255;
const STREAM_SERIAL = 0x5a17_c0de;

export function oggVoiceNote(spoken: string, seconds: number): Buffer {
  const head = Buffer.alloc(19);
  head.write('OpusHead', 0, 'latin1');
  head[8] = 1; // version
  head[9] = 1; // mono, as voice notes are
  head.writeUInt16LE(OPUS_PRE_SKIP, 10);
  head.writeUInt32LE(16_000, 12); // the input's rate (informative only)
  head.writeInt16LE(0, 16); // output gain
  head[18] = 0; // channel mapping family 0

  const vendor = Buffer.from('wa-tenant-assistant test', 'utf8');
  const comment = Buffer.from(`DESCRIPTION=${SPEECH_MARKER}${spoken}`, 'utf8');
  const tags = Buffer.concat([
    Buffer.from('OpusTags', 'latin1'),
    u32(vendor.length),
    vendor,
    u32(1),
    u32(comment.length),
    comment,
  ]);

  const totalSamples = Math.round(seconds * 48_000);
  const packets = Math.max(1, Math.ceil(totalSamples / SAMPLES_PER_FRAME));
  const pages = [oggPage(0, 0x02, 0n, [head]), oggPage(1, 0, 0n, [tags])];
  let sequence = 2;
  for (let sent = 0; sent < packets; sent += PACKETS_PER_PAGE) {
    const count = Math.min(PACKETS_PER_PAGE, packets - sent);
    const last = sent + count >= packets;
    // The last page's granule trims the final frame to the exact length (end trimming, RFC 7845 §4.4).
    const granule = last ? OPUS_PRE_SKIP + totalSamples : OPUS_PRE_SKIP + (sent + count) * SAMPLES_PER_FRAME;
    pages.push(oggPage(sequence++, last ? 0x04 : 0, BigInt(granule), Array(count).fill(SILENT_OPUS_PACKET)));
  }
  return Buffer.concat(pages);
}

/** One Ogg page (RFC 3533 §6) of whole packets, each shorter than 255 bytes except header ones. */
function oggPage(sequence: number, headerType: number, granule: bigint, packets: Buffer[]): Buffer {
  const lacing: number[] = [];
  for (const packet of packets) {
    let left = packet.length;
    while (left >= 255) {
      lacing.push(255);
      left -= 255;
    }
    lacing.push(left);
  }
  if (lacing.length > 255) throw new Error('too many segments for one Ogg page');
  const header = Buffer.alloc(27);
  header.write('OggS', 0, 'latin1');
  header[4] = 0; // version
  header[5] = headerType;
  header.writeBigInt64LE(granule, 6);
  header.writeUInt32LE(STREAM_SERIAL, 14);
  header.writeUInt32LE(sequence, 18);
  header.writeUInt32LE(0, 22); // CRC, computed over the page with this field zeroed
  header[26] = lacing.length;
  const page = Buffer.concat([header, Buffer.from(lacing), ...packets]);
  page.writeUInt32LE(oggCrc32(page), 22);
  return page;
}

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let r = i << 24;
    for (let bit = 0; bit < 8; bit++) r = r & 0x8000_0000 ? (r << 1) ^ 0x04c1_1db7 : r << 1;
    table[i] = r >>> 0;
  }
  return table;
})();

/** Ogg's CRC-32: polynomial 0x04C11DB7, not reflected, initial value and final XOR 0. */
export function oggCrc32(bytes: Uint8Array): number {
  let crc = 0;
  for (const byte of bytes) crc = ((crc << 8) ^ (CRC_TABLE[((crc >>> 24) ^ byte) & 0xff] ?? 0)) >>> 0;
  return crc;
}

function u32(value: number): Buffer {
  const buffer = Buffer.alloc(4);
  buffer.writeUInt32LE(value, 0);
  return buffer;
}

/**
 * An 8×8 mid-grey baseline JPEG (JFIF): one 8-bit component, one block whose DC difference and AC
 * coefficients are all zero, so each Huffman table needs a single one-bit code.
 */
export function jpegImage(): Buffer {
  const segment = (marker: number, body: number[]) => [
    0xff,
    marker,
    ((body.length + 2) >> 8) & 0xff,
    (body.length + 2) & 0xff,
    ...body,
  ];
  const oneCodeTable = (tableClassAndId: number) => [tableClassAndId, 1, ...Array(15).fill(0), 0x00];
  return Buffer.from([
    0xff,
    0xd8, // SOI
    ...segment(0xe0, [0x4a, 0x46, 0x49, 0x46, 0x00, 1, 1, 0, 0, 1, 0, 1, 0, 0]), // APP0 JFIF 1.1
    ...segment(0xdb, [0x00, ...Array(64).fill(1)]), // DQT: table 0, all ones
    ...segment(0xc0, [8, 0, 8, 0, 8, 1, 1, 0x11, 0]), // SOF0: 8 bits, 8×8, 1 component 1×1, table 0
    ...segment(0xc4, oneCodeTable(0x00)), // DHT: DC table 0, category 0 → code "0"
    ...segment(0xc4, oneCodeTable(0x10)), // DHT: AC table 0, EOB → code "0"
    ...segment(0xda, [1, 1, 0x00, 0, 63, 0]), // SOS: component 1, tables 0/0, spectral 0..63
    0x3f, // "0" (DC diff 0), "0" (EOB), padded with ones
    0xff,
    0xd9, // EOI
  ]);
}

/** A one-page PDF 1.4 (Helvetica, Latin-1 text) with a correct cross-reference table. */
export function pdfDocument(text: string): Buffer {
  const escaped = [...text]
    .map((char) => {
      const code = char.codePointAt(0) ?? 0x3f;
      if (char === '\\' || char === '(' || char === ')') return `\\${char}`;
      if (code >= 0x20 && code < 0x7f) return char;
      // Outside ASCII: an octal escape in Latin-1 (WinAnsi-ish), or '?' beyond it.
      return code <= 0xff ? `\\${code.toString(8).padStart(3, '0')}` : '?';
    })
    .join('');
  const stream = `BT /F1 12 Tf 72 720 Td (${escaped}) Tj ET`;
  const objects = [
    '<< /Type /Catalog /Pages 2 0 R >>',
    '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
    '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>',
    '<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>',
    `<< /Length ${stream.length} >>\nstream\n${stream}\nendstream`,
  ];
  let body = '%PDF-1.4\n%\u00e2\u00e3\u00cf\u00d3\n';
  const offsets: number[] = [];
  objects.forEach((object, index) => {
    offsets.push(Buffer.byteLength(body, 'latin1'));
    body += `${index + 1} 0 obj\n${object}\nendobj\n`;
  });
  const xrefAt = Buffer.byteLength(body, 'latin1');
  body += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n`;
  for (const offset of offsets) body += `${String(offset).padStart(10, '0')} 00000 n \n`;
  body += `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R >>\nstartxref\n${xrefAt}\n%%EOF\n`;
  return Buffer.from(body, 'latin1');
}
