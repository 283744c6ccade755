import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { beforeAll, describe, expect, it } from 'vitest';
import type { AwsClients } from '../../lib/aws-clients.ts';
import { S3SessionStore, sessionSnapshotKey } from '../../lib/qr/s3-session-store.ts';
import { freshTable, uniqueName } from '../support/emulators.ts';

/** The QR session snapshot store on fauxqs's S3, through the real SDK. */
let aws: AwsClients;
let bucket: string;
let store: S3SessionStore;

const bytes = (text: string) => new TextEncoder().encode(text);
const text = (data: Uint8Array | undefined) => (data ? new TextDecoder().decode(data) : undefined);

beforeAll(async () => {
  ({ aws } = await freshTable());
  bucket = uniqueName('qr-sessions').toLowerCase();
  await aws.s3.send(new CreateBucketCommand({ Bucket: bucket }));
  store = new S3SessionStore(aws.s3, bucket);
});

describe('S3SessionStore', () => {
  it('given a saved snapshot, when it is loaded, then the same bytes come back under the tenant prefix', async () => {
    const snapshot = new Uint8Array(256 * 1024).map((_, i) => (i * 31) % 251);
    await store.save('tenant-round-trip', snapshot);
    expect(await store.load('tenant-round-trip')).toEqual(snapshot);
    expect(await store.exists('tenant-round-trip')).toBe(true);
    expect(sessionSnapshotKey('tenant-round-trip')).toBe('qr-sessions/tenant-round-trip/session.zip');
  });

  it('given no snapshot, when it is loaded, then it is undefined and does not exist', async () => {
    expect(await store.load('tenant-never-linked')).toBeUndefined();
    expect(await store.exists('tenant-never-linked')).toBe(false);
  });

  it('given a snapshot, when a newer one is saved, then the newer one is read and the key still holds one object', async () => {
    await store.save('tenant-overwrite', bytes('first'));
    await store.save('tenant-overwrite', bytes('second'));
    expect(text(await store.load('tenant-overwrite'))).toBe('second');
  });

  it('given an empty snapshot (a failed zip), when it is saved, then it is refused and the last good one stays', async () => {
    await store.save('tenant-empty', bytes('good'));
    await expect(store.save('tenant-empty', new Uint8Array(0))).rejects.toThrow(/empty/);
    expect(text(await store.load('tenant-empty'))).toBe('good');
  });

  it('given a logout, when the snapshot is deleted, then it is gone for that tenant only', async () => {
    await store.save('tenant-a-logout', bytes('a'));
    await store.save('tenant-b-stays', bytes('b'));
    await store.delete('tenant-a-logout');
    expect(await store.load('tenant-a-logout')).toBeUndefined();
    expect(text(await store.load('tenant-b-stays'))).toBe('b');
  });

  it('given an object of another tenant, when a tenant loads, then it never reads it (keys are per tenant, ids escaped)', async () => {
    await aws.s3.send(
      new PutObjectCommand({ Bucket: bucket, Key: 'qr-sessions/victim/session.zip', Body: 'secret' }),
    );
    expect(await store.load('victim/../attacker')).toBeUndefined();
    expect(sessionSnapshotKey('victim/../attacker')).toBe('qr-sessions/victim%2F..%2Fattacker/session.zip');
  });

  it('given an unreachable S3, when a snapshot is loaded or checked, then the error surfaces instead of "no session"', async () => {
    const unreachable = new S3SessionStore(
      new S3Client({
        region: 'us-east-1',
        endpoint: 'http://127.0.0.1:9',
        forcePathStyle: true,
        maxAttempts: 1,
        credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
      }),
      bucket,
    );
    await expect(unreachable.load('tenant-round-trip')).rejects.toThrow();
    await expect(unreachable.exists('tenant-round-trip')).rejects.toThrow();
  });

  it('given a missing bucket, when a snapshot is loaded, then it is an error, not "no session"', async () => {
    const wrongBucket = new S3SessionStore(aws.s3, uniqueName('missing-bucket').toLowerCase());
    await expect(wrongBucket.load('tenant-round-trip')).rejects.toThrow();
  });
});
