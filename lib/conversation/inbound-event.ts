import * as z from 'zod/mini';
import en from 'zod/v4/locales/en.js';

// zod/mini loads no locale: the English messages of classic zod, for the consumer's rejections.
z.config(en());

/**
 * The contract of the inbound queue: what the webhook (and the QR runner) put on it, what the
 * assistant function reads. Versioned so producers and consumers can be deployed apart.
 */

/*
 * Each schema is built by a function marked free of side effects, and each export is a call marked
 * pure: a bundle that takes only the encoding below (the webhook's) leaves the schemas out, instead
 * of building them at every cold start (esbuild cannot tell that zod's calls have none).
 */

/**
 * Free text (a message's text, a contact's name) as the consumer gets it: well-formed. A lone
 * surrogate is not a character and has no UTF-8 form, so DynamoDB and OpenAI cannot take it; it
 * becomes U+FFFD, whichever producer let it through.
 */
const freeText = /* @__NO_SIDE_EFFECTS__ */ () =>
  z.string().check(z.overwrite((value) => value.toWellFormed()));
const nonEmpty = /* @__NO_SIDE_EFFECTS__ */ () => z.string().check(z.minLength(1));
const epochSeconds = /* @__NO_SIDE_EFFECTS__ */ () => z.number().check(z.int());

/* @__NO_SIDE_EFFECTS__ */
function contactRef() {
  return z.object({
    /** Our key for the contact within the tenant: the business-scoped user id, else the wa_id. */
    key: nonEmpty(),
    wa_id: z.optional(z.string()),
    user_id: z.optional(z.string()),
    name: z.optional(freeText()),
  });
}

export const contactRefSchema = /* @__PURE__ */ contactRef();

/**
 * A message's media as the consumer fetches it. Cloud API: Meta's media `id` (looked up with the
 * tenant's token behind the queue, never in the webhook), the `mime_type` and `sha256` it declared.
 * QR: the runner took the bytes from its session and `stored` them under the tenant's media prefix
 * (media-objects.ts), whose key the consumer derives from the tenant and the message id: an event
 * never names an object key.
 */
/* @__NO_SIDE_EFFECTS__ */
function messageMedia() {
  return z.object({
    id: z.optional(nonEmpty()),
    stored: z.optional(z.boolean()),
    /** As declared, parameters included (`audio/ogg; codecs=opus`). */
    mime_type: z.optional(z.string()),
    sha256: z.optional(z.string()),
    /** A voice note recorded in WhatsApp (not a forwarded audio file). */
    voice: z.optional(z.boolean()),
    /** A document's file name. */
    filename: z.optional(freeText()),
  });
}

export const messageMediaSchema = /* @__PURE__ */ messageMedia();

/* @__NO_SIDE_EFFECTS__ */
function inboundMessageEvent() {
  return z.object({
    v: z.literal(1),
    kind: z.literal('message'),
    tenant_id: nonEmpty(),
    phone_number_id: nonEmpty(),
    contact: contactRefSchema,
    message: z.object({
      id: nonEmpty(),
      type: nonEmpty(),
      /** Epoch seconds, as Meta sends it. */
      timestamp: epochSeconds(),
      /** The readable text of the message (body, caption, button title...), when it has one. */
      text: z.optional(freeText()),
      context_id: z.optional(z.string()),
      /** The media of an audio, image, video, document or sticker message (media-understanding.ts). */
      media: z.optional(messageMedia()),
    }),
    /** Where it came from: absent = `cloud_api` (the webhook); `qr` = a QR runner's session. */
    channel: z.optional(z.enum(['cloud_api', 'qr'])),
    received_at: z.string(),
  });
}

export const inboundMessageEventSchema = /* @__PURE__ */ inboundMessageEvent();

/* @__NO_SIDE_EFFECTS__ */
function statusEvent() {
  return z.object({
    v: z.literal(1),
    kind: z.literal('status'),
    tenant_id: nonEmpty(),
    phone_number_id: nonEmpty(),
    contact_key: z.optional(z.string()),
    status: z.object({
      message_id: nonEmpty(),
      status: nonEmpty(),
      timestamp: epochSeconds(),
      error_codes: z._default(z.array(z.number()), []),
      /** What Meta bills for the message; absent from statuses without it and from older producers. */
      pricing: z.optional(
        z.object({
          category: nonEmpty(),
          type: z.optional(z.string()),
          billable: z.optional(z.boolean()),
        }),
      ),
    }),
    received_at: z.string(),
  });
}

