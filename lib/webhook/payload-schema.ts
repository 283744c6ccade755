import * as z from 'zod/mini';
import en from 'zod/v4/locales/en.js';

// zod/mini loads no locale: the English messages of classic zod, which the WARN lines carry.
z.config(en());

/**
 * The WhatsApp Cloud API webhook body, as much of it as the product reads. Objects are loose
 * (Meta adds fields over time and an unknown field must never make us reject a delivery); only
 * what we read is validated, and each entry, change, message, status and contact is validated on
 * its own, so one bad item costs only itself (see receive-webhook.ts).
 *
 * Bounds. A signed body may still carry what Meta never sends; every field we read is decided
 * here, and none of them can make the webhook answer 5xx or queue an event the consumer cannot
 * handle (which would end, silently, in the dead-letter queue):
 *
 * | Field                                        | Accepted                      | Otherwise                      |
 * |----------------------------------------------|-------------------------------|--------------------------------|
 * | text.body, order.text                        | ≤ 4096 chars (Meta's limit)   | truncated to 4096              |
 * | image/video/document/audio/sticker caption   | ≤ 1024 chars (Meta's limit)   | truncated to 1024              |
 * | media id, sha256 (printable ASCII), mime_type | ≤ 128 chars                   | that field dropped, message kept |
 * | media voice (boolean), document filename     | ≤ 256 chars                   | that field dropped             |
 * | location latitude / longitude                | numbers in [-180, 180]        | that field dropped             |
 * | contacts[] (≤ 20, ≤ 20 phones each)          | formatted_name, phones[].phone | the cards dropped, message kept |
 * | interactive titles, button.text, location    | ≤ 1024 chars                  | truncated to 1024              |
 * | contacts[].profile.name / username           | ≤ 256 chars                   | truncated to 256               |
 * | any free text above: lone surrogates         | —                             | each becomes U+FFFD            |
 * | any free text above: U+FFFE, U+FFFF, C0      | kept                          | (escaped for SQS, restored)    |
 * | messages[].id, statuses[].id (wamid)         | 1–512 printable ASCII         | item rejected (WARN)           |
 * | messages[].from, statuses[].recipient_id     | 1–64 printable ASCII          | item rejected (WARN)           |
 * | from_user_id, recipient_user_id              | 1–128 printable ASCII         | item rejected (WARN)           |
 * | message_echoes[]: as messages; to, to_user_id | as from, from_user_id        | item rejected (WARN)           |
 * | messages[].type, statuses[].status           | 1–64 printable ASCII          | item rejected (WARN)           |
 * | timestamp (messages and statuses)            | 1–11 digits (epoch seconds)   | item rejected (WARN)           |
 * | statuses[].errors[].code                     | a safe integer                | item rejected (WARN)           |
 * | statuses[].pricing (category, type, billable)| ASCII tokens, a boolean       | pricing dropped, status kept   |
 * | a text field of the wrong type               | —                             | item rejected (WARN)           |
 * | messages[].context.id                        | as a wamid                    | context dropped, message kept  |
 * | contacts[].wa_id / user_id                   | as from / from_user_id        | that contact ignored (WARN)    |
 * | contacts[].profile of the wrong shape        | —                             | name dropped                   |
 * | value.contacts / value.errors not arrays     | —                             | ignored                        |
 * | value.messages / statuses / message_echoes not arrays | —                    | change rejected (WARN)         |
 * | metadata.phone_number_id                     | 1–64 digits                   | change rejected (WARN), no lookup |
 * | entry[] / changes[] of the wrong shape       | —                             | that entry / change rejected   |
 * | object, entry (the body itself)              | a string; ≤ 1000 entries      | 400 (not a webhook body)       |
 *
 * Why: text is the customer's and still worth answering, so it is cut, never refused (cut without
 * splitting a surrogate pair). An id or a timestamp cannot be cut without meaning something else,
 * so its item is refused, logged at WARN with the field and indexes (never the value), counted as
 * invalidItems, and the delivery still answered 200 (Meta must not retry it for a week).
 * Ids are printable ASCII, as all of Meta's are, so the DynamoDB keys built from them stay far
 * below DynamoDB's limits (partition key 2048 bytes: `CLIENT#<tenant>#CONTACT#<≤128>`; sort key
 * 1024 bytes: `MSG#<ISO time>#<≤512>`, `CLAIM#<≤512>`), and a queued event (at most 4096 chars of
 * text, 6 bytes each once escaped, and short fields) stays far below SQS's 256 KiB.
 * 11 digits of epoch seconds reach the year 5138: any Date prints; a 400-digit timestamp would be
 * Infinity, queued as null, and a 20-digit one a Date that cannot print.
 */

