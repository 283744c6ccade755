import { CreateBucketCommand, type S3Client } from '@aws-sdk/client-s3';

/** Creates a bucket on the local S3 emulator; one left by an earlier run (same data dir) is fine. */
export async function ensureBucket(s3: S3Client, bucket: string): Promise<void> {
  await s3.send(new CreateBucketCommand({ Bucket: bucket })).catch((error: unknown) => {
    if (!/BucketAlready/.test((error as { name?: string }).name ?? '')) throw error;
  });
}
