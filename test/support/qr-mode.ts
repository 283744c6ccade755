import { CreateBucketCommand } from '@aws-sdk/client-s3';
import { CreateQueueCommand, DeleteMessageCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import type { AwsClients } from '../../lib/aws-clients.ts';
import { SqsQrCommandQueue } from '../../lib/qr/command-queue.ts';
import { type QrCommand, qrCommandSchema } from '../../lib/qr/commands.ts';
import { QrStatusStore } from '../../lib/qr/qr-status-store.ts';
import { S3SessionStore } from '../../lib/qr/s3-session-store.ts';
import { type ShardLease, ShardLeases } from '../../lib/qr/shard-lease.ts';
import type { QrModePort } from '../../lib/tenants/client-service.ts';
import { uniqueName } from './emulators.ts';

/**
 * QR mode on the emulators, as the admin API is wired with it: a command queue per shard (fauxqs
 * SQS), the session bucket (fauxqs S3), the status store on the test's table, and a runner's side to
 * read the commands back and write statuses under a shard lease.
 */
export interface QrModeFixture {
  port: QrModePort;
  queueUrls: string[];
  sessions: S3SessionStore;
  statuses: QrStatusStore;
  /** Every command taken from the queues so far, with its shard (received and deleted). */
  received: Array<{ shard: string; command: QrCommand }>;
  /** Drains every shard's queue into `received`; the commands of `tenantId` (all, in order). */
  commandsOf(tenantId: string): Promise<Array<{ shard: string; command: QrCommand }>>;
  /** The lease of `shard` a runner holds (acquired once, for the whole file). */
  leaseOf(shard: string): Promise<ShardLease>;
}

export async function qrModeFixture(aws: AwsClients, tableName: string, shardCount = 2) {
  const queueUrls: string[] = [];
  for (let shard = 0; shard < shardCount; shard++) {
    const { QueueUrl } = await aws.sqs.send(
      new CreateQueueCommand({ QueueName: uniqueName(`qr-cmd-${shard}`) }),
    );
    queueUrls.push(QueueUrl!);
  }
  const bucket = uniqueName('qr-sessions').toLowerCase();
  await aws.s3.send(new CreateBucketCommand({ Bucket: bucket }));
  const sessions = new S3SessionStore(aws.s3, bucket);
  const statuses = new QrStatusStore(aws.dynamo, tableName);
  const leases = new ShardLeases(aws.dynamo, tableName, {
    owner: uniqueName('runner'),
    durationMs: 3_600_000,
  });
  const held = new Map<string, ShardLease>();
  const received: QrModeFixture['received'] = [];

  async function drain() {
    for (const [index, url] of queueUrls.entries()) {
      for (;;) {
        const { Messages } = await aws.sqs.send(
          new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }),
        );
        if (!Messages?.length) break;
        for (const message of Messages) {
          received.push({ shard: String(index), command: qrCommandSchema.parse(JSON.parse(message.Body!)) });
          await aws.sqs.send(
            new DeleteMessageCommand({ QueueUrl: url, ReceiptHandle: message.ReceiptHandle! }),
          );
        }
      }
    }
  }

  const fixture: QrModeFixture = {
    port: {
      commands: new SqsQrCommandQueue(aws.sqs, queueUrls),
      shardCount,
      statuses,
      sessions,
    },
    queueUrls,
    sessions,
    statuses,
    received,
    async commandsOf(tenantId) {
      await drain();
      return received.filter(({ command }) => command.tenant_id === tenantId);
    },
    async leaseOf(shard) {
      let lease = held.get(shard);
      if (!lease) {
        lease = await leases.acquire(shard);
        if (!lease) throw new Error(`shard ${shard} is held by another runner`);
        held.set(shard, lease);
      }
      return lease;
    },
  };
  return fixture;
}
