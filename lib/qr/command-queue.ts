import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { encodeSqsJson } from '../conversation/inbound-event.ts';
import type { QrCommand, QrCommandQueue } from './commands.ts';

/** The command queues of the shards, by SQS: shard `i` is `queueUrls[i]`. */
export class SqsQrCommandQueue implements QrCommandQueue {
  constructor(
    private readonly sqs: SQSClient,
    private readonly queueUrls: readonly string[],
  ) {}

  get shardCount(): number {
    return this.queueUrls.length;
  }

  queueUrlOf(shard: string): string {
    const url = this.queueUrls[Number(shard)];
    if (url === undefined) throw new RangeError(`no command queue for shard ${shard}`);
    return url;
  }

  async send(shard: string, command: QrCommand): Promise<void> {
    await this.sqs.send(
      new SendMessageCommand({ QueueUrl: this.queueUrlOf(shard), MessageBody: encodeSqsJson(command) }),
    );
  }
}
