import {
  encodeQueueEvent,
  encodeSqsJson,
  messageGroupId,
  type OwnerMessageEvent,
  type QueueEvent,
} from '../../conversation/inbound-event.ts';
import type { FifoMessage } from '../../queue/sqs-publisher.ts';
import type { EngineMessage } from '../session-engine.ts';
import { qrPhoneNumberId } from '../shards.ts';

/**
 * What a QR session puts on the inbound FIFO queue: the same envelopes as the webhook's (channel
 * `qr`, phone number id `qr:<tenant>`), so the assistant answers them unchanged. Deduplicated on the
 * tenant and the engine's message id; grouped per tenant and contact, as the webhook groups.
 */
const epochSeconds = (at: Date) => Math.floor(at.getTime() / 1000);

/** A customer's message (in a group chat, the group is the contact: the answer goes there). */
export function customerMessageEvent(
  tenantId: string,
  message: EngineMessage,
  receivedAt: Date,
): FifoMessage {
  const key = message.chat;
  const event: QueueEvent = {
    v: 1,
    kind: 'message',
    channel: 'qr',
    tenant_id: tenantId,
    phone_number_id: qrPhoneNumberId(tenantId),
    contact: { key, wa_id: key },
    message: {
      id: message.id,
      type: 'text',
      timestamp: epochSeconds(message.at),
      ...(message.text ? { text: message.text } : {}),
    },
    received_at: receivedAt.toISOString(),
  };
  return {
    body: encodeQueueEvent(event),
    groupId: messageGroupId(tenantId, key),
    deduplicationId: `qr:${tenantId}:${message.id}`,
  };
}

/** A message the owner typed on the phone to a customer: the bot steps back in that chat. */
export function ownerMessageEvent(tenantId: string, message: EngineMessage, receivedAt: Date): FifoMessage {
  const key = message.chat;
  const event: OwnerMessageEvent = {
    v: 1,
    kind: 'owner_message',
    channel: 'qr',
    tenant_id: tenantId,
    phone_number_id: qrPhoneNumberId(tenantId),
    contact: { key, wa_id: key },
    message: { id: message.id, timestamp: epochSeconds(message.at) },
    received_at: receivedAt.toISOString(),
  };
  return {
    body: encodeSqsJson(event),
    groupId: messageGroupId(tenantId, key),
    deduplicationId: `qr:${tenantId}:${message.id}`,
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
