import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageBatchCommand,
  type Message,
  ReceiveMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { sqsEvent } from './lambda-events.ts';

/**
 * Plays Lambda's SQS event source mapping locally: receives batches, invokes the consumer handler,
 * deletes what succeeded and makes failures visible again after a short delay (AWS would wait for
 * the visibility timeout; locally we keep the loop quick).
 */
export interface QueuePoller {
  stop(): Promise<void>;
  /** Resolves once the queue has been seen empty after every batch in flight finished. */
  drained(timeoutMs?: number): Promise<void>;
}

export function startQueuePoller(options: {
  sqs: SQSClient;
  queueUrl: string;
  queueArn: string;
  handler: (event: SQSEvent) => Promise<SQSBatchResponse | undefined>;
  batchSize?: number;
  retryDelaySeconds?: number;
  onError?: (error: unknown) => void;
}): QueuePoller {
  let running = true;
  let lastEmptyAt = 0;
  let busy = false;
  const loop = (async () => {
    while (running) {
      let messages: Message[] = [];
      try {
        const received = await options.sqs.send(
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
        lastEmptyAt = Date.now();
        continue;
      }
      busy = true;
      let failed: Set<string>;
      try {
        const result = await options.handler(sqsEvent(messages, options.queueArn));
        failed = new Set((result?.batchItemFailures ?? []).map((f) => f.itemIdentifier));
      } catch (error) {
        options.onError?.(error);
        failed = new Set(messages.map((m) => m.MessageId ?? ''));
      }
      const done = messages.filter((m) => !failed.has(m.MessageId ?? ''));
      const retry = messages.filter((m) => failed.has(m.MessageId ?? ''));
      try {
        if (done.length > 0) {
          await options.sqs.send(
            new DeleteMessageBatchCommand({
              QueueUrl: options.queueUrl,
              Entries: done.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle })),
            }),
          );
        }
        if (retry.length > 0) {
          await options.sqs.send(
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
      } catch (error) {
        options.onError?.(error);
      }
      busy = false;
    }
  })();

  return {
    async stop() {
      running = false;
      await loop;
    },
    async drained(timeoutMs = 20_000) {
      const since = Date.now();
      while (Date.now() - since < timeoutMs) {
        if (!busy && lastEmptyAt > since) return;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      throw new Error('queue did not drain in time');
    },
  };
}
