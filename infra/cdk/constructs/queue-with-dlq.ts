import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import { DeduplicationScope, FifoThroughputLimit, Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { QueueSpec } from '../../../lib/topology.ts';

export interface QueueWithDlqProps {
  spec: QueueSpec;
  retain: boolean;
}

/**
 * A topology queue and its dead-letter queue (FIFO for a FIFO queue, as SQS requires). Both are
 * encrypted with SQS-managed keys (SSE-SQS: no KMS grants, no per-request KMS charges; the bodies
 * are ids and message text that the table keeps under AWS-managed encryption anyway) and refuse
 * plain-HTTP requests.
 */
export class QueueWithDlq extends Construct {
  readonly queue: Queue;
  readonly deadLetterQueue: Queue;
  readonly spec: QueueSpec;

  constructor(scope: Construct, id: string, props: QueueWithDlqProps) {
    super(scope, id);
    const { spec } = props;
    this.spec = spec;
    // Per-message delays: SQS refuses them on FIFO queues and above 15 minutes.
    if (spec.perMessageDelaySeconds !== undefined && (spec.fifo || spec.perMessageDelaySeconds > 900)) {
      throw new Error(`queue ${spec.name}: per-message delays need a standard queue and at most 900 s`);
    }
    const removalPolicy = props.retain ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY;
    const common = {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      removalPolicy,
      ...(spec.fifo ? { fifo: true } : {}),
    };
    this.deadLetterQueue = new Queue(this, 'DeadLetterQueue', {
      ...common,
      // The longest SQS allows: time to find the bug and redrive.
      retentionPeriod: Duration.days(14),
    });
    this.queue = new Queue(this, 'Queue', {
      ...common,
      visibilityTimeout: Duration.seconds(spec.visibilityTimeoutSeconds),
      retentionPeriod: Duration.days(4),
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: spec.maxReceiveCount },
      ...(spec.fifo
        ? {
            // Producers set explicit deduplication ids (the wamid), never content-based ones.
            contentBasedDeduplication: false,
            // High-throughput FIFO: order and deduplication per message group (tenant + contact),
            // so one busy tenant never caps the queue at the 300 messages/s of a plain FIFO queue.
            deduplicationScope: DeduplicationScope.MESSAGE_GROUP,
            fifoThroughputLimit: FifoThroughputLimit.PER_MESSAGE_GROUP_ID,
          }
        : {}),
    });
  }
}
