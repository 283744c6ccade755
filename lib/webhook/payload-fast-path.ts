import {
  boundText,
  changeSchema,
  changeValueSchema,
  contactSchema,
  entrySchema,
  inboundMessageSchema,
  LIMITS,
  statusSchema,
  webhookBodySchema,
} from './payload-schema.ts';

/**
 * The payload schemas of payload-schema.ts, read first without zod. Each fast path takes only an item
 * that is plainly valid (the usual shape Meta sends: a text message, a contact with a name, a status
 * without errors) and gives exactly what zod's safeParse would; anything else (an unusual field, a
 * value out of bounds, a wrong type) falls through to zod, so every rejection and its reason stay
 * zod's. zod reads an object field by field through generic parsers; this costs a few typeof and
 * one regex per field (webhook-fast-path.test.ts compares both on valid and hostile items).
 * The input is what JSON.parse gives: own, enumerable keys only, arrays without holes.
 */

type Parsed<S extends { safeParse(input: unknown): unknown }> = ReturnType<S['safeParse']>;
type Loose = Record<string, unknown>;

/** What zod calls an object: not null, not an array. */
const isObject = (value: unknown): value is Loose =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const PRINTABLE_ASCII = /^[\x21-\x7e]+$/;
const EPOCH_SECONDS = /^\d{1,11}$/;
const PHONE_NUMBER_ID = /^\d{1,64}$/;

const isAsciiId = (value: unknown, max: number): value is string =>
  typeof value === 'string' && value.length <= max && PRINTABLE_ASCII.test(value);
const isOptionalAsciiId = (value: unknown, max: number) => value === undefined || isAsciiId(value, max);
const isOptionalString = (value: unknown) => value === undefined || typeof value === 'string';

/** A loose object as zod outputs it: every key of the input (never `__proto__`), then the parsed fields. */
function loose(input: Loose, parsed: Loose): Loose {
  if (!Object.hasOwn(input, '__proto__')) return { ...input, ...parsed };
  const out: Loose = {};
  for (const key in input) if (key !== '__proto__') out[key] = input[key];
  return Object.assign(out, parsed);
}

/** Optional free text, bounded as freeText does, when the input has it. */
function boundIfPresent(parsed: Loose, input: Loose, key: string, max: number): void {
  const value = input[key];
  if (typeof value === 'string') parsed[key] = boundText(value, max);
}

function success<S extends { safeParse(input: unknown): unknown }>(data: Loose): Parsed<S> {
  return { success: true, data } as Parsed<S>;
}

/** Fields of a message the fast path leaves to zod (media, locations, replies, orders, threads). */
const MESSAGE_FIELDS_FOR_ZOD = [
  'context',
  'image',
  'video',
  'document',
  'audio',
  'sticker',
  'contacts',
  'location',
  'interactive',
  'button',
  'order',
] as const;

function fastMessage(raw: unknown): Loose | undefined {
  if (!isObject(raw)) return undefined;
  const { id, type, timestamp, text } = raw;
  if (!isAsciiId(id, LIMITS.wamid) || !isAsciiId(type, LIMITS.token)) return undefined;
  if (typeof timestamp !== 'string' || !EPOCH_SECONDS.test(timestamp)) return undefined;
  if (!isOptionalAsciiId(raw.from, LIMITS.waId) || !isOptionalAsciiId(raw.from_user_id, LIMITS.userId)) {
    return undefined;
  }
  for (const field of MESSAGE_FIELDS_FOR_ZOD) if (field in raw) return undefined;
  const parsed: Loose = { timestamp: Number(timestamp) };
  if (text !== undefined) {
    if (!isObject(text) || typeof text.body !== 'string') return undefined;
    parsed.text = loose(text, { body: boundText(text.body, LIMITS.textBody) });
  }
  return loose(raw, parsed);
}

