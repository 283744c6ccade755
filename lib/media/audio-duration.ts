/**
 * How long a voice note lasts, read from its container without decoding it: WhatsApp voice notes
 * are Ogg Opus (RFC 7845), whose pages carry a granule position counting 48 kHz samples. The last
 * page's granule, minus the pre-skip the OpusHead declares, is the playable length. Used to bill a
 * transcription when the API does not say how many seconds it heard, and to refuse long notes
 * before sending them anywhere.
 */

const CAPTURE = Buffer.from('OggS', 'latin1');
const OPUS_HEAD = Buffer.from('OpusHead', 'latin1');
/** Fixed part of a page header (RFC 3533 §6), before its segment table. */
const PAGE_HEADER_BYTES = 27;
/** Opus granule positions always count 48 kHz samples, whatever the input rate was. */
const OPUS_RATE = 48_000;
/** "No packet ends on this page": the granule carries no position. */
const NO_GRANULE = -1n;

/**
 * Seconds of an Ogg Opus stream, or undefined when the bytes are not Ogg Opus (another container,
 * a truncated first page, a stream that never says its position). Pages are walked from the first
 * one by their lengths (never by searching for `OggS`, which could occur inside audio data); a
 * truncated tail ends the walk at the last complete page.
 */
export function oggOpusDurationSeconds(bytes: Buffer): number | undefined {
  const first = pageAt(bytes, 0);
  if (!first || (first.headerType & 0x02) === 0) return undefined; // not a beginning of stream
  const head = bytes.subarray(first.bodyStart, first.end);
  if (head.length < 19 || !head.subarray(0, 8).equals(OPUS_HEAD)) return undefined;
  const preSkip = head.readUInt16LE(10);

  let lastGranule: bigint | undefined;
  for (let page = pageAt(bytes, first.end); page; page = pageAt(bytes, page.end)) {
    // Only the Opus stream's own pages (a multiplexed file may carry others).
    if (page.serial === first.serial && page.granule !== NO_GRANULE) lastGranule = page.granule;
  }
  if (lastGranule === undefined) return undefined;
  const samples = lastGranule - BigInt(preSkip);
  if (samples <= 0n) return undefined;
  return Number(samples) / OPUS_RATE;
}

interface OggPage {
  headerType: number;
  granule: bigint;
  serial: number;
  bodyStart: number;
  end: number;
}

/** The page starting at `offset`, or undefined when none (or only part of one) is there. */
function pageAt(bytes: Buffer, offset: number): OggPage | undefined {
  if (offset + PAGE_HEADER_BYTES > bytes.length) return undefined;
  if (!bytes.subarray(offset, offset + 4).equals(CAPTURE) || bytes[offset + 4] !== 0) return undefined;
  const segments = bytes[offset + 26] ?? 0;
  const bodyStart = offset + PAGE_HEADER_BYTES + segments;
  if (bodyStart > bytes.length) return undefined;
  let bodyLength = 0;
  for (let i = 0; i < segments; i++) bodyLength += bytes[offset + PAGE_HEADER_BYTES + i] ?? 0;
  const end = bodyStart + bodyLength;
  if (end > bytes.length) return undefined;
  return {
    headerType: bytes[offset + 5] ?? 0,
    granule: bytes.readBigInt64LE(offset + 6),
    serial: bytes.readUInt32LE(offset + 14),
    bodyStart,
    end,
  };
}
