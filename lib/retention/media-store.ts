import { DeleteObjectsCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';

/**
 * Stored media of tenants in S3, one prefix per tenant (`<tenant id>/...`). The purge deletes
 * objects older than the tenant's retention, and all of a deleted tenant's.
 */
export interface MediaStore {
  deleteOlderThan(
    tenantId: string,
    cutoff: Date | undefined,
    limit: number,
  ): Promise<{ deleted: number; more: boolean }>;
}

export const mediaPrefix = (tenantId: string) => `${tenantId}/`;

export function createS3MediaStore(s3: S3Client, bucket: string): MediaStore {
  return {
    async deleteOlderThan(tenantId, cutoff, limit) {
      const listed = await s3.send(
        new ListObjectsV2Command({
          Bucket: bucket,
          Prefix: mediaPrefix(tenantId),
          MaxKeys: Math.min(1000, Math.max(1, limit)),
        }),
      );
      const doomed = (listed.Contents ?? []).filter(
        (object) => object.Key && (!cutoff || (object.LastModified && object.LastModified < cutoff)),
      );
      if (doomed.length === 0) return { deleted: 0, more: false };
      const result = await s3.send(
        new DeleteObjectsCommand({
          Bucket: bucket,
          Delete: { Objects: doomed.map((object) => ({ Key: object.Key! })), Quiet: false },
        }),
      );
      return { deleted: result.Deleted?.length ?? 0, more: listed.IsTruncated === true };
    },
  };
}