function fastStatus(raw: unknown): Loose | undefined {
  if (!isObject(raw) || 'errors' in raw) return undefined;
  const { id, status, timestamp } = raw;
  if (!isAsciiId(id, LIMITS.wamid) || !isAsciiId(status, LIMITS.token)) return undefined;
  if (typeof timestamp !== 'string' || !EPOCH_SECONDS.test(timestamp)) return undefined;
  if (
    !isOptionalAsciiId(raw.recipient_id, LIMITS.waId) ||
    !isOptionalAsciiId(raw.recipient_user_id, LIMITS.userId)
  ) {
    return undefined;
  }
  // A pricing that is not plainly valid is left to zod, which drops it.
  const { pricing } = raw;
  if (pricing !== undefined) {
    if (!isObject(pricing) || !isAsciiId(pricing.category, LIMITS.token)) return undefined;
    if (!isOptionalAsciiId(pricing.type, LIMITS.token)) return undefined;
    if (pricing.billable !== undefined && typeof pricing.billable !== 'boolean') return undefined;
  }
  return loose(raw, { timestamp: Number(timestamp) });
}

function fastContact(raw: unknown): Loose | undefined {
  if (!isObject(raw)) return undefined;
  if (!isOptionalAsciiId(raw.wa_id, LIMITS.waId) || !isOptionalAsciiId(raw.user_id, LIMITS.userId)) {
    return undefined;
  }
  const { profile } = raw;
  if (profile === undefined) return loose(raw, {});
  if (!isObject(profile) || !isOptionalString(profile.name) || !isOptionalString(profile.username)) {
    return undefined;
  }
  const parsedProfile: Loose = {};
  boundIfPresent(parsedProfile, profile, 'name', LIMITS.name);
  boundIfPresent(parsedProfile, profile, 'username', LIMITS.name);
  return loose(raw, { profile: loose(profile, parsedProfile) });
}

/** An array field the schema copies (`z.array(z.unknown())`), when the input has one. */
function copyArrayIfPresent(parsed: Loose, input: Loose, key: string): boolean {
  const value = input[key];
  if (value === undefined) return true;
  if (!Array.isArray(value)) return false;
  parsed[key] = value.slice();
  return true;
}

function fastChangeValue(raw: unknown): Loose | undefined {
  if (!isObject(raw)) return undefined;
  const { metadata } = raw;
  if (!isObject(metadata)) return undefined;
  const phoneNumberId = metadata.phone_number_id;
  if (typeof phoneNumberId !== 'string' || !PHONE_NUMBER_ID.test(phoneNumberId)) return undefined;
  const parsed: Loose = { metadata: loose(metadata, {}) };
  for (const key of ['contacts', 'messages', 'statuses', 'message_echoes', 'errors']) {
    if (!copyArrayIfPresent(parsed, raw, key)) return undefined;
  }
  return loose(raw, parsed);
}

function fastChange(raw: unknown): Loose | undefined {
  if (!isObject(raw) || typeof raw.field !== 'string' || !('value' in raw)) return undefined;
  return loose(raw, {});
}

function fastEntry(raw: unknown): Loose | undefined {
  if (!isObject(raw) || !Array.isArray(raw.changes)) return undefined;
  return loose(raw, { changes: raw.changes.slice() });
}

function fastBody(raw: unknown): Loose | undefined {
  if (!isObject(raw) || typeof raw.object !== 'string') return undefined;
  const { entry } = raw;
  if (!Array.isArray(entry) || entry.length > 1000) return undefined;
  return loose(raw, { entry: entry.slice() });
}

function reader<S extends { safeParse(input: unknown): unknown }>(
  schema: S,
  fast: (raw: unknown) => Loose | undefined,
): (raw: unknown) => Parsed<S> {
  return (raw) => {
    const data = fast(raw);
    return data ? success<S>(data) : (schema.safeParse(raw) as Parsed<S>);
  };
}

/** `schema.safeParse(raw)` of each payload schema, the plainly valid case without zod. */
export const parseWebhookBody = reader(webhookBodySchema, fastBody);
export const parseEntry = reader(entrySchema, fastEntry);
export const parseChange = reader(changeSchema, fastChange);
export const parseChangeValue = reader(changeValueSchema, fastChangeValue);
export const parseInboundMessage = reader(inboundMessageSchema, fastMessage);
export const parseStatus = reader(statusSchema, fastStatus);
export const parseContact = reader(contactSchema, fastContact);
