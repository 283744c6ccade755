import type * as z from 'zod/mini';
import {
  type ContactRef,
  encodeQueueEvent,
  messageGroupId,
  type QueueEvent,
} from '../conversation/inbound-event.ts';
import { TransientError, UnauthorizedError, ValidationError } from '../errors.ts';
import { logger } from '../logger.ts';
import type { FifoMessage, SendOutcome } from '../queue/sqs-publisher.ts';
import type { PhoneRoute } from '../tenants/client-repository.ts';
import { echoContact, echoEvent, parseMessageEcho } from './message-echoes.ts';
import {
  parseChange,
  parseChangeValue,
  parseContact,
  parseEntry,
  parseInboundMessage,
  parseStatus,
  parseWebhookBody,
} from './payload-fast-path.ts';
import type { InboundMessage, statusSchema, WebhookContact } from './payload-schema.ts';
import { verifyWebhookSignature } from './signature.ts';
import type { TenantRouter } from './tenant-router.ts';

/** Per kind of log line and delivery: one hostile delivery must not flood the logs (the report counts all). */
const LOG_LINES_PER_KIND = 20;

export interface ReceiveWebhookDeps {
  appSecret: string;
  router: TenantRouter;
  /**
   * Enqueues the messages, each on its own: resolves once each is queued or refused for good
   * (SendOutcome says how many); throws TransientError when some may be queued later.
   */
  // biome-ignore lint/suspicious/noConfusingVoidType: tests and the benchmark pass enqueuers that resolve to nothing
  enqueue(messages: FifoMessage[]): Promise<SendOutcome | void>;
  now?: () => Date;
}

/** What one delivery contained and what became of it (counts only, never content). */
export interface WebhookReport {
  messages: number;
  statuses: number;
  /** `smb_message_echoes`: what a person of the business sent from the WhatsApp Business app. */
  echoes: number;
  enqueued: number;
  unknownNumbers: number;
  inactiveTenants: number;
  ignoredChanges: number;
  /** Entries, changes, messages and statuses rejected by the payload schema (each logged at WARN). */
  invalidItems: number;
  /** Events the queue refused for good (each logged at WARN by the publisher). */
  refusedByQueue: number;
}

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
      return [message.location?.name, message.location?.address].filter(Boolean).join(', ') || undefined;
    case 'order':
      return message.order?.text;
    default:
      return undefined;
  }
}

/**
 * The webhook's whole job: verify the signature on the raw bytes, validate, route every message,
 * status and message echo of every entry and change to its tenant, and enqueue them. Nothing slow happens here.
 * Every item stands alone: a bad one is rejected (WARN, invalidItems) and the rest go on.
 * Throws UnauthorizedError (401), ValidationError (400: not a webhook body at all) or
 * TransientError (5xx: Meta retries).
 */
export async function receiveWebhook(
  request: { rawBody: Buffer; signature: string | undefined },
  deps: ReceiveWebhookDeps,
): Promise<WebhookReport> {
  if (!verifyWebhookSignature(request.rawBody, request.signature, deps.appSecret)) {
    throw new UnauthorizedError('invalid or missing X-Hub-Signature-256');
  }
  const body = parseBody(request.rawBody);
  const report: WebhookReport = {
    messages: 0,
    statuses: 0,
    echoes: 0,
    enqueued: 0,
    unknownNumbers: 0,
    inactiveTenants: 0,
    ignoredChanges: 0,
    invalidItems: 0,
    refusedByQueue: 0,
  };
  if (body.object !== 'whatsapp_business_account') {
    report.ignoredChanges = body.entry.length;
    return report;
  }
  const log = cappedLog();
  const changes = messageChanges(body.entry, report, log);
  const routes = await resolveRoutes(
    changes.map((c) => c.phoneNumberId),
    deps.router,
  );
  const receivedAt = deps.now ? deps.now().toISOString() : isoNow();
  const outgoing: FifoMessage[] = [];
  for (const change of changes) {
    const route = routes.get(change.phoneNumberId);
    if (!route) {
      report.unknownNumbers++;
      log('info', 'webhook for an unknown number', { phoneNumberId: change.phoneNumberId });
    } else if (!route.active) {
      report.inactiveTenants++;
      log('info', 'webhook for an inactive tenant', { tenantId: route.client_id });
    } else {
      outgoing.push(...changeEvents(change, route.client_id, receivedAt, report, log));
    }
  }
  if (outgoing.length > 0) {
    const outcome = await deps.enqueue(outgoing);
    report.enqueued = outcome ? outcome.sent : outgoing.length;
    report.refusedByQueue = outcome ? outcome.refused : 0;
  }
  return report;
}

