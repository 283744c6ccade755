import type { AssistantRecord, Client } from '../tenants/client.ts';
import type { Faq } from '../tenants/client-schemas.ts';
import type { ContactRef } from './inbound-event.ts';

/**
 * Ports of the conversation use case: what it needs from the outside world, and the errors they
 * may answer with. Adapters live in lib/openai, lib/responders, lib/whatsapp, lib/tenants and beside
 * this file (DynamoDB); tests pass in-memory fakes (test/fakes/conversation-ports.ts) or point the
 * adapters at local servers.
 */

// Responder

/** What a responder knows about the tenant it answers for. */
export interface ResponderTenant {
  id: string;
  name: string;
  language: string;
  faqs: Faq[];
  business_hours?: string;
  assistant: AssistantRecord;
  /** The tenant's own OpenAI key (decrypted), when it brought one. */
  openaiApiKey?: string;
}

export interface ResponderRequest {
  tenant: ResponderTenant;
  contact: {
    /** Our contact key (business-scoped user id when present, else wa_id). */
    key: string;
    /** The OpenAI conversation of this contact, once created. */
    conversationId?: string;
  };
  /** What the customer wrote (text, caption, button title, a voice note's transcript...). */
  text: string;
  /**
   * What came with it for a model that can see (the OpenAI responder: images as `input_image`,
   * PDFs as `input_file`); a responder that cannot answers the text alone.
   */
  attachments?: ResponderAttachment[];
  /** Epoch ms by which the reply must be ready (the rest of the invocation is for sending). */
  deadline?: number;
}

/** Media a responder may look at, base64 with its bare MIME type. */
export type ResponderAttachment =
  | { kind: 'image'; mimeType: string; base64: string }
  | { kind: 'file'; mimeType: string; filename: string; base64: string };

/**
 * Why a responder declined: an attempt to change its rules, a question off the business's topics, no
 * FAQ close enough, or nothing but media it cannot look at.
 */
export type DeclineReason = 'injection' | 'off-topic' | 'low-confidence' | 'media-only';

/** Model tokens billed for a reply, as the Responses API's `usage` counts them. */
export interface TokenUsage {
  inputTokens: number;
  outputTokens: number;
}

export interface ResponderReply {
  text: string;
  source: 'openai' | 'faq';
  /** Set by the OpenAI responder when it created or used a conversation: store it on the contact. */
  conversationId?: string;
  /** The FAQ responder's confidence in [0, 1]; below its threshold it declines. */
  confidence?: number;
  /** Why the OpenAI responder failed and the fallback answered instead. */
  fallbackReason?: string;
  /**
   * Set when the reply is a polite decline rather than an answer. Only the FAQ responder can tell:
   * the OpenAI model declines in its own words, with no machine-readable verdict.
   */
  declined?: DeclineReason;
  /** Tokens billed for this reply, those of a failed attempt the fallback replaced included. */
  usage?: TokenUsage;
}

export interface Responder {
  /**
   * Composes the reply. A primary responder that cannot serve the tenant at all (nothing configured,
   * e.g. no API key anywhere) rejects with an error whose `notConfigured` is true: the fallback then
   * answers as the normal responder, not as a fallback after a failure (fallback-responder.ts).
   */
  reply(request: ResponderRequest): Promise<ResponderReply>;
}

// WhatsApp sender and message templates: whatsapp-sender-port.ts, re-exported here with the rest.
export * from './whatsapp-sender-port.ts';

// Tenants

/** The tenants the use case answers for (lib/tenants/client-repository.ts in production). */
export interface ClientDirectory {
  get(clientId: string): Promise<Client | undefined>;
  /** Who owns a phone_number_id; `consistent` reads past any replication lag. */
  findRoute(
    phoneNumberId: string,
    options: { consistent: boolean },
  ): Promise<{ client_id: string; active: boolean } | undefined>;
  /**
   * Sets a few attributes of a client; with `onlyIfTokenCiphertext`, only while that is still the
   * stored WhatsApp token (null: while none is stored). Resolves false when the condition failed.
   */
  patch(
    clientId: string,
    values: Partial<Client>,
    options?: { onlyIfTokenCiphertext?: string | null },
  ): Promise<boolean>;
}

// Contacts and messages

/** A customer of a tenant, as the assistant remembers them. */
export interface Contact {
  contact_key: string;
  wa_id?: string;
  user_id?: string;
  name?: string;
  first_seen_at: string;
  last_activity_at: string;
  last_inbound_at?: string;
  /**
   * When the customer last wrote, by Meta's timestamp of their message (the latest ever seen): the
   * 24-hour customer service window runs from it (service-window.ts).
   */
  last_customer_message_at?: string;
  bot_paused: boolean;
  welcomed_at?: string;
  openai_conversation_id?: string;
  /** Set when the platform said the 24-hour customer-service window is closed. */
  window_closed_at?: string;
  /** Until when a person of the business has the chat: nothing automatic is sent before then. */
  handoff_until?: string;
  handoff_by?: HandoffBy;
}

/** Who took a chat from the bot. */
export type HandoffBy = 'person' | 'customer_request' | 'operator' | 'tenant';

/** What the use case may change on a contact. */
export type ContactChanges = Partial<
  Pick<
    Contact,
    | 'bot_paused'
    | 'welcomed_at'
    | 'openai_conversation_id'
    | 'window_closed_at'
    | 'handoff_until'
    | 'handoff_by'
  >
>;

/** Contact changes a reply plan implies; applied only once the plan is stored on the claim. */
export type ContactUpdates = Omit<ContactChanges, 'window_closed_at'>;

