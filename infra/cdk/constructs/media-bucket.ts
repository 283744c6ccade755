import { Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import { BlockPublicAccess, Bucket, BucketEncryption, ObjectOwnership } from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';

/**
 * The media bucket's name, computable in any stack of the same account and region: the stateless
 * stack names it in grants without a cross-stack reference (so cdk-nag can see the one wildcard,
 * `<bucket>/*`, and it can be acknowledged by name).
 */
export function mediaBucketName(stack: Stack, stage: string): string {
  return `wa-assistant-${stage}-media-${stack.account}-${stack.region}`;
}

export interface MediaBucketProps {
  stage: string;
  retain: boolean;
  /**
   * Days after which S3 deletes a media object whatever happens (customers' photos, audio,
   * documents: personal data). The purge deletes them earlier, per tenant retention.
   */
  expirationDays: number;
}

/**
 * Media customers send (downloaded from the Graph API's 5-minute URLs), private and short-lived:
 * public access blocked, TLS only, SSE-S3, no versioning (a deleted object must really be gone for
 * erasure requests), a lifecycle expiry as a backstop to the purge. Server access logs go to a
 * second bucket.
 */
export class MediaBucket extends Construct {
  readonly bucket: Bucket;
  readonly accessLogs: Bucket;

  constructor(scope: Construct, id: string, props: MediaBucketProps) {
    super(scope, id);
    const removalPolicy = props.retain ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY;
    const privateBucket = {
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      encryption: BucketEncryption.S3_MANAGED,
      objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
      removalPolicy,
    };
    this.accessLogs = new Bucket(this, 'AccessLogs', {
      ...privateBucket,
      lifecycleRules: [{ id: 'expire-access-logs', expiration: Duration.days(90) }],
    });
    Validations.of(this.accessLogs).acknowledge({
      id: 'AwsSolutions-S1',
      reason: 'This is the server-access-log bucket of the media bucket; logging it into itself would loop',
    });
    this.bucket = new Bucket(this, 'Bucket', {
      ...privateBucket,
      bucketName: mediaBucketName(Stack.of(this), props.stage),
      serverAccessLogsBucket: this.accessLogs,
      serverAccessLogsPrefix: 'media/',
      lifecycleRules: [
        { id: 'expire-media', expiration: Duration.days(props.expirationDays) },
        { id: 'abort-incomplete-uploads', abortIncompleteMultipartUploadAfter: Duration.days(1) },
      ],
    });
  }
}
