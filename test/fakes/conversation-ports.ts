import type { ContactRef } from '../../lib/conversation/inbound-event.ts';
import {
  type ClaimResult,
  type ClaimStore,
  type ClientDirectory,
  type Contact,
  type ContactChanges,
  type ContactUpdates,
  type ConversationRecords,
  type HandoffBy,
  LostClaimError,
  type MarkReadRequest,
  type MessagePricing,
  type Responder,
  type ResponderReply,
  type ResponderRequest,
  SendFailure,
  type SendFailureKind,
  type SendTemplateRequest,
  type SendTextRequest,
  type StoredMessage,
  type WhatsAppSender,
} from '../../lib/conversation/ports.ts';
import type { SecretBox } from '../../lib/secrets/secret-box.ts';
import type { Client } from '../../lib/tenants/client.ts';

/**
 * In-memory implementations of the conversation use case's ports (lib/conversation/ports.ts), with
 * the same guarantees as the DynamoDB and Graph adapters where the use case relies on them: claims
 * are leases with owner-guarded writes, contact updates skip erased contacts, statuses only move
 * forward, a conditional client patch checks the stored token. They run in microseconds, so the use
 * case's tests need no emulator.
 */

const keyOf = (...parts: string[]) => parts.join('\u0000');

interface StoredClaim {
  state: 'working' | 'done';
  owner: string;
  leaseUntil: number;
  plan?: string[];
  contactUpdates?: ContactUpdates;
  sent: number;
  outcome?: string;
}

export class InMemoryClaims implements ClaimStore {
  private readonly claims = new Map<string, StoredClaim>();

  constructor(private readonly leaseMs: number) {}

  async claim(tenantId: string, messageId: string, owner: string, now: number): Promise<ClaimResult> {
    const key = keyOf(tenantId, messageId);
    const existing = this.claims.get(key);
    if (existing?.state === 'done') return { outcome: 'done' };
    if (existing && existing.leaseUntil >= now) return { outcome: 'busy', leaseUntil: existing.leaseUntil };
    const claim: StoredClaim = {
      sent: 0,
      ...existing,
      state: 'working',
      owner,
      leaseUntil: now + this.leaseMs,
    };
    this.claims.set(key, claim);
    return {
      outcome: 'claimed',
      ...(claim.plan ? { plan: [...claim.plan] } : {}),
      ...(claim.contactUpdates ? { contactUpdates: { ...claim.contactUpdates } } : {}),
      sent: claim.sent,
    };
  }

  async savePlan(
    tenantId: string,
    messageId: string,
    owner: string,
    plan: string[],
    contactUpdates: ContactUpdates,
  ) {
    Object.assign(this.owned(tenantId, messageId, owner), {
      plan: [...plan],
      contactUpdates: { ...contactUpdates },
      sent: 0,
    });
  }

  async markSent(tenantId: string, messageId: string, owner: string, sent: number, now: number) {
    Object.assign(this.owned(tenantId, messageId, owner), { sent, leaseUntil: now + this.leaseMs });
  }

  async complete(tenantId: string, messageId: string, owner: string, outcome: string) {
    const claim = this.claims.get(keyOf(tenantId, messageId));
    if (claim?.owner !== owner || claim.state !== 'working') return false;
    this.claims.set(keyOf(tenantId, messageId), {
      state: 'done',
      owner,
      leaseUntil: 0,
      sent: claim.sent,
      outcome,
    });
    return true;
  }

  async release(tenantId: string, messageId: string, owner: string) {
    const claim = this.claims.get(keyOf(tenantId, messageId));
    if (claim?.owner === owner && claim.state === 'working') claim.leaseUntil = 0;
  }

  /** The claim as stored, for assertions. */
  get(tenantId: string, messageId: string): Readonly<StoredClaim> | undefined {
    return this.claims.get(keyOf(tenantId, messageId));
  }

  private owned(tenantId: string, messageId: string, owner: string): StoredClaim {
    const claim = this.claims.get(keyOf(tenantId, messageId));
    if (claim?.owner !== owner || claim.state !== 'working') throw new LostClaimError(messageId);
    return claim;
  }
}

