import {
  encodeQueueEvent,
  type MessageMedia,
  messageGroupId,
  type OwnerMessageEvent,
  ownerMessageGroupId,
  type QueueEvent,
} from '../../conversation/inbound-event.ts';
import type { FifoMessage } from '../../queue/sqs-publisher.ts';
import type { EngineMessage } from '../session-engine.ts';
import { qrPhoneNumberId } from '../shards.ts';
import type { KeptMedia } from './inbound-media.ts';

/**
 * What a QR session puts on the inbound FIFO queue: the same envelopes as the webhook's (channel
 * `qr`, phone number id `qr:<tenant>`), so the assistant answers them unchanged. Deduplicated on the
 * tenant and the engine's message id; grouped per tenant and contact, as the webhook groups.
 */
const epochSeconds = (at: Date) => Math.floor(at.getTime() / 1000);

/** What both message events of a QR session share: the tenant, its `qr:` number, the contact. */
function envelope(tenantId: string, message: EngineMessage, receivedAt: Date) {
  const key = message.chat;
  return {
    fields: {
      v: 1 as const,
      channel: 'qr' as const,
      tenant_id: tenantId,
      phone_number_id: qrPhoneNumberId(tenantId),
      contact: { key, wa_id: key },
      received_at: receivedAt.toISOString(),
    },
    groupId: messageGroupId(tenantId, key),
    deduplicationId: `qr:${tenantId}:${message.id}`,
  };
}

/**
 * A customer's message (in a group chat, the group is the contact: the answer goes there). Its
 * media is described as declared, and `stored` (with the bytes' sha256) only once the runner kept
 * it (inbound-media.ts); the text is the caption.
 */
export function customerMessageEvent(
  tenantId: string,
  message: EngineMessage,
  receivedAt: Date,
  kept?: KeptMedia,
): FifoMessage {
  const { fields, groupId, deduplicationId } = envelope(tenantId, message, receivedAt);
  const media = message.media ? describedMedia(message.media, kept) : undefined;
  const event: QueueEvent = {
    ...fields,
    kind: 'message',
    message: {
      id: message.id,
      // What the assistant does not read is what Meta calls `unsupported` (not answered either).
      type: message.type === 'other' ? 'unsupported' : message.type,
      timestamp: epochSeconds(message.at),
      ...(message.text ? { text: message.text } : {}),
      ...(media ? { media } : {}),
    },
  };
  return { body: encodeQueueEvent(event), groupId, deduplicationId };
}

function describedMedia(
  media: NonNullable<EngineMessage['media']>,
  kept: KeptMedia | undefined,
): MessageMedia {
  return {
    ...(kept?.stored ? { stored: true, sha256: kept.sha256 } : {}),
    mime_type: media.mimeType,
    ...(media.voice ? { voice: true } : {}),
    ...(media.filename ? { filename: media.filename } : {}),
  };
}

/** A message the owner typed on the phone to a customer: the bot steps back in that chat. */
export function ownerMessageEvent(tenantId: string, message: EngineMessage, receivedAt: Date): FifoMessage {
  const { fields, deduplicationId } = envelope(tenantId, message, receivedAt);
  const event: OwnerMessageEvent = {
    ...fields,
    kind: 'owner_message',
    message: { id: message.id, timestamp: epochSeconds(message.at) },
  };
  // Beside the customer's group: seen while an answer to that customer is in flight.
  return {
    body: encodeQueueEvent(event),
    groupId: ownerMessageGroupId(tenantId, fields.contact.key),
    deduplicationId,
  };
}

/** The outcome of a `send` command, as Meta reports a wamid's (`sent`, or `failed`). */
export function sendOutcomeEvent(
  tenantId: string,
  commandId: string,
  to: string,
  outcome: 'sent' | 'failed',
  at: Date,
): FifoMessage {
  const event: QueueEvent = {
    v: 1,
    kind: 'status',
    tenant_id: tenantId,
    phone_number_id: qrPhoneNumberId(tenantId),
    contact_key: to,
    status: { message_id: commandId, status: outcome, timestamp: epochSeconds(at), error_codes: [] },
    received_at: at.toISOString(),
  };
  return {
    body: encodeQueueEvent(event),
    groupId: messageGroupId(tenantId, to),
    deduplicationId: `status:${commandId}:${outcome}`,
  };
}