export const LIMITS = {
  textBody: 4096,
  caption: 1024,
  label: 1024,
  name: 256,
  wamid: 512,
  waId: 64,
  userId: 128,
  token: 64,
  mediaId: 128,
  mimeType: 128,
  sha256: 128,
} as const;

/** Cuts `value` to `max` UTF-16 units (never through a surrogate pair) and makes it well-formed. */
export function boundText(value: string, max: number): string {
  let cut = value;
  if (cut.length > max) {
    cut = cut.slice(0, max);
    const last = cut.charCodeAt(max - 1);
    if (last >= 0xd800 && last <= 0xdbff) cut = cut.slice(0, -1);
  }
  return cut.toWellFormed();
}

/** Free text: never refused for its length, cut (see boundText); any string is accepted. */
const freeText = (max: number) => z.string().check(z.overwrite((value) => boundText(value, max)));

const PRINTABLE_ASCII = /^[\x21-\x7e]+$/;
const asciiId = (max: number) =>
  z
    .string()
    .check(
      z.minLength(1),
      z.maxLength(max),
      z.regex(PRINTABLE_ASCII, `must be 1–${max} printable ASCII characters`),
    );

const wamid = asciiId(LIMITS.wamid);
const waId = asciiId(LIMITS.waId);
const userId = asciiId(LIMITS.userId);
const token = asciiId(LIMITS.token);
const epochSeconds = z.pipe(
  z.string().check(z.regex(/^\d{1,11}$/, 'must be epoch seconds (1–11 digits)')),
  z.transform(Number),
);

export const phoneNumberIdSchema = z.string().check(z.regex(/^\d{1,64}$/, 'must be 1–64 digits'));

/** Absent, or dropped (undefined) when it is not what we expect, instead of failing its parent. */
const droppedIfInvalid = <T extends z.ZodMiniType>(schema: T) => z.catch(z.optional(schema), () => undefined);

/**
 * The media fields of an audio, image, video, document or sticker message. The media id is looked
 * up behind the queue; one we cannot use (an id, a MIME type or a hash out of bounds) leaves the
 * message without media: its caption is still answered, else it gets the polite "text only" reply.
 */
const mediaFields = {
  id: droppedIfInvalid(asciiId(LIMITS.mediaId)),
  mime_type: droppedIfInvalid(z.string().check(z.minLength(1), z.maxLength(LIMITS.mimeType))),
  sha256: droppedIfInvalid(asciiId(LIMITS.sha256)),
  voice: droppedIfInvalid(z.boolean()),
  caption: z.optional(freeText(LIMITS.caption)),
  filename: droppedIfInvalid(freeText(LIMITS.name)),
};
const captioned = z.looseObject(mediaFields);
const droppedIfInvalidNumber = droppedIfInvalid(z.number().check(z.gte(-180), z.lte(180)));
const reply = z.looseObject({ title: z.optional(freeText(LIMITS.label)) });

