/**
 * A real Ogg Opus file (RFC 7845) for tests that send a voice note: mono, 48 kHz, `seconds` long, of
 * silence (each 20 ms packet is a TOC byte with an empty frame, which decoders play as silence). A
 * browser plays it and knows its duration; `OggS` pages with their CRC, OpusHead and OpusTags.
 */

const PRE_SKIP = 312;
const SAMPLES_PER_PACKET = 960; // 20 ms at 48 kHz
const SILENT_PACKET = Buffer.from([0xf8]); // config 31 (CELT, fullband, 20 ms), mono, one frame

const CRC_TABLE = Array.from({ length: 256 }, (_, index) => {
  let crc = index << 24;
  for (let bit = 0; bit < 8; bit++) crc = crc & 0x80000000 ? (crc << 1) ^ 0x04c11db7 : crc << 1;
  return crc >>> 0;
});

function oggCrc(page: Buffer): number {
  let crc = 0;
  for (const byte of page) crc = ((crc << 8) ^ CRC_TABLE[((crc >>> 24) ^ byte) & 0xff]!) >>> 0;
  return crc;
}

/** One Ogg page holding whole packets (each under 255 bytes: one lacing value each). */
function oggPage(packets: Buffer[], options: { sequence: number; granule: number; flags: number }): Buffer {
  const header = Buffer.alloc(27);
  header.write('OggS', 0, 'latin1');
  header.writeUInt8(0, 4);
  header.writeUInt8(options.flags, 5);
  header.writeBigUInt64LE(BigInt(options.granule), 6);
  header.writeUInt32LE(0x5157a11, 14);
  header.writeUInt32LE(options.sequence, 18);
  header.writeUInt8(packets.length, 26);
  const lacing = Buffer.from(packets.map((packet) => packet.length));
  const page = Buffer.concat([header, lacing, ...packets]);
  page.writeUInt32LE(oggCrc(page), 22);
  return page;
}

export function silentVoiceNote(seconds = 1): Buffer {
  const head = Buffer.alloc(19);
  head.write('OpusHead', 0, 'latin1');
  head.writeUInt8(1, 8); // version
  head.writeUInt8(1, 9); // channels
  head.writeUInt16LE(PRE_SKIP, 10);
  head.writeUInt32LE(48_000, 12);
  head.writeInt16LE(0, 16); // output gain
  head.writeUInt8(0, 18); // channel mapping family
  const vendor = Buffer.from('wa-tenant-assistant tests', 'latin1');
  const tags = Buffer.alloc(8 + 4 + vendor.length + 4);
  tags.write('OpusTags', 0, 'latin1');
  tags.writeUInt32LE(vendor.length, 8);
  vendor.copy(tags, 12);
  tags.writeUInt32LE(0, 12 + vendor.length);
  const count = Math.max(1, Math.round((seconds * 48_000) / SAMPLES_PER_PACKET));
  const pages: Buffer[] = [
    oggPage([head], { sequence: 0, granule: 0, flags: 0x02 }),
    oggPage([tags], { sequence: 1, granule: 0, flags: 0 }),
  ];
  // At most 255 packets a page; the granule is the samples decoded by the page's end, pre-skip included.
  for (let done = 0, sequence = 2; done < count; sequence++) {
    const n = Math.min(255, count - done);
    done += n;
    const last = done === count;
    pages.push(
      oggPage(
        Array.from({ length: n }, () => SILENT_PACKET),
        {
          sequence,
          granule: PRE_SKIP + done * SAMPLES_PER_PACKET,
          flags: last ? 0x04 : 0,
        },
      ),
    );
  }
  return Buffer.concat(pages);
}
