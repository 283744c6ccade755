import { describe, expect, it } from 'vitest';
import {
  decodeCursor,
  dynamoLimits,
  encodeCursor,
  isStorableKey,
  itemSizeBytes,
  useCursorSecret,
} from '../../lib/storage/table.ts';

const key = {
  pk: 'CLIENT#cl_abc123#CONTACT#ES.1349120865530274',
  sk: 'MSG#2026-11-24T10:00:00.000Z#wamid.1',
};

describe('pagination cursors', () => {
  it('given a key, when sealed and opened with the same secret, then it round-trips and shows nothing of it', () => {
    useCursorSecret('operator-key-one');
    const cursor = encodeCursor(key)!;
    expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
    const bytes = Buffer.from(cursor, 'base64url').toString('latin1');
    for (const part of ['CLIENT#', 'cl_abc123', 'CONTACT#', 'ES.1349', 'wamid'])
      expect(bytes).not.toContain(part);
    expect(decodeCursor(cursor)).toEqual(key);
    expect(encodeCursor(key)).not.toBe(cursor); // a fresh IV each time: equal keys do not look equal
  });

  it('given another secret (another deployment, or a rotated operator key), then the cursor does not open', () => {
    useCursorSecret('operator-key-one');
    const cursor = encodeCursor(key)!;
    useCursorSecret('operator-key-two');
    expect(decodeCursor(cursor)).toBeUndefined();
  });

  it('given any flipped bit, a truncation, extra characters or a forged plain key, then it does not open', () => {
    useCursorSecret('operator-key-one');
    const cursor = encodeCursor(key)!;
    const raw = Buffer.from(cursor, 'base64url');
    for (let index = 0; index < raw.length; index++) {
      const tampered = Buffer.from(raw);
      tampered[index] = (tampered[index] ?? 0) ^ 0x80;
      expect(decodeCursor(tampered.toString('base64url'))).toBeUndefined();
    }
    expect(decodeCursor(cursor.slice(0, -1))).toBeUndefined();
    expect(decodeCursor(`${cursor}=`)).toBeUndefined();
    expect(decodeCursor(`${cursor}.x`)).toBeUndefined();
    expect(decodeCursor(Buffer.from(JSON.stringify(key)).toString('base64url'))).toBeUndefined();
    expect(decodeCursor('garbage')).toBeUndefined();
  });

  it('given no more keys, then there is no cursor', () => {
    expect(encodeCursor(undefined)).toBeNull();
    expect(decodeCursor(undefined)).toBeUndefined();
  });
});

describe('DynamoDB limits, in UTF-8 bytes', () => {
  it('a key fits by bytes, not characters', () => {
    expect(isStorableKey({ pk: 'a'.repeat(dynamoLimits.partitionKeyBytes) })).toBe(true);
    expect(isStorableKey({ pk: 'a'.repeat(dynamoLimits.partitionKeyBytes + 1) })).toBe(false);
    expect(isStorableKey({ pk: 'p', sk: 'ñ'.repeat(512) })).toBe(true); // 1,024 bytes
    expect(isStorableKey({ pk: 'p', sk: 'ñ'.repeat(513) })).toBe(false);
    expect(isStorableKey({ pk: '😀'.repeat(513) })).toBe(false); // 1,026 characters, 2,052 bytes
  });

  it('an item counts names and UTF-8 values', () => {
    expect(itemSizeBytes({ a: '😀' })).toBeGreaterThanOrEqual(1 + 4);
    expect(itemSizeBytes({ faqs: [{ q: 'x', a: 'y' }] })).toBeGreaterThanOrEqual(4 + 1 + 1 + 1 + 1);
  });
});
