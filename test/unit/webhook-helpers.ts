import type { SQSClient } from '@aws-sdk/client-sqs';
import { SendMessageBatchCommand, type SendMessageBatchRequestEntry } from '@aws-sdk/client-sqs';
import { metaExample } from '../support/fixtures.ts';

/**
 * Shared by the webhook tests: an SQS-validity predicate written from the SQS documentation (not
 * from the code under test), deliveries of many messages, and a fake SQS that refuses what SQS
 * and fauxqs refuse.
 */

/** Whether SQS accepts `value` as a message body: #x9 | #xA | #xD | #x20–#xD7FF | #xE000–#xFFFD | #x10000–#x10FFFF. */
export function isSqsValid(value: string): boolean {
  // for…of walks code points: a surrogate pair is one character, a lone surrogate stays alone.
  for (const char of value) {
    const cp = char.codePointAt(0) ?? 0;
    const valid =
      cp === 0x9 ||
      cp === 0xa ||
      cp === 0xd ||
      (cp >= 0x20 && cp <= 0xd7ff) ||
      (cp >= 0xe000 && cp <= 0xfffd) ||
      (cp >= 0x10000 && cp <= 0x10ffff);
    if (!valid) return false;
  }
  return true;
}

/** A text message from contact `index` (distinct wa_id, user id and wamid per index). */
export function textMessage(index: number, text: string) {
  return {
    from: `3461100${String(index).padStart(4, '0')}`,
    from_user_id: `ES.77${String(index).padStart(4, '0')}`,
    id: `wamid.HOSTILE${index}`,
    timestamp: '1795560000',
    type: 'text',
    text: { body: text },
  };
}

/** One delivery (one entry, one change) carrying a text message per element of `texts`. */
export function deliveryOfTexts(texts: string[], phoneNumberId = '631261586727899') {
  const body = metaExample('text');
  const value = body.entry[0].changes[0].value;
  value.metadata.phone_number_id = phoneNumberId;
  value.messages = texts.map((text, index) => textMessage(index, text));
  value.contacts = value.messages.map((m: { from: string; from_user_id: string }) => ({
    profile: { name: 'Cliente' },
    wa_id: m.from,
    user_id: m.from_user_id,
  }));
  return body;
}

const SQS_BATCH_MAX_BYTES = 262_144;

/**
 * A stand-in SQS client for SendMessageBatch that behaves like SQS (and fauxqs): a batch over
 * 256 KiB fails as a whole; an entry with characters SQS refuses fails alone (SenderFault).
 * `transientFailures` makes that many sends of an entry (by deduplication id) fail as a server fault;
 * `refusesWholeRequest` makes any request with such a body fail as a whole (InvalidMessageContents).
 */
export function fakeSqs(
  options: {
    transientFailures?: Record<string, number>;
    outage?: boolean;
    refusesWholeRequest?: (body: string) => boolean;
  } = {},
) {
  const accepted: SendMessageBatchRequestEntry[] = [];
  const calls: SendMessageBatchRequestEntry[][] = [];
  const transient = { ...(options.transientFailures ?? {}) };
  const client = {
    async send(command: unknown) {
      if (!(command instanceof SendMessageBatchCommand)) throw new Error('unexpected command');
      const entries = command.input.Entries ?? [];
      calls.push(entries);
      if (options.outage) throw Object.assign(new Error('down'), { $fault: 'server', name: 'InternalError' });
      const size = entries.reduce((sum, e) => sum + Buffer.byteLength(e.MessageBody ?? ''), 0);
      if (entries.length > 10 || size > SQS_BATCH_MAX_BYTES) {
        throw Object.assign(new Error('Batch requests cannot be longer than 262144 bytes.'), {
          name: 'BatchRequestTooLong',
          $fault: 'client',
        });
      }
      if (
        options.refusesWholeRequest &&
        entries.some((e) => options.refusesWholeRequest!(e.MessageBody ?? ''))
      ) {
        throw Object.assign(new Error('Invalid characters found.'), {
          name: 'InvalidMessageContents',
          $fault: 'client',
        });
      }
      const failed = [];
      const successful = [];
      for (const entry of entries) {
        const dedup = entry.MessageDeduplicationId ?? '';
        if (!isSqsValid(entry.MessageBody ?? '') || /[\ud800-\udfff]/.test(entry.MessageBody ?? '')) {
          // fauxqs checks code units, so it refuses even valid surrogate pairs (emoji).
          failed.push({ Id: entry.Id, SenderFault: true, Code: 'InvalidMessageContents' });
        } else if ((transient[dedup] ?? 0) > 0) {
          transient[dedup]!--;
          failed.push({ Id: entry.Id, SenderFault: false, Code: 'InternalError' });
        } else {
          accepted.push(entry);
          successful.push({ Id: entry.Id, MessageId: `m-${accepted.length}` });
        }
      }
      return { Successful: successful, Failed: failed };
    },
  };
  return { client: client as unknown as SQSClient, accepted, calls };
}
