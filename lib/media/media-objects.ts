import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { mediaPrefix } from '../retention/media-store.ts';

/**
 * A customer's media as the product keeps it: one S3 object per message under the tenant's prefix
 * (`<tenant id>/media/<wamid>`), so the purge's per-tenant retention deletes it with the rest and a
 * key built for one tenant never names another's object.
 */
export const mediaObjectKey = (tenantId: string, messageId: string) =>
  `${mediaPrefix(tenantId)}media/${encodeURIComponent(messageId)}`;

export interface StoredMediaObject {
  key: string;
  mimeType: string;
  bytes: number;
}

export async function storeMedia(
  s3: S3Client,
  bucket: string,
  media: { tenantId: string; messageId: string; bytes: Buffer; mimeType: string; sha256: string },
): Promise<StoredMediaObject> {
  const key = mediaObjectKey(media.tenantId, media.messageId);
  await s3.send(
    new PutObjectCommand({
      Bucket: bucket,
      Key: key,
      Body: media.bytes,
      ContentType: media.mimeType,
      Metadata: { sha256: media.sha256 },
    }),
  );
  return { key, mimeType: media.mimeType, bytes: media.bytes.length };
}

/** A message's media, read back for this tenant only (undefined when there is none). */
export async function readMedia(
  s3: S3Client,
  bucket: string,
  tenantId: string,
  messageId: string,
): Promise<{ bytes: Buffer; mimeType: string } | undefined> {
  try {
    const object = await s3.send(
      new GetObjectCommand({ Bucket: bucket, Key: mediaObjectKey(tenantId, messageId) }),
    );
    const bytes = Buffer.from((await object.Body?.transformToByteArray()) ?? []);
    return { bytes, mimeType: object.ContentType ?? 'application/octet-stream' };
  } catch (error) {
    if ((error as { name?: string }).name === 'NoSuchKey') return undefined;
    throw error;
  }
}
