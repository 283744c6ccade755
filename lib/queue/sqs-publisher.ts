import { createHash } from 'node:crypto';
import { SendMessageBatchCommand, SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { TransientError } from '../errors.ts';

export interface FifoMessage {
  body: string;
  groupId: string;
  deduplicationId: string;
}

const SQS_BATCH_LIMIT = 10;
const SQS_ID_LIMIT = 128;
const SQS_ID_CHARS = /^[\w!"#$%&'()*+,\-./:;<=>?@[\\\]^`{|}~]+$/;

/** Group and deduplication ids are ≤ 128 of a fixed set of characters; hash anything else. */
export function sqsSafeId(value: string): string {
  if (value.length <= SQS_ID_LIMIT && SQS_ID_CHARS.test(value)) return value;
  return createHash('sha256').update(value).digest('hex');
}

/**
 * Sends to a FIFO queue in batches of ten. Resolves only when every message is accepted; otherwise
 * throws TransientError (the webhook answers 5xx and Meta delivers again; deduplication ids make
 * the retried sends harmless).
 */
export async function sendFifoMessages(
  sqs: SQSClient,
  queueUrl: string,
  messages: FifoMessage[],
): Promise<void> {
  for (let start = 0; start < messages.length; start += SQS_BATCH_LIMIT) {
    const chunk = messages.slice(start, start + SQS_BATCH_LIMIT);
    let entries = chunk.map((message, index) => ({
      Id: String(index),
      MessageBody: message.body,
      MessageGroupId: sqsSafeId(message.groupId),
      MessageDeduplicationId: sqsSafeId(message.deduplicationId),
    }));
    for (let attempt = 0; entries.length > 0; attempt++) {
      let failedIds: Set<string>;
      try {
        const result = await sqs.send(new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: entries }));
        failedIds = new Set((result.Failed ?? []).map((f) => f.Id ?? ''));
      } catch (error) {
        if (attempt >= 2) throw new TransientError('could not enqueue messages', { cause: error });
        failedIds = new Set(entries.map((e) => e.Id));
      }
      entries = entries.filter((e) => failedIds.has(e.Id));
      if (entries.length > 0 && attempt >= 2) {
        throw new TransientError(`could not enqueue ${entries.length} message(s)`);
      }
      if (entries.length > 0) await new Promise((resolve) => setTimeout(resolve, 20 * 2 ** attempt));
    }
  }
}

/** Sends one message to a standard queue. */
export async function sendMessage(sqs: SQSClient, queueUrl: string, body: unknown): Promise<void> {
  await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: JSON.stringify(body) }));
}
