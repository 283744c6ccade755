import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  type BatchResultErrorEntry,
  SendMessageBatchCommand,
  SendMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { TransientError } from '../errors.ts';
import { logger } from '../logger.ts';

export interface FifoMessage {
  body: string;
  groupId: string;
  deduplicationId: string;
}

/** What became of the messages given to publishFifoMessages (it throws instead when some may succeed later). */
export interface SendOutcome {
  sent: number;
  /** Refused for good by SQS (or known to be refused before asking): logged at WARN and dropped. */
  refused: number;
}

const SQS_BATCH_LIMIT = 10;
/**
 * 256 KiB: SQS's long-standing limit for one message and for a whole SendMessageBatch request
 * (body bytes; we send no attributes). Queues may now take 1 MiB; staying under 256 KiB works on any.
 */
const SQS_PAYLOAD_LIMIT_BYTES = 262_144;
const SQS_ID_LIMIT = 128;
const SQS_ID_CHARS = /^[\w!"#$%&'()*+,\-./:;<=>?@[\\\]^`{|}~]+$/;
/** Characters SQS accepts in a body: #x9 | #xA | #xD | #x20–#xD7FF | #xE000–#xFFFD | #x10000–#x10FFFF. */
const SQS_INVALID_CHAR = /[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\u{10000}-\u{10ffff}]/u;
/** Batches of different message groups go out side by side; a group's batches go one after another. */
const SEND_LANES = 8;
const ATTEMPTS = 3;
/** Whole-request errors a message's content can cause: the culprit is found by sending one by one. */
const CONTENT_ERRORS = new Set([
  'BatchRequestTooLong',
  'InvalidMessageContents',
  'InvalidParameterValue',
  'InvalidAttributeValue',
  'InvalidAttributeName',
]);
/** Failures SQS may mark as the sender's that are about the queue (its key, its rate), not the message. */
const QUEUE_CONDITION_CODES = /^(Kms|KMS)|Throttl/;

/** Group and deduplication ids are ≤ 128 of a fixed set of characters; hash anything else. */
export function sqsSafeId(value: string): string {
  if (value.length <= SQS_ID_LIMIT && SQS_ID_CHARS.test(value)) return value;
  return createHash('sha256').update(value).digest('hex');
}

/** Whether SQS would accept `body` as a message body (characters and size). */
export function isSqsBody(body: string): boolean {
  return !SQS_INVALID_CHAR.test(body) && Buffer.byteLength(body) <= SQS_PAYLOAD_LIMIT_BYTES;
}

/**
 * Sends to a FIFO queue in batches, each message on its own: a message SQS refuses for good is
 * logged (ids only) and dropped, and never fails its batch or the batches after it. Resolves once
 * every message is sent or refused. Throws TransientError when some could not be sent but may be
 * later (SQS unavailable or throttling): the webhook answers 5xx and Meta delivers again, and the
 * deduplication ids make the resent ones harmless.
 *
 * Order within a message group is kept (a group's messages go in order in one lane), except that
 * a message retried after a transient failure may land after later ones of its group.
 */
export async function publishFifoMessages(
  sqs: SQSClient,
  queueUrl: string,
  messages: FifoMessage[],
): Promise<SendOutcome> {
  const tally: Tally = { sent: 0, refused: 0, pending: 0 };
  const sendable = messages.filter((message) => {
    if (isSqsBody(message.body)) return true;
    logRefused(message, 'body has characters SQS refuses or exceeds 256 KiB');
    tally.refused++;
    return false;
  });
  const lanes = await Promise.allSettled(
    laneByGroup(sendable, SEND_LANES).map(async (lane) => {
      for (const batch of batchesOf(lane)) addTo(tally, await sendBatch(sqs, queueUrl, batch));
    }),
  );
  const outage = lanes.find((lane) => lane.status === 'rejected');
  if (outage) throw new TransientError('could not enqueue messages', { cause: outage.reason });
  if (tally.pending > 0) throw new TransientError(`could not enqueue ${tally.pending} message(s) yet`);
  return { sent: tally.sent, refused: tally.refused };
}

/** publishFifoMessages for callers that need no counts. */
export async function sendFifoMessages(
  sqs: SQSClient,
  queueUrl: string,
  messages: FifoMessage[],
): Promise<void> {
  await publishFifoMessages(sqs, queueUrl, messages);
}

interface Tally {
  sent: number;
  refused: number;
  /** Failed transiently on every attempt. */
  pending: number;
}

function addTo(total: Tally, part: Tally) {
  total.sent += part.sent;
  total.refused += part.refused;
  total.pending += part.pending;
}

/** Splits messages into `count` lanes, all of a group's messages in one lane, in their order. */
function laneByGroup(messages: FifoMessage[], count: number): FifoMessage[][] {
  const laneOfGroup = new Map<string, number>();
  const lanes: FifoMessage[][] = [];
  for (const message of messages) {
    let lane = laneOfGroup.get(message.groupId);
    if (lane === undefined) {
      lane = laneOfGroup.size % count;
      laneOfGroup.set(message.groupId, lane);
    }
    const messagesOfLane = lanes[lane] ?? [];
    messagesOfLane.push(message);
    lanes[lane] = messagesOfLane;
  }
  return lanes;
}

/** Consecutive runs of at most ten messages and 256 KiB of bodies. */
function* batchesOf(messages: FifoMessage[]): Generator<FifoMessage[]> {
  let batch: FifoMessage[] = [];
  let bytes = 0;
  for (const message of messages) {
    const size = Buffer.byteLength(message.body);
    if (batch.length === SQS_BATCH_LIMIT || (batch.length > 0 && bytes + size > SQS_PAYLOAD_LIMIT_BYTES)) {
      yield batch;
      batch = [];
      bytes = 0;
    }
    batch.push(message);
    bytes += size;
  }
  if (batch.length > 0) yield batch;
}

/**
 * One SendMessageBatch with retries of the entries that failed transiently. Entries SQS refuses
 * (SenderFault) are dropped at once. Throws TransientError when the whole request keeps failing.
 */
async function sendBatch(sqs: SQSClient, queueUrl: string, batch: FifoMessage[]): Promise<Tally> {
  const tally: Tally = { sent: 0, refused: 0, pending: 0 };
  let pending = batch.map((message, index) => ({ id: String(index), message }));
  for (let attempt = 1; pending.length > 0; attempt++) {
    let failures: BatchResultErrorEntry[];
    try {
      const result = await sqs.send(
        new SendMessageBatchCommand({
          QueueUrl: queueUrl,
          Entries: pending.map(({ id, message }) => ({
            Id: id,
            MessageBody: message.body,
            MessageGroupId: sqsSafeId(message.groupId),
            MessageDeduplicationId: sqsSafeId(message.deduplicationId),
          })),
        }),
      );
      failures = result.Failed ?? [];
    } catch (error) {
      const code = errorCode(error);
      if (CONTENT_ERRORS.has(code)) return isolate(sqs, queueUrl, pending, code, tally);
      if (attempt >= ATTEMPTS) throw new TransientError('SQS did not accept a batch', { cause: error });
      failures = pending.map(({ id }) => ({ Id: id, SenderFault: false, Code: code }));
    }
    const failureOf = new Map(failures.map((failure) => [failure.Id, failure]));
    const retry: typeof pending = [];
    for (const entry of pending) {
      const failure = failureOf.get(entry.id);
      if (!failure) tally.sent++;
      else if (isRefusal(failure)) {
        logRefused(entry.message, failure.Code ?? 'refused');
        tally.refused++;
      } else retry.push(entry);
    }
    pending = retry;
    if (pending.length > 0 && attempt >= ATTEMPTS) {
      logger.warn('queue did not accept messages after retries', {
        count: pending.length,
        codes: [...new Set(pending.map((e) => failureOf.get(e.id)?.Code))],
      });
      tally.pending += pending.length;
      break;
    }
    if (pending.length > 0) await sleep(20 * 2 ** (attempt - 1));
  }
  return tally;
}

/**
 * A whole request refused for its content: send each message alone so only the culprit fails. When
 * every one of several messages is refused alone too, the fault is the queue's (e.g. a queue of the
 * wrong type), not theirs: that is a 503 for Meta to deliver again, never a silent drop of them all.
 */
async function isolate(
  sqs: SQSClient,
  queueUrl: string,
  entries: { message: FifoMessage }[],
  code: string,
  tally: Tally,
): Promise<Tally> {
  if (entries.length === 1) {
    logRefused(entries[0]!.message, code);
    tally.refused++;
    return tally;
  }
  const alone: Tally = { sent: 0, refused: 0, pending: 0 };
  for (const { message } of entries) addTo(alone, await sendBatch(sqs, queueUrl, [message]));
  if (alone.sent === 0 && alone.pending === 0) {
    throw new TransientError(`SQS refused each of ${entries.length} messages (${code}): a queue problem`);
  }
  addTo(tally, alone);
  return tally;
}

function isRefusal(failure: BatchResultErrorEntry): boolean {
  return failure.SenderFault === true && !QUEUE_CONDITION_CODES.test(failure.Code ?? '');
}

function errorCode(error: unknown): string {
  return (error as { name?: string } | undefined)?.name ?? 'Error';
}

/** Ids and the reason only: a body may hold what a customer wrote. */
function logRefused(message: FifoMessage, reason: string) {
  logger.warn('queue refused a message; dropped', {
    deduplicationId: message.deduplicationId.slice(0, 200),
    reason,
  });
}

/** Sends one message to a standard queue. */
export async function sendMessage(sqs: SQSClient, queueUrl: string, body: unknown): Promise<void> {
  await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: JSON.stringify(body) }));
}