export interface StoredMessage {
  id: string;
  direction: 'inbound' | 'outbound';
  type: string;
  text?: string;
  at: string;
  /** Inbound: when the customer sent it, per Meta (second precision). */
  sent_at?: string;
  status?: string;
  error_codes?: number[];
  source?: string;
  in_reply_to?: string;
  /** An outbound reply that was not sent (status `not_sent`): why, e.g. the 24-hour window. */
  not_sent_reason?: string;
  /** Outbound template messages: which template carried the reply (outside the 24-hour window). */
  template?: { name: string; language: string };
  /** What Meta bills for an outbound message, from its first status webhook that said. */
  pricing?: MessagePricing;
  /** Inbound audio: `text` is its transcript, made by `model` (confidence in [0, 1] when known). */
  transcript?: { model: string; confidence?: number; seconds: number };
  /** Inbound media the assistant fetched and keeps (under the tenant's prefix in the media bucket). */
  media?: { mime_type: string; bytes: number };
}

/** The `pricing` of a status webhook: the ground truth for what Meta bills. */
export interface MessagePricing {
  category: string;
  type?: string;
  billable?: boolean;
}

/** Contacts and their messages (lib/conversation/conversation-store.ts in production). */
export interface ConversationRecords {
  /**
   * The contact a reference names: `ref` with the key the customer already has when any of its ids
   * (wa_id, user_id) named a contact before, and those ids recorded as naming it (contact-identity.ts).
   */
  resolveContact(tenantId: string, ref: ContactRef, at: Date, retentionHours: number): Promise<ContactRef>;
  /**
   * Records inbound activity of a contact (creating it on first contact) and returns its state.
   * `wroteAt` is when the customer wrote it, per Meta: `last_customer_message_at` keeps the latest
   * ever seen, so a late redelivery never moves the 24-hour window.
   */
  touchInbound(
    tenantId: string,
    ref: ContactRef,
    at: Date,
    retentionHours: number,
    wroteAt?: Date,
  ): Promise<Contact>;
  /** A contact as stored now (the handoff is re-read through it right before each send). */
  getContact(tenantId: string, contactKey: string): Promise<Contact | undefined>;
  /** Whether we sent the message with this id (its outbound pointer is stored): an echo of it is ours. */
  sentByUs(tenantId: string, messageId: string): Promise<boolean>;
  /** A message we sent, found by its id (with the contact it went to); undefined when unknown. */
  outboundMessage(
    tenantId: string,
    messageId: string,
  ): Promise<(StoredMessage & { contact_key: string }) | undefined>;
  /** Sets a few attributes of an existing contact; nothing happens when it was erased meanwhile. */
  updateContact(tenantId: string, contactKey: string, changes: ContactChanges): Promise<void>;
  /** Stores a message; idempotent for the same id and time (a redelivery overwrites itself). */
  putMessage(
    tenantId: string,
    contactKey: string,
    message: StoredMessage,
    retentionHours: number,
  ): Promise<void>;
  /**
   * Applies a delivery status to an outbound message (statuses only move forward); resolves with
   * the contact the message went to, undefined when the message is unknown.
   */
  applyStatus(
    tenantId: string,
    messageId: string,
    status: string,
    errorCodes: number[],
    pricing?: MessagePricing,
  ): Promise<string | undefined>;
  /**
   * Hands the chat to a person until `until` (creating the contact when the person wrote first):
   * it does not count as the customer's activity, so it opens no window. A handoff that already
   * lasts longer is kept as it is.
   */
  handOff(
    tenantId: string,
    ref: ContactRef,
    handoff: { until: Date; by: HandoffBy },
    at: Date,
    retentionHours: number,
  ): Promise<void>;
}

// Message claims

export type ClaimResult =
  | { outcome: 'claimed'; plan?: string[]; contactUpdates?: ContactUpdates; sent: number }
  | { outcome: 'done' }
  | { outcome: 'busy'; leaseUntil: number };

/**
 * Exactly-once answering (lib/conversation/message-claims.ts in production). A claim is a lease on
 * a message id: if the worker dies, the lease runs out and a redelivery may take over, resuming the
 * stored plan from the part after the last one sent. Every write after the claim holds only while
 * the caller still owns the lease; otherwise it rejects with {@link LostClaimError}.
 */
export interface ClaimStore {
  /** Takes the message (new, or a dead worker's expired lease); 'done' and 'busy' otherwise. */
  claim(tenantId: string, messageId: string, owner: string, now: number): Promise<ClaimResult>;
  /** Stores the replies about to be sent and the contact changes they imply (before any send). */
  savePlan(
    tenantId: string,
    messageId: string,
    owner: string,
    plan: string[],
    contactUpdates: ContactUpdates,
  ): Promise<void>;
  /** Records that the first `sent` planned replies went out; also extends the lease from `now`. */
  markSent(tenantId: string, messageId: string, owner: string, sent: number, now: number): Promise<void>;
  /**
   * The message is handled for good (answered, or deliberately not answered). Never rejects for a
   * lost claim: resolves false when another worker had taken the message over (it finishes it).
   */
  complete(tenantId: string, messageId: string, owner: string, outcome: string): Promise<boolean>;
  /** Gives the message back after a retryable failure: the next delivery may claim it at once. */
  release(tenantId: string, messageId: string, owner: string): Promise<void>;
}

/** Another worker took the message over (our lease ran out): stop without side effects. */
export class LostClaimError extends Error {
  constructor(messageId: string) {
    super(`lost the claim on message ${messageId}`);
    this.name = 'LostClaimError';
  }
}
