import { createHash, randomBytes } from 'node:crypto';
import { signWebhookBody } from '../../../lib/webhook/signature.ts';

/**
 * What Meta POSTs to the webhook, built and signed like Meta does it: the `whatsapp_business_account`
 * envelope around a customer's message (text or media) or a status of a message the business sent, serialized with
 * non-ASCII characters escaped and signed over exactly those bytes. The shapes are those of
 * test/fixtures/meta-webhooks.json, key order included.
 */

const DEFAULT_WABA_ID = '100000000000001';
const DEFAULT_DISPLAY_PHONE_NUMBER = '15550000000';

/** The business a webhook is about (`entry[].id` and `value.metadata`). */
export interface WebhookBusiness {
  phoneNumberId: string;
  displayPhoneNumber?: string;
  /** The WhatsApp Business Account id of `entry[].id`. */
  wabaId?: string;
}

/** Who writes, and when: what every customer message carries besides its content. */
export interface CustomerMessageInput extends WebhookBusiness {
  /** The customer's phone (wa_id); omit for a username-only customer. */
  from?: string;
  /** The business-scoped user id (BSUID). */
  userId?: string;
  name?: string;
  messageId?: string;
  /** wamid of a message this one replies to (context). */
  replyTo?: string;
  /** Unix seconds; default now. */
  timestamp?: number;
}

export interface InboundMessageInput extends CustomerMessageInput {
  text: string;
}

/** The media a customer can send from the chat page (video and stickers are not offered there). */
export type CustomerMediaKind = 'audio' | 'image' | 'document';

export interface InboundMediaInput extends CustomerMessageInput {
  kind: CustomerMediaKind;
  /** The media id the product looks up (`GET /{version}/{media-id}`). */
  mediaId: string;
  /** As Meta writes it: a voice note is `audio/ogg; codecs=opus`. */
  mimeType: string;
  /** The SHA-256 of the bytes, base64 (as in Meta's webhooks). */
  sha256: string;
  /** Audio only: recorded in WhatsApp (a voice note), not an audio file. */
  voice?: boolean;
  /** Image and document only. */
  caption?: string;
  /** Document only. */
  filename?: string;
  /** The short-lived download URL Meta adds to some media webhooks; the product looks it up anyway. */
  url?: string;
}

export interface StatusInput extends WebhookBusiness {
  /** The wamid of the message the business sent. */
  messageId: string;
  status: 'sent' | 'delivered' | 'read' | 'failed';
  /** The customer's phone (wa_id) and/or business-scoped user id. */
  recipientId?: string;
  recipientUserId?: string;
  /** With a name, the body carries the customer's `contacts[]` entry (Meta omits it on some statuses). */
  name?: string;
  /** Unix seconds; default now. */
  timestamp?: number;
  pricing?: { billable: boolean; pricing_model: string; category: string; type: string };
  errors?: Array<{ code: number; title: string; message?: string; error_data?: { details: string } }>;
}

/**
 * Serializes like Meta: compact JSON with every character above 0x7E escaped as `\uXXXX` (astral
 * characters as two escaped surrogates). The signature covers exactly these bytes.
 */