const STATUS_RANK: Record<string, number> = { accepted: 0, sent: 1, delivered: 2, read: 3, failed: 4 };

export class InMemoryConversations implements ConversationRecords {
  private readonly contacts = new Map<string, Contact>();
  /** Per contact, keyed by `at` and id like the table: storing the same message again overwrites it. */
  private readonly messages = new Map<string, Map<string, StoredMessage>>();
  private readonly outbound = new Map<string, { contactKey: string; messageKey: string }>();

  /** Which contact each id of a customer names, as contact-identity.ts keeps it. */
  private readonly aliases = new Map<string, string>();

  async resolveContact(tenantId: string, ref: ContactRef, _at: Date, _retentionHours: number) {
    const ids = [...(ref.user_id ? [`uid#${ref.user_id}`] : []), ...(ref.wa_id ? [`wa#${ref.wa_id}`] : [])];
    const named = ids.map((id) => this.aliases.get(keyOf(tenantId, id))).find((key) => key !== undefined);
    const key = named ?? ref.key;
    for (const id of ids) {
      if (!this.aliases.has(keyOf(tenantId, id))) this.aliases.set(keyOf(tenantId, id), key);
    }
    return key === ref.key ? ref : { ...ref, key };
  }

  async touchInbound(tenantId: string, ref: ContactRef, at: Date, _retentionHours: number, wroteAt?: Date) {
    const iso = at.toISOString();
    const previous: Partial<Contact> & Pick<Contact, 'first_seen_at' | 'bot_paused'> = this.contacts.get(
      keyOf(tenantId, ref.key),
    ) ?? { first_seen_at: iso, bot_paused: false };
    const wrote = wroteAt?.toISOString();
    // The latest the customer ever wrote, like the table's conditional write.
    const latest =
      wrote && (previous.last_customer_message_at ?? '') < wrote ? wrote : previous.last_customer_message_at;
    const contact: Contact = {
      ...previous,
      contact_key: ref.key,
      ...(ref.wa_id ? { wa_id: ref.wa_id } : {}),
      ...(ref.user_id ? { user_id: ref.user_id } : {}),
      ...(ref.name ? { name: ref.name } : {}),
      first_seen_at: previous.first_seen_at,
      last_activity_at: iso,
      last_inbound_at: iso,
      ...(latest ? { last_customer_message_at: latest } : {}),
      bot_paused: previous.bot_paused,
    };
    this.contacts.set(keyOf(tenantId, ref.key), contact);
    return { ...contact };
  }

  async updateContact(tenantId: string, contactKey: string, changes: ContactChanges) {
    const contact = this.contacts.get(keyOf(tenantId, contactKey));
    if (!contact) return; // erased meanwhile
    for (const [field, value] of Object.entries(changes)) {
      if (value !== undefined) Object.assign(contact, { [field]: value });
    }
  }

  async handOff(
    tenantId: string,
    ref: ContactRef,
    handoff: { until: Date; by: HandoffBy },
    at: Date,
    _retentionHours: number,
  ) {
    const iso = at.toISOString();
    const previous = this.contacts.get(keyOf(tenantId, ref.key));
    // Like the table's condition: a handoff that already lasts longer is kept.
    if (previous?.handoff_until && previous.handoff_until >= handoff.until.toISOString()) return;
    this.contacts.set(keyOf(tenantId, ref.key), {
      first_seen_at: iso,
      bot_paused: false,
      ...(ref.wa_id ? { wa_id: ref.wa_id } : {}),
      ...previous,
      contact_key: ref.key,
      last_activity_at: iso,
      handoff_until: handoff.until.toISOString(),
      handoff_by: handoff.by,
    });
  }

  async getContact(tenantId: string, contactKey: string) {
    return this.contact(tenantId, contactKey);
  }

  async sentByUs(tenantId: string, messageId: string) {
    return this.outbound.has(keyOf(tenantId, messageId));
  }

  async outboundMessage(tenantId: string, messageId: string) {
    const pointer = this.outbound.get(keyOf(tenantId, messageId));
    const message =
      pointer && this.messages.get(keyOf(tenantId, pointer.contactKey))?.get(pointer.messageKey);
    return message && pointer ? { ...message, contact_key: pointer.contactKey } : undefined;
  }

