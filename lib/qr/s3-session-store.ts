import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import type { SessionSnapshotStore } from './session-snapshot-store.ts';

/** Where a tenant's session snapshot lives in the QR session bucket. */
export const sessionSnapshotKey = (tenantId: string) =>
  `qr-sessions/${encodeURIComponent(tenantId)}/session.zip`;

/**
 * S3 answers a missing key with NoSuchKey (GetObject) or NotFound (HeadObject, which has no body).
 * A missing bucket (NoSuchBucket, also a 404) is a misconfiguration, not "no session".
 */
function isMissing(error: unknown): boolean {
  const name = (error as { name?: string })?.name;
  return name === 'NoSuchKey' || name === 'NotFound';
}

/**
 * The QR sessions' snapshots in S3, one object per tenant, in a versioned, encrypted bucket
 * (infra). Unlike the S3 store on npm (which reads the zip from the wrong folder and deletes the
 * old copy before it writes the new one), a save is one PutObject that replaces the object, so the
 * last good snapshot stays until the new one is whole; only a logout, an unlink or leaving QR mode
 * deletes it. A failed read throws: "no session" would force the tenant to scan a new QR.
 */
export class S3SessionStore implements SessionSnapshotStore {
  constructor(
    private readonly s3: S3Client,
    private readonly bucket: string,
  ) {}

  async load(tenantId: string): Promise<Uint8Array | undefined> {
    try {
      const { Body } = await this.s3.send(
        new GetObjectCommand({ Bucket: this.bucket, Key: sessionSnapshotKey(tenantId) }),
      );
      if (!Body) throw new Error('S3 returned a session snapshot without a body');
      return await Body.transformToByteArray();
    } catch (error) {
      if (isMissing(error)) return undefined;
      throw error;
    }
  }

  async save(tenantId: string, snapshot: Uint8Array): Promise<void> {
    if (snapshot.byteLength === 0) throw new RangeError('refusing to save an empty session snapshot');
    await this.s3.send(
      new PutObjectCommand({
        Bucket: this.bucket,
        Key: sessionSnapshotKey(tenantId),
        Body: snapshot,
        ContentType: 'application/zip',
      }),
    );
  }

  async delete(tenantId: string): Promise<void> {
    await this.s3.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: sessionSnapshotKey(tenantId) }));
  }

  async exists(tenantId: string): Promise<boolean> {
    try {
      await this.s3.send(new HeadObjectCommand({ Bucket: this.bucket, Key: sessionSnapshotKey(tenantId) }));
      return true;
    } catch (error) {
      if (isMissing(error)) return false;
      throw error;
    }
  }
}