/** The time now as an ISO string, formatted once per millisecond (a burst shares it). */
let lastMs = Number.NaN;
let lastIso = '';
function isoNow(): string {
  const ms = Date.now();
  if (ms !== lastMs) {
    lastMs = ms;
    lastIso = new Date(ms).toISOString();
  }
  return lastIso;
}

function parseBody(rawBody: Buffer) {
  let json: unknown;
  try {
    json = JSON.parse(rawBody.toString('utf8'));
  } catch {
    throw new ValidationError('body is not valid JSON');
  }
  const body = parseWebhookBody(json);
  if (!body.success) {
    throw new ValidationError(
      'body is not a WhatsApp webhook',
      body.error.issues.slice(0, 5).map((i) => ({
        path: i.path.join('.'),
        message: i.message,
      })),
    );
  }
  return body.data;
}

type Log = (level: 'info' | 'warn', message: string, fields: Record<string, unknown>) => void;

/** Logs the first LOG_LINES_PER_KIND lines of each message, then stays quiet for this delivery. */
function cappedLog(): Log {
  const lines = new Map<string, number>();
  return (level, message, fields) => {
    const count = (lines.get(message) ?? 0) + 1;
    lines.set(message, count);
    if (count <= LOG_LINES_PER_KIND) logger[level](message, fields);
  };
}

/** Where an item sits in the delivery: indexes only, so a log line never carries what it holds. */
interface Place {
  entry: number;
  change?: number;
  phoneNumberId?: string;
}

function rejectItem(
  report: WebhookReport,
  log: Log,
  item: string,
  place: Place & { index?: number },
  reason: string,
) {
  report.invalidItems++;
  log('warn', 'webhook item rejected', { item, ...place, reason });
}

/** Which fields failed and how (zod's messages name limits and types, never the value). */
function reasonOf(error: z.core.$ZodError): string {
  return error.issues
    .slice(0, 3)
    .map((issue) => `${issue.path.join('.') || '(item)'}: ${issue.message}`)
    .join('; ');
}

/**
 * A `messages` (or `smb_message_echoes`) change, validated as a whole but with its items still to
 * validate one by one.
 */
interface MessageChange {
  entry: number;
  change: number;
  phoneNumberId: string;
  contacts: unknown[];
  messages: unknown[];
  statuses: unknown[];
  echoes: unknown[];
}

/** The change fields whose items are routed; every other field is counted as ignored. */
const ROUTED_FIELDS = new Set(['messages', 'smb_message_echoes']);

/** The changes of every entry that carry messages or statuses; the rest are counted and logged. */
function messageChanges(entries: unknown[], report: WebhookReport, log: Log): MessageChange[] {
  const found: MessageChange[] = [];
  for (const [entryIndex, rawEntry] of entries.entries()) {
    const entry = parseEntry(rawEntry);
    if (!entry.success) {
      rejectItem(report, log, 'entry', { entry: entryIndex }, reasonOf(entry.error));
      continue;
    }
    for (const [changeIndex, rawChange] of entry.data.changes.entries()) {
      const change = readChange(rawChange, { entry: entryIndex, change: changeIndex }, report, log);
      if (change) found.push(change);
    }
  }
  return found;
}

/** One change: counted, and returned when it is a routed change (messages, echoes) with items to route. */
function readChange(
  rawChange: unknown,
  place: { entry: number; change: number },
  report: WebhookReport,
  log: Log,
): MessageChange | undefined {
  const change = parseChange(rawChange);
  if (!change.success) {
    rejectItem(report, log, 'change', place, reasonOf(change.error));
    return undefined;
  }
  if (!ROUTED_FIELDS.has(change.data.field)) {
    report.ignoredChanges++;
    return undefined;
  }
  const value = parseChangeValue(change.data.value);
  if (!value.success) {
    rejectItem(report, log, 'change', place, reasonOf(value.error));
    return undefined;
  }
  const { metadata, contacts = [], messages = [], statuses = [], errors = [] } = value.data;
  const echoes = value.data.message_echoes ?? [];
  const phoneNumberId = metadata.phone_number_id;
  if (errors.length > 0) {
    log('warn', 'webhook carried account errors', { phoneNumberId, codes: errorCodes(errors) });
  }
  report.messages += messages.length;
  report.statuses += statuses.length;
  report.echoes += echoes.length;
  if (messages.length === 0 && statuses.length === 0 && echoes.length === 0) return undefined;
  // Spelled out: spreading `place` here cost more than validating the change.
  return { entry: place.entry, change: place.change, phoneNumberId, contacts, messages, statuses, echoes };
}

function errorCodes(errors: unknown[]): unknown[] {
  return errors.map((e) => (e as { code?: unknown } | null)?.code).filter(Number.isSafeInteger);
}

