import { S3Client } from '@aws-sdk/client-s3';
import type { AwsClientConfig } from './endpoints.ts';

/** The S3 client (path-style addressing with an emulator, whose buckets are not DNS names). */
export function createS3Client(config: AwsClientConfig): S3Client {
  const endpoint = config.AWS_ENDPOINT_URL_S3;
  return new S3Client({
    region: config.AWS_REGION,
    ...(endpoint ? { endpoint, forcePathStyle: true } : {}),
  });
}
