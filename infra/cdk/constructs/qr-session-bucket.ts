import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import {
  BlockPublicAccess,
  Bucket,
  BucketEncryption,
  type IBucket,
  ObjectOwnership,
} from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';

/**
 * The QR session bucket's name, computable in any stack of the same account and region (like the
 * media bucket's): the stateless stack names it in grants without a cross-stack reference, so the
 * one wildcard (`<bucket>/qr-sessions/*`) can be acknowledged to cdk-nag by name.
 */
export function qrSessionBucketName(stack: Stack, stage: string): string {
  return `wa-assistant-${stage}-qr-sessions-${stack.account}-${stack.region}`;
}

/** Where lib/qr/s3-session-store.ts keeps snapshots: `qr-sessions/<tenant id>/session.zip`. */
export const QR_SESSION_PREFIX = 'qr-sessions/';

/** Days a replaced or deleted snapshot stays as a noncurrent version (to recover a bad save). */
export const QR_NONCURRENT_VERSION_DAYS = 7;

export interface QrSessionBucketProps {
  stage: string;
  retain: boolean;
  /** The server-access-log bucket (the media bucket's): this bucket logs under `qr-sessions/`. */
  accessLogs: IBucket;
}

/**
 * Snapshots of QR sessions (a zip of the browser profile's IndexedDB and Local Storage: whoever has
 * one is logged in to the tenant's WhatsApp account). Private, TLS only, SSE-S3 (as the media
 * bucket: no KMS grants), bucket-owner objects. Versioned, so a save that went wrong can be rolled
 * back by hand; a replaced or deleted snapshot expires as a noncurrent version after 7 days, so an
 * unlinked account's credentials are gone within a week. Server access logs go to the media
 * bucket's log bucket.
 */
export class QrSessionBucket extends Construct {
  readonly bucket: Bucket;
  readonly bucketName: string;

  constructor(scope: Construct, id: string, props: QrSessionBucketProps) {
    super(scope, id);
    this.bucketName = qrSessionBucketName(Stack.of(this), props.stage);
    this.bucket = new Bucket(this, 'Bucket', {
      bucketName: this.bucketName,
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      encryption: BucketEncryption.S3_MANAGED,
      objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
      versioned: true,
      removalPolicy: props.retain ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
      // Like the media bucket, no auto-delete custom resource: a dev stack deletes it only once empty.
      serverAccessLogsBucket: props.accessLogs,
      serverAccessLogsPrefix: QR_SESSION_PREFIX,
      lifecycleRules: [
        {
          id: 'expire-noncurrent-snapshots',
          noncurrentVersionExpiration: Duration.days(QR_NONCURRENT_VERSION_DAYS),
        },
        { id: 'remove-expired-delete-markers', expiredObjectDeleteMarker: true },
        { id: 'abort-incomplete-uploads', abortIncompleteMultipartUploadAfter: Duration.days(1) },
      ],
    });
  }
}