export const statusEventSchema = /* @__PURE__ */ statusEvent();

/**
 * A message a person of the business wrote to a customer themselves (typed on the phone of a QR
 * session; later Cloud API's `smb_message_echoes`): not ours, so the bot steps back in that chat
 * for the tenant's `handoff_minutes`.
 */
/* @__NO_SIDE_EFFECTS__ */
function ownerMessageEvent() {
  return z.object({
    v: z.literal(1),
    kind: z.literal('owner_message'),
    tenant_id: nonEmpty(),
    phone_number_id: nonEmpty(),
    contact: contactRefSchema,
    message: z.object({
      id: nonEmpty(),
      timestamp: epochSeconds(),
      text: z.optional(freeText()),
    }),
    channel: z.optional(z.enum(['cloud_api', 'qr'])),
    received_at: z.string(),
  });
}

export const ownerMessageEventSchema = /* @__PURE__ */ ownerMessageEvent();

/* @__NO_SIDE_EFFECTS__ */
function queueEvent() {
  return z.discriminatedUnion('kind', [
    inboundMessageEventSchema,
    statusEventSchema,
    ownerMessageEventSchema,
  ]);
}

export const queueEventSchema = /* @__PURE__ */ queueEvent();

export type ContactRef = z.infer<typeof contactRefSchema>;
export type MessageMedia = z.infer<typeof messageMediaSchema>;
export type InboundMessageEvent = z.infer<typeof inboundMessageEventSchema>;
export type StatusEvent = z.infer<typeof statusEventSchema>;
export type OwnerMessageEvent = z.infer<typeof ownerMessageEventSchema>;
export type QueueEvent = z.infer<typeof queueEventSchema>;

/**
 * Code units SQS refuses in a body (#x9 | #xA | #xD | #x20–#xD7FF | #xE000–#xFFFD are taken) and
 * surrogates: SQS takes valid pairs (#x10000–#x10FFFF) but fauxqs, the local emulator, checks code
 * units and refuses them, so they are escaped too.
 */
const NOT_CARRIED_BY_SQS = /[^\t\n\r\u0020-\ud7ff\ue000-\ufffd]/g;
/** The same code units, spelled as what they are: a test of it is twice as fast as of the complement. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: the C0 controls are among the code units SQS refuses
export const HAS_UNIT_NOT_CARRIED_BY_SQS = /[\0-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]/;

/**
 * The queue body of an event: JSON in which every code unit SQS cannot carry (a customer can send
 * U+FFFF, U+FFFE or control characters, which Meta escapes as \uXXXX) is written as a JSON \uXXXX
 * escape. Only string contents can hold such code units, so the body stays valid JSON, and the
 * plain JSON.parse the consumer does restores every string exactly: nothing is lost in transit.
 */
export function encodeQueueEvent(event: QueueEvent): string {
  return encodeSqsJson(event);
}

/** Any value as an SQS body, escaped as {@link encodeQueueEvent} says (the QR command queues use it too). */
export function encodeSqsJson(value: unknown): string {
  const json = JSON.stringify(value);
  if (!HAS_UNIT_NOT_CARRIED_BY_SQS.test(json)) return json;
  return json.replace(NOT_CARRIED_BY_SQS, (unit) => `\\u${unit.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** FIFO group: one per tenant and contact, so a contact's messages are answered in order. */
export const messageGroupId = (tenantId: string, contactKey: string) => `${tenantId}:${contactKey}`;

/**
 * FIFO group of what a person of the business writes to a contact: beside the contact's own group,
 * not in it, so it is handled while an answer to that contact is in flight (whose planned reply is
 * then not sent: send-replies.ts); a person's messages stay in order among themselves.
 */
export const ownerMessageGroupId = (tenantId: string, contactKey: string) =>
  `${messageGroupId(tenantId, contactKey)}:owner`;
