import type { IGrantable } from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import type { QueueSpec } from '../../../lib/topology.ts';
import { QueueWithDlq } from './queue-with-dlq.ts';

/**
 * The command queue of a QR shard (lib/qr/commands.ts): standard (commands carry their own id and
 * expiry, so order and exactly-once delivery are the runner's business), with a dead-letter queue.
 * A `send` for a session that is not connected may wait up to its expiry (10 minutes by default), so
 * a command is received a few times before it is acted on or dropped: ten receives before the DLQ.
 */
export const qrCommandQueueSpec = {
  name: 'qr-commands',
  fifo: false,
  visibilityTimeoutSeconds: 60,
  maxReceiveCount: 10,
  urlEnv: 'QR_COMMAND_QUEUE_URLS',
} as const satisfies QueueSpec;

export interface QrCommandQueuesProps {
  /** One queue per shard: shard `i` is `queues[i]` and the `i`-th URL of QR_COMMAND_QUEUE_URLS. */
  shards: number;
  retain: boolean;
}

/** The command queues of every QR shard (SSE-SQS, TLS only, each with its DLQ: QueueWithDlq). */
export class QrCommandQueues extends Construct {
  readonly queues: QueueWithDlq[];

  constructor(scope: Construct, id: string, props: QrCommandQueuesProps) {
    super(scope, id);
    if (!Number.isInteger(props.shards) || props.shards < 1) {
      throw new Error(`QR command queues: shards must be a positive integer, got ${props.shards}`);
    }
    this.queues = Array.from(
      { length: props.shards },
      (_, shard) =>
        new QueueWithDlq(this, `Shard${shard}`, { spec: qrCommandQueueSpec, retain: props.retain }),
    );
  }

  /** QR_COMMAND_QUEUE_URLS: the URLs in shard order, comma-separated (lib/config.ts). */
  get urlsEnv(): string {
    return this.queues.map((q) => q.queue.queueUrl).join(',');
  }

  /** The assistant's replies and the admin API's start/stop/unlink: SendMessage on every shard's queue. */
  grantSend(grantee: IGrantable): void {
    for (const q of this.queues) q.queue.grantSendMessages(grantee);
  }

  /** The runner: receive, delete and change visibility on every shard's queue (it leases one shard). */
  grantConsume(grantee: IGrantable): void {
    for (const q of this.queues) q.queue.grantConsumeMessages(grantee);
  }
}