  async putMessage(tenantId: string, contactKey: string, message: StoredMessage, _retentionHours: number) {
    const history = this.messages.get(keyOf(tenantId, contactKey)) ?? new Map<string, StoredMessage>();
    this.messages.set(keyOf(tenantId, contactKey), history);
    const messageKey = keyOf(message.at, message.id);
    history.set(messageKey, { ...message });
    if (message.direction === 'outbound') {
      this.outbound.set(keyOf(tenantId, message.id), { contactKey, messageKey });
    }
  }

  async applyStatus(
    tenantId: string,
    messageId: string,
    status: string,
    errorCodes: number[],
    pricing?: MessagePricing,
  ) {
    const pointer = this.outbound.get(keyOf(tenantId, messageId));
    if (!pointer) return undefined;
    const message = this.messages.get(keyOf(tenantId, pointer.contactKey))?.get(pointer.messageKey);
    const rank = (value: string | undefined) => STATUS_RANK[value ?? ''] ?? 0;
    if (message && (message.status === undefined || rank(message.status) < rank(status))) {
      Object.assign(message, { status, error_codes: errorCodes });
    }
    if (message && pricing && !message.pricing) message.pricing = { ...pricing };
    return pointer.contactKey;
  }

  /** A contact as stored, for assertions. */
  contact(tenantId: string, contactKey: string): Contact | undefined {
    const contact = this.contacts.get(keyOf(tenantId, contactKey));
    return contact ? { ...contact } : undefined;
  }

  /**
   * A contact's messages in the order they were first stored (the table sorts them by when we
   * received or sent them: the same order, with a clock that moves; the tests' clock often does not).
   */
  history(tenantId: string, contactKey: string): StoredMessage[] {
    return [...(this.messages.get(keyOf(tenantId, contactKey))?.values() ?? [])].map((message) => ({
      ...message,
    }));
  }
}

export class InMemoryClients implements ClientDirectory {
  private readonly clients = new Map<string, Client>();

  constructor(clients: Client[]) {
    for (const client of clients) this.clients.set(client.id, structuredClone(client));
  }

  async get(clientId: string) {
    const client = this.clients.get(clientId);
    return client ? structuredClone(client) : undefined;
  }

  /** Like the phone route items: the active owner of a number, else whoever last had it. */
  async findRoute(phoneNumberId: string, _options: { consistent: boolean }) {
    const owners = [...this.clients.values()].filter((client) => client.phone_number_id === phoneNumberId);
    const owner = owners.find((client) => client.active) ?? owners.at(-1);
    return owner ? { client_id: owner.id, active: owner.active } : undefined;
  }

  async patch(
    clientId: string,
    values: Partial<Client>,
    options: { onlyIfTokenCiphertext?: string | null } = {},
  ) {
    const client = this.clients.get(clientId);
    if (!client) return false;
    const { onlyIfTokenCiphertext: expected } = options;
    if (expected !== undefined && (client.whatsapp_access_token_enc ?? null) !== expected) return false;
    Object.assign(client, { updated_at: new Date().toISOString(), ...values });
    return true;
  }
}

/**
 * What one send does before it is accepted: resolve to let it through, reject to fail it, never
 * settle to stand for a worker that died there.
 */
export type SendStep = (request: SendTextRequest | SendTemplateRequest) => Promise<void>;

/** A send that fails as `kind`, as the adapter would report it. */
export const failsAs =
  (kind: SendFailureKind): SendStep =>
  async () => {
    throw sendFailure(kind);
  };

/** A send that never returns (the process died while it was in flight). */
export const hangs: SendStep = () => new Promise<never>(() => undefined);

export const sendFailure = (kind: SendFailureKind) =>
  new SendFailure(`send failed (${kind})`, { kind, detail: `fake platform error (${kind})` });

/**
 * A WhatsApp sender that records what it sent. Each send takes the next scripted step (if any);
 * `deliveryCodes` stands for the platform's codes of failed delivery statuses.
 */
