import {
  type ContactRef,
  encodeQueueEvent,
  type OwnerMessageEvent,
  ownerMessageGroupId,
} from '../conversation/inbound-event.ts';
import type { FifoMessage } from '../queue/sqs-publisher.ts';
import { type MessageEcho, messageEchoSchema } from './payload-schema.ts';

/**
 * `smb_message_echoes`: on a coexistence number (the WhatsApp Business app and the Cloud API on one
 * number) Meta echoes what the business sends from the app. Each echo is queued as an
 * `owner_message`, so the assistant steps back in that chat (the handoff). Whether our own API sends
 * are echoed too is undocumented: the consumer ignores an echo whose id is one we sent
 * (answer-message.ts), so the webhook need not know.
 */

/** An echo as the payload schema reads it (rare enough to need no fast path). */
export const parseMessageEcho = (raw: unknown) => messageEchoSchema.safeParse(raw);

/**
 * The customer an echo went to, keyed as the webhook keys customers: the business-scoped user id
 * when Meta gives one, else the phone (wa_id). `from` is the business itself.
 */
export function echoContact(echo: MessageEcho): ContactRef | undefined {
  const key = echo.to_user_id ?? echo.to;
  if (!key) return undefined;
  return {
    key,
    ...(echo.to ? { wa_id: echo.to } : {}),
    ...(echo.to_user_id ? { user_id: echo.to_user_id } : {}),
  };
}

/**
 * The queue message of one echo, in the contact's owner group (ownerMessageGroupId): handled even
 * while an answer to that customer is in flight, so that answer's planned reply is not sent after.
 */
export function echoEvent(
  echo: MessageEcho,
  contact: ContactRef,
  phoneNumberId: string,
  tenantId: string,
  receivedAt: string,
): FifoMessage {
  const event: OwnerMessageEvent = {
    v: 1,
    kind: 'owner_message',
    tenant_id: tenantId,
    phone_number_id: phoneNumberId,
    contact,
    // Not what the person wrote: the consumer only needs to know that someone did.
    message: { id: echo.id, timestamp: echo.timestamp },
    channel: 'cloud_api',
    received_at: receivedAt,
  };
  return {
    body: encodeQueueEvent(event),
    groupId: ownerMessageGroupId(tenantId, contact.key),
    deduplicationId: `echo:${echo.id}`,
  };
}
