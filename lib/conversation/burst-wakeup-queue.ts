import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import * as z from 'zod/mini';
import type { BurstWakeup, BurstWakeups } from './burst-ports.ts';

/**
 * The wake-ups of reply bursts on a standard SQS queue: unlike the FIFO inbound queue it delays
 * single messages (`DelaySeconds`, up to 15 minutes), which is the whole debounce timer. The body
 * holds ids and a number only, never message text. fauxqs, the local emulator, honours per-message
 * delays on standard queues too (and counts them in ApproximateNumberOfMessagesDelayed, which the
 * local poller's `drained()` waits for), so the local stack needs nothing more.
 */
export class SqsBurstWakeups implements BurstWakeups {
  constructor(
    private readonly sqs: SQSClient,
    private readonly queueUrl: string,
  ) {}

  async schedule(wakeup: BurstWakeup, delaySeconds: number): Promise<void> {
    await this.sqs.send(
      new SendMessageCommand({
        QueueUrl: this.queueUrl,
        MessageBody: JSON.stringify(wakeup),
        DelaySeconds: Math.min(900, Math.max(0, Math.ceil(delaySeconds))),
      }),
    );
  }
}

/** The contract of the wake-up queue, as its consumer (functions/reply-burst.ts) reads it. */
export const burstWakeupSchema = z.object({
  v: z.literal(1),
  tenant_id: z.string().check(z.minLength(1)),
  contact_key: z.string().check(z.minLength(1)),
  seq: z.number().check(z.int(), z.minimum(1)),
});