export class RecordingSender implements WhatsAppSender {
  readonly sent: SendTextRequest[] = [];
  /** Template sends, in order (they take the scripted steps too). */
  readonly templates: SendTemplateRequest[] = [];
  readonly reads: MarkReadRequest[] = [];
  sendAttempts = 0;
  private readonly steps: SendStep[] = [];
  private readFailure: SendFailure | undefined;

  constructor(private readonly deliveryCodes: Record<number, SendFailureKind> = {}) {}

  /** The next sends take these steps, in order; later ones go straight through. */
  script(...steps: SendStep[]) {
    this.steps.push(...steps);
    return this;
  }

  /** Every read receipt fails with this (undefined: they go through). */
  failReads(failure: SendFailure | undefined) {
    this.readFailure = failure;
    return this;
  }

  async sendText(request: SendTextRequest) {
    this.sendAttempts++;
    await this.steps.shift()?.(request);
    this.sent.push(request);
    return { messageId: `wamid.out.${this.sent.length}` };
  }

  async sendTemplate(request: SendTemplateRequest) {
    this.sendAttempts++;
    await this.steps.shift()?.(request);
    this.templates.push(request);
    return { messageId: `wamid.template.${this.templates.length}` };
  }

  async markRead(request: MarkReadRequest) {
    if (this.readFailure) throw this.readFailure;
    this.reads.push(request);
  }

  deliveryFailureKind(errorCode: number) {
    return this.deliveryCodes[errorCode];
  }

  /** The texts sent to one customer (by wa_id or user id), in order. */
  textsTo(recipient: string): string[] {
    return this.sent
      .filter((request) => request.to.wa_id === recipient || request.to.user_id === recipient)
      .map((request) => request.text);
  }
}

/** A responder that answers with `answer` and remembers what it was asked. */
export class ScriptedResponder implements Responder {
  readonly requests: ResponderRequest[] = [];

  constructor(private readonly answer: (request: ResponderRequest) => ResponderReply) {}

  async reply(request: ResponderRequest) {
    this.requests.push(request);
    return this.answer(request);
  }
}

/** Secrets "encrypted" by tagging them with their tenant: readable in a test, bound to the tenant. */
export const taggedSecrets: SecretBox = {
  async encrypt(plaintext, { tenantId }) {
    return `enc:${tenantId}:${plaintext}`;
  },
  async decrypt(ciphertext, { tenantId }) {
    const prefix = `enc:${tenantId}:`;
    if (!ciphertext.startsWith(prefix)) throw new Error('not a secret of this tenant');
    return ciphertext.slice(prefix.length);
  },
};

export const PLAZA_WELCOME = '¡Hola! Soy el asistente virtual del Restaurante La Plaza.';

/**
 * A restaurant tenant ready to answer: its own (tagged) WhatsApp token, one FAQ, a welcome message
 * and an assistant record.
 */
export function plazaTenant(overrides: Partial<Client> = {}): Client {
  return {
    id: 'cl_plaza',
    slug: 'plaza-slug',
    name: 'Restaurante La Plaza',
    phone_number: '+34666777888',
    phone_number_id: '700001',
    faqs: [{ q: '¿Tenéis menú del día?', a: 'Sí, de lunes a viernes por 12€.' }],
    welcome_message: PLAZA_WELCOME,
    language: 'es',
    bot_enabled: true,
    retention_hours: 24,
    active: true,
    created_at: '2026-01-01T00:00:00.000Z',
    updated_at: '2026-01-01T00:00:00.000Z',
    assistant: {
      id: 'asst_plaza',
      version: 1,
      model: 'gpt-5-mini',
      instructions: 'Answer from the FAQs.',
      status: 'ready',
      updated_at: '2026-01-01T00:00:00.000Z',
    },
    whatsapp_access_token_enc: 'enc:cl_plaza:tenant-token',
    credentials_status: 'ok',
    ...overrides,
  };
}

/** A clock the test moves by hand. */
export function manualClock(startIso: string) {
  let now = Date.parse(startIso);
  return {
    now: () => new Date(now),
    advance(ms: number) {
      now += ms;
    },
  };
}
