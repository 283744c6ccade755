import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  type Message,
  ReceiveMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { sqsEvent } from './lambda-events.ts';

/**
 * Plays Lambda's SQS event source mapping locally: receives batches, invokes the consumer, deletes
 * what succeeded and makes failures visible again after a short delay (AWS would wait for the
 * visibility timeout; locally we keep the loop quick). Like the mapping it runs several receive
 * loops at once (`concurrency`, the function's maximum concurrency locally): fauxqs hands out one
 * message per FIFO group per receive, so conversations are answered in parallel, each in order.
 */
export interface QueuePoller {
  stop(): Promise<void>;
  /**
   * Resolves once no batch is in flight, a receive that began after the last one finished found
   * nothing, and the queue holds no message (visible, in flight or delayed: a retry counts).
   */
  drained(timeoutMs?: number): Promise<void>;
}

export function startQueuePoller(options: {
  sqs: SQSClient;
  queueUrl: string;
  queueArn: string;
  handler: (event: SQSEvent) => Promise<SQSBatchResponse | undefined | unknown>;
  batchSize?: number;
  /** Receive loops (batches in flight at once). */
  concurrency?: number;
  retryDelaySeconds?: number;
  onError?: (error: unknown) => void;
}): QueuePoller {
  let running = true;
  let busy = 0;
  let lastBatchEndedAt = 0;
  let lastEmptyReceiveStartedAt = 0;
  const sqs = options.sqs;

  async function settle(messages: Message[], result: unknown) {
    const failures = (result as SQSBatchResponse | undefined)?.batchItemFailures ?? [];
    const failed = new Set(failures.map((f) => f.itemIdentifier));
    const done = messages.filter((m) => !failed.has(m.MessageId ?? ''));
    const retry = messages.filter((m) => failed.has(m.MessageId ?? ''));
    if (done.length > 0) {
      await sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: options.queueUrl,
          Entries: done.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle })),
        }),
      );
    }
    if (retry.length > 0) {
      await sqs.send(
        new ChangeMessageVisibilityBatchCommand({
          QueueUrl: options.queueUrl,
          Entries: retry.map((m, i) => ({
            Id: String(i),
            ReceiptHandle: m.ReceiptHandle,
            VisibilityTimeout: options.retryDelaySeconds ?? 2,
          })),
        }),
      );
    }
  }

  async function receiveLoop() {
    while (running) {
      let messages: Message[] = [];
      const receiveStartedAt = Date.now();
      try {
        const received = await sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: options.queueUrl,
            MaxNumberOfMessages: options.batchSize ?? 10,
            WaitTimeSeconds: 1,
            MessageSystemAttributeNames: ['All'],
          }),
        );
        messages = received.Messages ?? [];
      } catch (error) {
        if (!running) break;
        options.onError?.(error);
        await new Promise((resolve) => setTimeout(resolve, 500));
        continue;
      }
      if (messages.length === 0) {
        lastEmptyReceiveStartedAt = Math.max(lastEmptyReceiveStartedAt, receiveStartedAt);
        continue;
      }
      busy++;
      let result: unknown;
      try {
        result = await options.handler(sqsEvent(messages, options.queueArn));
      } catch (error) {
        // A failed invocation (an error, a timeout, a crashed isolate) fails the whole batch.
        if (running) options.onError?.(error);
        result = { batchItemFailures: messages.map((m) => ({ itemIdentifier: m.MessageId ?? '' })) };
      }
      try {
        await settle(messages, result);
      } catch (error) {
        if (running) options.onError?.(error);
      }
      busy--;
      lastBatchEndedAt = Date.now();
    }
  }

  const loops = Array.from({ length: Math.max(1, options.concurrency ?? 1) }, () => receiveLoop());

  async function queueIsEmpty(): Promise<boolean> {
    const { Attributes = {} } = await sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: options.queueUrl,
        AttributeNames: [
          'ApproximateNumberOfMessages',
          'ApproximateNumberOfMessagesNotVisible',
          'ApproximateNumberOfMessagesDelayed',
        ],
      }),
    );
    return Object.values(Attributes).every((count) => Number(count) === 0);
  }

  return {
    async stop() {
      running = false;
      await Promise.all(loops);
    },
    async drained(timeoutMs = 20_000) {
      const since = Date.now();
      while (Date.now() - since < timeoutMs) {
        const quiet = busy === 0 && lastEmptyReceiveStartedAt > Math.max(since, lastBatchEndedAt);
        if (quiet && (await queueIsEmpty())) return;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      throw new Error('queue did not drain in time');
    },
  };
}