export function serializeLikeMeta(body: unknown): string {
  return JSON.stringify(body).replace(
    /[\u007f-\uffff]/g,
    (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

const COUNTRY_PREFIXES: ReadonlyArray<[string, string]> = [
  ['351', 'PT'],
  ['34', 'ES'],
  ['33', 'FR'],
  ['39', 'IT'],
  ['44', 'GB'],
  ['49', 'DE'],
  ['52', 'MX'],
  ['54', 'AR'],
  ['55', 'BR'],
  ['57', 'CO'],
  ['1', 'US'],
];

/**
 * A stable, BSUID-shaped user id for a simulated customer phone (`ES.` + 16 digits for +34...), so
 * the chat page exercises the user-id path (contact keyed on user id, replies with `recipient`).
 */
export function deriveUserId(waId: string): string {
  const country = COUNTRY_PREFIXES.find(([prefix]) => waId.startsWith(prefix))?.[1] ?? 'US';
  const digest = createHash('sha256').update(`simulator:${waId}`).digest();
  return `${country}.${(digest.readBigUInt64BE(0) % 10n ** 16n).toString().padStart(16, '0')}`;
}

/** A Meta-looking message id for simulated traffic. */
export function simulatedMessageId(): string {
  return `wamid.SIM${randomBytes(12).toString('hex').toUpperCase()}`;
}

function unixSeconds(timestamp: number | undefined): string {
  return String(timestamp ?? Math.floor(Date.now() / 1000));
}

function contactEntry(name: string, waId: string | undefined, userId: string | undefined) {
  const contact: Record<string, unknown> = { profile: { name } };
  if (waId) contact.wa_id = waId;
  if (userId) contact.user_id = userId;
  return contact;
}

/** The envelope of one `messages` change: `value` gets `messaging_product`, `metadata`, then `fields`. */
function envelope(business: WebhookBusiness, fields: Record<string, unknown>): Record<string, unknown> {
  return {
    object: 'whatsapp_business_account',
    entry: [
      {
        id: business.wabaId ?? DEFAULT_WABA_ID,
        changes: [
          {
            field: 'messages',
            value: {
              messaging_product: 'whatsapp',
              metadata: {
                display_phone_number: business.displayPhoneNumber ?? DEFAULT_DISPLAY_PHONE_NUMBER,
                phone_number_id: business.phoneNumberId,
              },
              ...fields,
            },
          },
        ],
      },
    ],
  };
}

/** The message's first fields, in Meta's order: `from`, `from_user_id`, `id`, `timestamp`, `type`. */
function customerMessage(input: CustomerMessageInput, type: string): Record<string, unknown> {
  if (!input.from && !input.userId) throw new Error('an inbound message needs from (wa_id) or userId');
  const message: Record<string, unknown> = {};
  if (input.from) message.from = input.from;
  if (input.userId) message.from_user_id = input.userId;
  message.id = input.messageId ?? simulatedMessageId();
  message.timestamp = unixSeconds(input.timestamp);
  message.type = type;
  return message;
}

/** The message with its context (after the content, as Meta sends it) in its envelope. */
function customerEnvelope(
  input: CustomerMessageInput,
  message: Record<string, unknown>,
): Record<string, unknown> {
  if (input.replyTo) {
    message.context = { from: input.displayPhoneNumber ?? DEFAULT_DISPLAY_PHONE_NUMBER, id: input.replyTo };
  }
  return envelope(input, {
    contacts: [contactEntry(input.name ?? 'Cliente', input.from, input.userId)],
    messages: [message],
  });
}

/** A customer's text message (fixtures `text`, `text_username_no_phone`, `text_reply_in_context`). */
export function buildInboundPayload(input: InboundMessageInput): Record<string, unknown> {
  const message = customerMessage(input, 'text');
  message.text = { body: input.text };
  return customerEnvelope(input, message);
}

/**
 * A customer's audio, image or document (fixtures `audio_voice_note`, `image`, `document`): each
 * object has the fields Meta gives that type, in its order (`voice` on audio only, `caption` on
 * images and documents, `filename` on documents).
 */
export function buildInboundMediaPayload(input: InboundMediaInput): Record<string, unknown> {
  const message = customerMessage(input, input.kind);
  const media: Record<string, unknown> = {};
  if (input.kind !== 'audio' && input.caption !== undefined) media.caption = input.caption;
  if (input.kind === 'document' && input.filename !== undefined) media.filename = input.filename;
  media.mime_type = input.mimeType;
  media.sha256 = input.sha256;
  media.id = input.mediaId;
  if (input.kind === 'audio') media.voice = input.voice === true;
  if (input.url !== undefined) media.url = input.url;
  message[input.kind] = media;
  return customerEnvelope(input, message);
}

/** A status of a message the business sent (fixtures `status_sent` … `status_failed_outside_window`). */
export function buildStatusPayload(input: StatusInput): Record<string, unknown> {
  if (!input.recipientId && !input.recipientUserId) {
    throw new Error('a status needs recipientId (wa_id) or recipientUserId');
  }
  const status: Record<string, unknown> = {
    id: input.messageId,
    status: input.status,
    timestamp: unixSeconds(input.timestamp),
  };
  if (input.recipientId) status.recipient_id = input.recipientId;
  if (input.recipientUserId) status.recipient_user_id = input.recipientUserId;
  if (input.pricing) status.pricing = input.pricing;
  if (input.errors) status.errors = input.errors;
  return envelope(input, {
    ...(input.name !== undefined
      ? { contacts: [contactEntry(input.name, input.recipientId, input.recipientUserId)] }
      : {}),
    statuses: [status],
  });
}

/** A webhook delivery as Meta makes it: the escaped bytes and the headers, signature included. */
export interface SignedDelivery {
  raw: string;
  headers: Record<string, string>;
}

export function signDelivery(body: unknown, appSecret: string): SignedDelivery {
  const raw = serializeLikeMeta(body);
  return {
    raw,
    headers: {
      'content-type': 'application/json',
      'user-agent': 'facebookexternalua',
      'x-hub-signature-256': signWebhookBody(raw, appSecret),
    },
  };
}

/** POSTs a signed delivery to the webhook; resolves with the HTTP status it answered. */
export async function deliverToWebhook(webhookUrl: string, delivery: SignedDelivery): Promise<number> {
  const response = await fetch(webhookUrl, {
    method: 'POST',
    headers: delivery.headers,
    body: delivery.raw,
    signal: AbortSignal.timeout(15_000),
  });
  await response.arrayBuffer();
  return response.status;
}
