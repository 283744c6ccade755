import type * as z from 'zod/mini';
import {
  type ContactRef,
  encodeQueueEvent,
  type MessageMedia,
  messageGroupId,
  type QueueEvent,
} from '../conversation/inbound-event.ts';
import { isMediaKind } from '../media/media-kinds.ts';
import type { FifoMessage } from '../queue/sqs-publisher.ts';
import type { InboundMessage, statusSchema } from './payload-schema.ts';

/**
 * The inbound queue's messages the webhook makes of a change's valid items (customers' messages and
 * statuses; a person's echoes are in message-echoes.ts): what the consumer reads, and nothing more.
 */

/** The text a person can read in a message, whatever its type. */
export function readableText(message: InboundMessage): string | undefined {
  switch (message.type) {
    case 'text':
      return message.text?.body;
    case 'image':
      return message.image?.caption;
    case 'video':
      return message.video?.caption;
    case 'document':
      return message.document?.caption;
    case 'interactive':
      return message.interactive?.button_reply?.title ?? message.interactive?.list_reply?.title;
    case 'button':
      return message.button?.text;
    case 'location':
      return locationText(message.location);
    case 'contacts':
      return contactCardsText(message.contacts);
    case 'order':
      return message.order?.text;
    default:
      return undefined;
  }
}

/** A shared location as a person reads it: its name and address, else its coordinates. */
function locationText(location: InboundMessage['location']): string | undefined {
  if (!location) return undefined;
  const named = [location.name, location.address].filter(Boolean).join(', ');
  if (named) return named;
  const { latitude, longitude } = location;
  return latitude !== undefined && longitude !== undefined ? `${latitude}, ${longitude}` : undefined;
}

/** Shared contact cards: "Ana Pérez +34 600 000 000; Luis" (names and phones only). */
function contactCardsText(cards: InboundMessage['contacts']): string | undefined {
  const text = (cards ?? [])
    .map((card) =>
      [card.name?.formatted_name, ...(card.phones ?? []).map((p) => p.phone)].filter(Boolean).join(' '),
    )
    .filter(Boolean)
    .join('; ');
  return text || undefined;
}

/** The media fields the consumer fetches, for the message types that carry media. */
export function mediaOf(message: InboundMessage): MessageMedia | undefined {
  const fields = isMediaKind(message.type) ? message[message.type] : undefined;
  if (!fields?.id) return undefined;
  return {
    id: fields.id,
    ...(fields.mime_type !== undefined ? { mime_type: fields.mime_type } : {}),
    ...(fields.sha256 !== undefined ? { sha256: fields.sha256 } : {}),
    ...(fields.voice !== undefined ? { voice: fields.voice } : {}),
    ...(fields.filename !== undefined ? { filename: fields.filename } : {}),
  };
}

/** The queue message of a customer's message: in its contact's FIFO group, deduplicated by wamid. */
export function messageEvent(
  message: InboundMessage,
  contact: ContactRef,
  phoneNumberId: string,
  tenantId: string,
  receivedAt: string,
): FifoMessage {
  const text = readableText(message);
  const media = mediaOf(message);
  const event: QueueEvent = {
    v: 1,
    kind: 'message',
    tenant_id: tenantId,
    phone_number_id: phoneNumberId,
    contact,
    message: {
      id: message.id,
      type: message.type,
      timestamp: message.timestamp,
      ...(text !== undefined ? { text } : {}),
      ...(message.context?.id ? { context_id: message.context.id } : {}),
      ...(media ? { media } : {}),
    },
    received_at: receivedAt,
  };
  return {
    body: encodeQueueEvent(event),
    groupId: messageGroupId(tenantId, contact.key),
    deduplicationId: `msg:${message.id}`,
  };
}

/** The queue message of a delivery status, beside its contact's messages. */
export function statusEvent(
  status: z.infer<typeof statusSchema>,
  phoneNumberId: string,
  tenantId: string,
  receivedAt: string,
): FifoMessage {
  const contactKey = status.recipient_user_id ?? status.recipient_id;
  const event: QueueEvent = {
    v: 1,
    kind: 'status',
    tenant_id: tenantId,
    phone_number_id: phoneNumberId,
    ...(contactKey ? { contact_key: contactKey } : {}),
    status: {
      message_id: status.id,
      status: status.status,
      timestamp: status.timestamp,
      error_codes: (status.errors ?? []).map((e) => e.code),
      ...(status.pricing ? { pricing: pricingOf(status.pricing) } : {}),
    },
    received_at: receivedAt,
  };
  return {
    body: encodeQueueEvent(event),
    groupId: messageGroupId(tenantId, contactKey ?? 'statuses'),
    deduplicationId: `status:${status.id}:${status.status}`,
  };
}

/** The pricing fields the consumer reads (Meta's `pricing_model` and the rest stay behind). */
function pricingOf(pricing: { category: string; type?: string | undefined; billable?: boolean | undefined }) {
  return {
    category: pricing.category,
    ...(pricing.type !== undefined ? { type: pricing.type } : {}),
    ...(pricing.billable !== undefined ? { billable: pricing.billable } : {}),
  };
}
