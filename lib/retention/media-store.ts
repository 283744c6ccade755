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
      // Pages through the tenant's prefix: a first page of fresh objects must not hide older ones.
      let deleted = 0;
      let token: string | undefined;
      do {
        const listed = await s3.send(
          new ListObjectsV2Command({
            Bucket: bucket,
            Prefix: mediaPrefix(tenantId),
            MaxKeys: 1000,
            ...(token ? { ContinuationToken: token } : {}),
          }),
        );
        const doomed = (listed.Contents ?? [])
          .filter(
            (object) => object.Key && (!cutoff || (object.LastModified && object.LastModified < cutoff)),
          )
          .slice(0, limit - deleted);
        if (doomed.length > 0) {
          const result = await s3.send(
            new DeleteObjectsCommand({
              Bucket: bucket,
              Delete: { Objects: doomed.map((object) => ({ Key: object.Key! })), Quiet: false },
            }),
          );
          deleted += result.Deleted?.length ?? 0;
        }
        token = listed.IsTruncated ? listed.NextContinuationToken : undefined;
      } while (token && deleted < limit);
      return { deleted, more: token !== undefined };
    },
  };
}