export const inboundMessageSchema = z.looseObject({
  id: wamid,
  type: token,
  timestamp: epochSeconds,
  from: z.optional(waId),
  from_user_id: z.optional(userId),
  // Only threads the reply: a context we cannot use is dropped, the message is still answered.
  context: droppedIfInvalid(z.looseObject({ id: z.optional(wamid) })),
  text: z.optional(z.looseObject({ body: freeText(LIMITS.textBody) })),
  image: z.optional(captioned),
  video: z.optional(captioned),
  document: z.optional(captioned),
  // Newer to the product than the three above: one we cannot read costs its media, not the message.
  audio: droppedIfInvalid(captioned),
  sticker: droppedIfInvalid(captioned),
  location: z.optional(
    z.looseObject({
      name: z.optional(freeText(LIMITS.label)),
      address: z.optional(freeText(LIMITS.label)),
      latitude: droppedIfInvalidNumber,
      longitude: droppedIfInvalidNumber,
    }),
  ),
  /** Shared contact cards: only the names and phone numbers are read. */
  contacts: droppedIfInvalid(
    z
      .array(
        z.looseObject({
          name: droppedIfInvalid(z.looseObject({ formatted_name: z.optional(freeText(LIMITS.name)) })),
          phones: droppedIfInvalid(
            z.array(z.looseObject({ phone: z.optional(freeText(LIMITS.waId)) })).check(z.maxLength(20)),
          ),
        }),
      )
      .check(z.maxLength(20)),
  ),
  interactive: z.optional(z.looseObject({ button_reply: z.optional(reply), list_reply: z.optional(reply) })),
  button: z.optional(z.looseObject({ text: z.optional(freeText(LIMITS.label)) })),
  order: z.optional(z.looseObject({ text: z.optional(freeText(LIMITS.textBody)) })),
});

/**
 * What a person of the business sent from the WhatsApp Business app of a coexistence number
 * (`smb_message_echoes`): a message's shape, from the business (`from`) to the customer (`to`, and
 * `to_user_id` when Meta scopes the customer's id), with no `contacts` beside it.
 */
export const messageEchoSchema = z.extend(inboundMessageSchema, {
  to: z.optional(waId),
  to_user_id: z.optional(userId),
});

/**
 * What Meta bills for the message (`category`: marketing, utility, authentication, service…;
 * `type`: regular, free_customer_service, free_entry_point…). Only counted: one we cannot read is
 * dropped, the status is kept.
 */
export const pricingSchema = z.looseObject({
  category: token,
  type: z.optional(token),
  billable: z.optional(z.boolean()),
});

export const statusSchema = z.looseObject({
  id: wamid,
  status: token,
  timestamp: epochSeconds,
  recipient_id: z.optional(waId),
  recipient_user_id: z.optional(userId),
  errors: z.optional(z.array(z.looseObject({ code: z.number().check(z.int()) }))),
  pricing: droppedIfInvalid(pricingSchema),
});

export const contactSchema = z.looseObject({
  wa_id: z.optional(waId),
  user_id: z.optional(userId),
  profile: droppedIfInvalid(
    z.looseObject({
      name: z.optional(freeText(LIMITS.name)),
      username: z.optional(freeText(LIMITS.name)),
    }),
  ),
});

export const changeValueSchema = z.looseObject({
  metadata: z.looseObject({ phone_number_id: phoneNumberIdSchema }),
  contacts: droppedIfInvalid(z.array(z.unknown())),
  messages: z.optional(z.array(z.unknown())),
  statuses: z.optional(z.array(z.unknown())),
  /** Only in `smb_message_echoes` changes. */
  message_echoes: z.optional(z.array(z.unknown())),
  errors: droppedIfInvalid(z.array(z.unknown())),
});

export const changeSchema = z.looseObject({ field: z.string(), value: z.unknown() });

export const entrySchema = z.looseObject({ changes: z.array(z.unknown()) });

export const webhookBodySchema = z.looseObject({
  object: z.string(),
  entry: z.array(z.unknown()).check(z.maxLength(1000)),
});

export type InboundMessage = z.infer<typeof inboundMessageSchema>;
export type MessageEcho = z.infer<typeof messageEchoSchema>;
export type StatusUpdate = z.infer<typeof statusSchema>;
export type WebhookContact = z.infer<typeof contactSchema>;