/**
 * Every number of the delivery routed in one call: the router serves what it has cached and reads
 * the rest in batches (the worst delivery Meta signs names 30,000 numbers: 300 BatchGetItem
 * requests, 16 at a time). A failed lookup fails the delivery (503): Meta retries it.
 */
async function resolveRoutes(
  phoneNumberIds: string[],
  router: TenantRouter,
): Promise<Map<string, PhoneRoute>> {
  try {
    return await router.resolveMany(phoneNumberIds);
  } catch (error) {
    throw new TransientError('could not look up the numbers of a delivery', { cause: error });
  }
}

/** The queue messages of one routed change: every valid message, status and echo, the rest rejected. */
function changeEvents(
  change: MessageChange,
  tenantId: string,
  receivedAt: string,
  report: WebhookReport,
  log: Log,
): FifoMessage[] {
  const outgoing: FifoMessage[] = [];
  const contacts = indexContacts(change, log);
  for (const [index, raw] of change.messages.entries()) {
    const parsed = parseInboundMessage(raw);
    const contact = parsed.success ? contactFor(parsed.data, contacts) : undefined;
    if (!parsed.success || !contact) {
      const reason = parsed.success ? 'no contact id (from, from_user_id)' : reasonOf(parsed.error);
      rejectItem(report, log, 'message', { ...placeOf(change), index }, reason);
      continue;
    }
    outgoing.push(messageEvent(parsed.data, contact, change.phoneNumberId, tenantId, receivedAt));
  }
  for (const [index, raw] of change.statuses.entries()) {
    const parsed = parseStatus(raw);
    if (!parsed.success) {
      rejectItem(report, log, 'status', { ...placeOf(change), index }, reasonOf(parsed.error));
      continue;
    }
    outgoing.push(statusEvent(parsed.data, change.phoneNumberId, tenantId, receivedAt));
  }
  for (const [index, raw] of change.echoes.entries()) {
    const parsed = parseMessageEcho(raw);
    const contact = parsed.success ? echoContact(parsed.data) : undefined;
    if (!parsed.success || !contact) {
      const reason = parsed.success ? 'no customer id (to, to_user_id)' : reasonOf(parsed.error);
      rejectItem(report, log, 'message_echo', { ...placeOf(change), index }, reason);
      continue;
    }
    outgoing.push(echoEvent(parsed.data, contact, change.phoneNumberId, tenantId, receivedAt));
  }
  return outgoing;
}

function placeOf(change: MessageChange): Place {
  return { entry: change.entry, change: change.change, phoneNumberId: change.phoneNumberId };
}

function messageEvent(
  message: InboundMessage,
  contact: ContactRef,
  phoneNumberId: string,
  tenantId: string,
  receivedAt: string,
): FifoMessage {
  const text = readableText(message);
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
    },
    received_at: receivedAt,
  };
  return {
    body: encodeQueueEvent(event),
    groupId: messageGroupId(tenantId, contact.key),
    deduplicationId: `msg:${message.id}`,
  };
}

function statusEvent(
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

/** The change's valid contacts by user id and by wa_id (the first of each wins), found in O(1). */
interface ContactIndex {
  byUserId: Map<string, WebhookContact>;
  byWaId: Map<string, WebhookContact>;
}

function indexContacts(change: MessageChange, log: Log): ContactIndex {
  const index: ContactIndex = { byUserId: new Map(), byWaId: new Map() };
  for (const [position, raw] of change.contacts.entries()) {
    const parsed = parseContact(raw);
    if (!parsed.success) {
      // Only enriches messages (a name, the other id): ignored, the messages keep their own ids.
      log('warn', 'webhook contact ignored', {
        ...placeOf(change),
        index: position,
        reason: reasonOf(parsed.error),
      });
      continue;
    }
    const contact = parsed.data;
    if (contact.user_id && !index.byUserId.has(contact.user_id)) index.byUserId.set(contact.user_id, contact);
    if (contact.wa_id && !index.byWaId.has(contact.wa_id)) index.byWaId.set(contact.wa_id, contact);
  }
  return index;
}

function contactFor(message: InboundMessage, contacts: ContactIndex): ContactRef | undefined {
  const userId = message.from_user_id;
  const waId = message.from;
  const profile =
    (userId ? contacts.byUserId.get(userId) : undefined) ?? (waId ? contacts.byWaId.get(waId) : undefined);
  const key = userId ?? profile?.user_id ?? waId;
  if (!key) return undefined;
  const name = profile?.profile?.name ?? profile?.profile?.username;
  return {
    key,
    ...(waId ? { wa_id: waId } : profile?.wa_id ? { wa_id: profile.wa_id } : {}),
    ...(userId ? { user_id: userId } : profile?.user_id ? { user_id: profile.user_id } : {}),
    ...(name ? { name } : {}),
  };
}
