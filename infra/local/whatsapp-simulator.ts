import { createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as z from 'zod';
import { signWebhookBody } from '../../lib/webhook/signature.ts';

/**
 * The built-in WhatsApp simulator: a stand-in for the Graph API (`/{version}/{phone_number_id}/messages`,
 * media lookups) that records what the product sends, plus the customer's side: Meta-shaped,
 * Meta-serialized, signed webhook deliveries and a chat page at `/simulator` where a person writes as a
 * customer. The local stack mounts {@link WhatsAppSimulator.handle} on its own HTTP server; tests use
 * {@link startStandaloneSimulator} as a fake Graph server.
 */

export interface SimulatorBusiness {
  phoneNumberId: string;
  name: string;
}

export interface SimulatorOptions {
  /** The App Secret that signs webhook deliveries (X-Hub-Signature-256). */
  appSecret: string;
  /** Where customer messages are POSTed (the product's `/webhook`). Settable later. */
  webhookUrl?: string;
  /** Path under which the Graph stand-in answers; default `/graph`. */
  graphPathPrefix?: string;
  /** The businesses the chat page offers (tenants with their phone_number_id). */
  listBusinesses?: () => Promise<SimulatorBusiness[]>;
}

/** A message the product sent through the Graph stand-in. */
export interface SimulatedOutbound {
  id: string;
  phoneNumberId: string;
  to?: string;
  recipient?: string;
  text: string;
  context?: { message_id: string };
  /** Last 4 characters of the bearer token used: enough to tell tenants apart, useless to an attacker. */
  tokenSuffix: string;
  at: string;
}

/** A read receipt (with or without typing indicator) the product sent. */
export interface SimulatedRead {
  phoneNumberId: string;
  messageId: string;
  typing: boolean;
  tokenSuffix: string;
  at: string;
}

/** A customer message the simulator delivered to the webhook. */
export interface SimulatedInbound {
  id: string;
  phoneNumberId: string;
  from?: string;
  userId?: string;
  name?: string;
  text: string;
  at: string;
  /** HTTP status the webhook answered; undefined while in flight, 0 when unreachable. */
  webhookStatus?: number;
}

/** One request that reached the Graph stand-in, successful or not. */
export interface GraphCall {
  method: string;
  path: string;
  operation: GraphOperation;
  phoneNumberId?: string;
  tokenSuffix?: string;
  status: number;
  at: string;
}

export type GraphOperation = 'send' | 'read' | 'media' | 'other';

/** An error the Graph stand-in will answer instead of the real result. */
export interface GraphFault {
  httpStatus: number;
  code: number;
  subcode?: number;
  message?: string;
  /** Sets the Retry-After header. */
  retryAfterSeconds?: number;
  /** Only requests for this phone_number_id fail. */
  phoneNumberId?: string;
  /** Only this kind of request fails (default: send and read). */
  operation?: GraphOperation;
}

export interface InboundMessageInput {
  phoneNumberId: string;
  displayPhoneNumber?: string;
  /** The customer's phone (wa_id); omit for a username-only customer. */
  from?: string;
  /** The business-scoped user id (BSUID). */
  userId?: string;
  name?: string;
  text: string;
  messageId?: string;
  /** wamid of a message this one replies to (context). */
  replyTo?: string;
  /** Unix seconds; default now. */
  timestamp?: number;
  /** The WhatsApp Business Account id of `entry[].id`. */
  wabaId?: string;
}

export interface ConversationItem {
  seq: number;
  direction: 'in' | 'out';
  id: string;
  text: string;
  at: string;
  /** Inbound: whether the business marked it read. */
  read?: boolean;
  /** Inbound: the webhook's HTTP status. */
  webhookStatus?: number;
}

export interface WhatsAppSimulator {
  handle(req: IncomingMessage, res: ServerResponse): Promise<boolean>;
  readonly graphPathPrefix: string;
  webhookUrl: string | undefined;
  readonly sent: readonly SimulatedOutbound[];
  readonly reads: readonly SimulatedRead[];
  readonly inbound: readonly SimulatedInbound[];
  readonly graphCalls: readonly GraphCall[];
  /** The next `count` matching Graph requests fail with `fault`. */
  failNext(count: number, fault: GraphFault): void;
  /** Forgets everything recorded and every pending fault. */
  reset(): void;
  /** Resolves with the first outbound message (already sent or to come) that matches. */
  waitForSent(
    predicate: (message: SimulatedOutbound) => boolean,
    timeoutMs?: number,
  ): Promise<SimulatedOutbound>;
  /** Makes `GET {prefix}/{version}/{mediaId}` answer for this media; returns its id. */
  addMedia(media: { id?: string; mimeType: string; data: Buffer }): string;
  buildInboundPayload(input: InboundMessageInput): Record<string, unknown>;
  /** Delivers a customer message to the webhook like Meta does (escaped, signed). */
  sendAsCustomer(input: InboundMessageInput): Promise<{ status: number; messageId: string }>;
  /** Inbound and outbound messages of one contact (wa_id or user id) with one business, in order. */
  conversation(phoneNumberId: string, contact: string): ConversationItem[];
}

const DEFAULT_WABA_ID = '100000000000001';
const MAX_TEXT = 4096;
const MAX_JSON_BODY = 256 * 1024;
const TYPING_MS = 25_000;

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

export function buildInboundPayload(input: InboundMessageInput): Record<string, unknown> {
  if (!input.from && !input.userId) throw new Error('an inbound message needs from (wa_id) or userId');
  const contact: Record<string, unknown> = { profile: { name: input.name ?? 'Cliente' } };
  if (input.from) contact.wa_id = input.from;
  if (input.userId) contact.user_id = input.userId;
  const message: Record<string, unknown> = {};
  if (input.from) message.from = input.from;
  if (input.userId) message.from_user_id = input.userId;
  message.id = input.messageId ?? simulatedMessageId();
  message.timestamp = String(input.timestamp ?? Math.floor(Date.now() / 1000));
  message.type = 'text';
  message.text = { body: input.text };
  if (input.replyTo) message.context = { from: input.displayPhoneNumber ?? '15550000000', id: input.replyTo };
  return {
    object: 'whatsapp_business_account',
    entry: [
      {
        id: input.wabaId ?? DEFAULT_WABA_ID,
        changes: [
          {
            field: 'messages',
            value: {
              messaging_product: 'whatsapp',
              metadata: {
                display_phone_number: input.displayPhoneNumber ?? '15550000000',
                phone_number_id: input.phoneNumberId,
              },
              contacts: [contact],
              messages: [message],
            },
          },
        ],
      },
    ],
  };
}

// ---- validation of the chat page's inputs ---------------------------------------------------------

const phoneNumberIdSchema = z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, 'must be a phone_number_id');
const waIdSchema = z
  .string()
  .regex(/^\d{6,20}$/, 'must be a phone number in international format, digits only');
const userIdSchema = z.string().regex(/^[A-Z]{2}\.[A-Za-z0-9]{1,64}$/, 'must look like ES.1349120865530274');

const postMessageSchema = z
  .object({
    phone_number_id: phoneNumberIdSchema,
    from: waIdSchema.optional(),
    user_id: userIdSchema.optional(),
    name: z.string().trim().min(1).max(100).optional(),
    text: z
      .string()
      .refine((value) => value.trim().length > 0, 'text must not be empty')
      .refine((value) => value.length <= MAX_TEXT, `text must be at most ${MAX_TEXT} characters`),
  })
  .strict()
  .refine((value) => value.from !== undefined || value.user_id !== undefined, 'from or user_id is required');

const conversationQuerySchema = z.object({
  phone_number_id: phoneNumberIdSchema,
  contact: z.string().regex(/^[A-Za-z0-9_.-]{1,70}$/, 'must be a wa_id or a user id'),
});

// ---- the Graph stand-in's validation (Meta's error 100 on a bad body) ------------------------------

class GraphRequestError extends Error {
  constructor(
    readonly httpStatus: number,
    readonly code: number,
    message: string,
    readonly subcode?: number,
    readonly type = 'OAuthException',
  ) {
    super(message);
  }
}

function invalidParameter(details: string): GraphRequestError {
  return new GraphRequestError(400, 100, `(#100) ${details}`, undefined);
}

/** No Origin (curl, `npm run simulate`) or one whose host is ours (the chat page). */
function isSameOrigin(origin: string | undefined, host: string | undefined): boolean {
  if (!origin) return true;
  try {
    return new URL(origin).host === host;
  } catch {
    return false;
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function createWhatsAppSimulator(options: SimulatorOptions): WhatsAppSimulator {
  const graphPathPrefix = normalizePrefix(options.graphPathPrefix ?? '/graph');
  const sent: SimulatedOutbound[] = [];
  const reads: SimulatedRead[] = [];
  const inbound: SimulatedInbound[] = [];
  const graphCalls: GraphCall[] = [];
  const timeline: Array<{ seq: number; kind: 'in' | 'out'; index: number }> = [];
  const faults: Array<{ remaining: number; fault: GraphFault }> = [];
  const media = new Map<string, { mimeType: string; data: Buffer }>();
  const waiters = new Set<(message: SimulatedOutbound) => void>();
  let seq = 0;

  const simulator: WhatsAppSimulator = {
    graphPathPrefix,
    webhookUrl: options.webhookUrl,
    sent,
    reads,
    inbound,
    graphCalls,

    async handle(req, res) {
      const path = new URL(req.url ?? '/', 'http://simulator.local').pathname;
      const underGraph = path === graphPathPrefix || path.startsWith(`${graphPathPrefix}/`);
      const underPage = path === '/simulator' || path.startsWith('/simulator/');
      if (!underGraph && !underPage) return false;
      try {
        if (underGraph) await handleGraph(req, res, path.slice(graphPathPrefix.length) || '/');
        else await handlePage(req, res, path);
      } catch (error) {
        if (!res.headersSent) sendJson(res, 500, { error: 'simulator_error', message: messageOf(error) });
        else res.end();
      }
      return true;
    },

    failNext(count, fault) {
      if (!Number.isInteger(count) || count < 1) throw new RangeError('count must be a positive integer');
      faults.push({ remaining: count, fault });
    },

    reset() {
      sent.length = 0;
      reads.length = 0;
      inbound.length = 0;
      graphCalls.length = 0;
      timeline.length = 0;
      faults.length = 0;
      media.clear();
    },

    waitForSent(predicate, timeoutMs = 5000) {
      const existing = sent.find(predicate);
      if (existing) return Promise.resolve(existing);
      return new Promise((resolve, reject) => {
        const waiter = (message: SimulatedOutbound) => {
          if (!predicate(message)) return;
          clearTimeout(timer);
          waiters.delete(waiter);
          resolve(message);
        };
        const timer = setTimeout(() => {
          waiters.delete(waiter);
          reject(new Error(`no matching outbound message within ${timeoutMs} ms (${sent.length} sent)`));
        }, timeoutMs);
        waiters.add(waiter);
      });
    },

    addMedia({ id, mimeType, data }) {
      const mediaId = id ?? String(1_000_000_000_000 + Math.floor(Math.random() * 1e12));
      media.set(mediaId, { mimeType, data });
      return mediaId;
    },

    buildInboundPayload,

    async sendAsCustomer(input) {
      const webhookUrl = simulator.webhookUrl;
      if (!webhookUrl) throw new Error('the simulator has no webhookUrl to deliver to');
      const messageId = input.messageId ?? simulatedMessageId();
      const raw = serializeLikeMeta(buildInboundPayload({ ...input, messageId }));
      // Recorded before delivery: the reply may arrive before the webhook answers.
      const record: SimulatedInbound = {
        id: messageId,
        phoneNumberId: input.phoneNumberId,
        text: input.text,
        at: new Date().toISOString(),
        ...(input.from ? { from: input.from } : {}),
        ...(input.userId ? { userId: input.userId } : {}),
        ...(input.name ? { name: input.name } : {}),
      };
      inbound.push(record);
      timeline.push({ seq: ++seq, kind: 'in', index: inbound.length - 1 });
      try {
        const response = await fetch(webhookUrl, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'user-agent': 'facebookexternalua',
            'x-hub-signature-256': signWebhookBody(raw, options.appSecret),
          },
          body: raw,
          signal: AbortSignal.timeout(15_000),
        });
        await response.arrayBuffer();
        record.webhookStatus = response.status;
        return { status: response.status, messageId };
      } catch (error) {
        record.webhookStatus = 0;
        throw error;
      }
    },

    conversation(phoneNumberId, contact) {
      // A customer may be addressed by phone or by user id: collect every identity seen for this one.
      const identities = new Set([contact]);
      for (const message of inbound) {
        if (message.phoneNumberId !== phoneNumberId) continue;
        if (message.from === contact || message.userId === contact) {
          if (message.from) identities.add(message.from);
          if (message.userId) identities.add(message.userId);
        }
      }
      const items: ConversationItem[] = [];
      for (const entry of timeline) {
        if (entry.kind === 'in') {
          const message = inbound[entry.index];
          if (!message || message.phoneNumberId !== phoneNumberId) continue;
          if (!identities.has(message.from ?? '') && !identities.has(message.userId ?? '')) continue;
          const item: ConversationItem = {
            seq: entry.seq,
            direction: 'in',
            id: message.id,
            text: message.text,
            at: message.at,
            read: reads.some((read) => read.messageId === message.id),
          };
          if (message.webhookStatus !== undefined) item.webhookStatus = message.webhookStatus;
          items.push(item);
        } else {
          const message = sent[entry.index];
          if (!message || message.phoneNumberId !== phoneNumberId) continue;
          if (!identities.has(message.to ?? '') && !identities.has(message.recipient ?? '')) continue;
          items.push({
            seq: entry.seq,
            direction: 'out',
            id: message.id,
            text: message.text,
            at: message.at,
          });
        }
      }
      return items;
    },
  };

  // ---- Graph stand-in -------------------------------------------------------------------------------

  async function handleGraph(req: IncomingMessage, res: ServerResponse, subPath: string): Promise<void> {
    const method = req.method ?? 'GET';
    let segments: string[];
    try {
      segments = subPath.split('/').filter(Boolean).map(decodeURIComponent);
    } catch {
      sendJson(res, 400, { error: { message: '(#100) malformed path', type: 'OAuthException', code: 100 } });
      return;
    }
    const call: GraphCall = {
      method,
      path: subPath,
      operation: 'other',
      status: 0,
      at: new Date().toISOString(),
    };
    graphCalls.push(call);
    const answer = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      call.status = status;
      sendJson(res, status, body, headers);
    };
    try {
      // Media download (the URL a media lookup answers): GET {prefix}/media-download?mid=...
      if (method === 'GET' && segments.length === 1 && segments[0] === 'media-download') {
        call.operation = 'media';
        requireToken(req, call);
        const mid = new URL(req.url ?? '/', 'http://simulator.local').searchParams.get('mid') ?? '';
        const item = media.get(mid);
        if (!item) throw new GraphRequestError(404, 100, 'media not found');
        call.status = 200;
        res.writeHead(200, { 'content-type': item.mimeType, 'content-length': String(item.data.length) });
        res.end(item.data);
        return;
      }
      const [version, objectId, edge, ...extra] = segments;
      if (!version || !/^v\d+\.\d+$/.test(version) || !objectId || extra.length > 0) {
        throw new GraphRequestError(400, 2500, 'Unknown path components', undefined, 'OAuthException');
      }
      if (edge === 'messages' && method === 'POST') {
        call.phoneNumberId = objectId;
        const tokenSuffix = requireToken(req, call);
        const body = await readJson(req);
        call.operation = isRecord(body) && body.status === 'read' ? 'read' : 'send';
        injectFault(call, res);
        if (res.headersSent) return;
        const result = acceptMessagesCall(objectId, tokenSuffix, body);
        answer(200, result);
        return;
      }
      if (edge === undefined && method === 'GET') {
        call.operation = 'media';
        requireToken(req, call);
        injectFault(call, res);
        if (res.headersSent) return;
        const item = media.get(objectId);
        if (!item) {
          throw new GraphRequestError(
            400,
            100,
            `Unsupported get request. Object with ID '${objectId}' does not exist`,
            33,
            'GraphMethodException',
          );
        }
        const host = req.headers.host ?? '127.0.0.1';
        answer(200, {
          messaging_product: 'whatsapp',
          url: `http://${host}${graphPathPrefix}/media-download?mid=${encodeURIComponent(objectId)}`,
          mime_type: item.mimeType,
          sha256: createHash('sha256').update(item.data).digest('hex'),
          file_size: item.data.length,
          id: objectId,
        });
        return;
      }
      throw new GraphRequestError(400, 2500, 'Unknown path components');
    } catch (error) {
      if (error instanceof GraphRequestError) {
        answer(error.httpStatus, graphErrorBody(error.code, error.message, error.subcode, error.type));
        return;
      }
      throw error;
    }

    function injectFault(current: GraphCall, response: ServerResponse): void {
      const index = faults.findIndex(({ fault }) => faultMatches(fault, current));
      if (index < 0) return;
      const entry = faults[index]!;
      entry.remaining -= 1;
      if (entry.remaining <= 0) faults.splice(index, 1);
      const { fault } = entry;
      const headers: Record<string, string> = {};
      if (fault.retryAfterSeconds !== undefined) headers['retry-after'] = String(fault.retryAfterSeconds);
      current.status = fault.httpStatus;
      sendJson(
        response,
        fault.httpStatus,
        graphErrorBody(fault.code, fault.message ?? defaultFaultMessage(fault.code), fault.subcode),
        headers,
      );
    }
  }

  function faultMatches(fault: GraphFault, call: GraphCall): boolean {
    if (fault.phoneNumberId !== undefined && fault.phoneNumberId !== call.phoneNumberId) return false;
    if (fault.operation !== undefined) return fault.operation === call.operation;
    return call.operation === 'send' || call.operation === 'read';
  }

  function acceptMessagesCall(
    phoneNumberId: string,
    tokenSuffix: string,
    body: unknown,
  ): Record<string, unknown> {
    if (!isRecord(body)) throw invalidParameter('The request body must be a JSON object');
    if (body.messaging_product !== 'whatsapp') {
      throw invalidParameter('The parameter messaging_product is required and must be "whatsapp".');
    }
    const at = new Date().toISOString();
    if (body.status !== undefined) {
      if (body.status !== 'read') throw invalidParameter('Param status must be "read".');
      if (typeof body.message_id !== 'string' || !body.message_id) {
        throw invalidParameter('The parameter message_id is required.');
      }
      const indicator = body.typing_indicator;
      if (indicator !== undefined && (!isRecord(indicator) || indicator.type !== 'text')) {
        throw invalidParameter('Param typing_indicator[type] must be "text".');
      }
      reads.push({
        phoneNumberId,
        messageId: body.message_id,
        typing: indicator !== undefined,
        tokenSuffix,
        at,
      });
      return { success: true };
    }
    const to = typeof body.to === 'string' && body.to ? body.to : undefined;
    const recipient = typeof body.recipient === 'string' && body.recipient ? body.recipient : undefined;
    if (!to && !recipient) throw invalidParameter('The parameter to or recipient is required.');
    if (body.recipient_type !== undefined && body.recipient_type !== 'individual') {
      throw invalidParameter('Param recipient_type must be "individual".');
    }
    if (body.type !== undefined && body.type !== 'text') {
      throw invalidParameter(`The simulator accepts only text messages, not ${String(body.type)}.`);
    }
    const text = body.text;
    if (!isRecord(text) || typeof text.body !== 'string' || text.body.length === 0) {
      throw invalidParameter('The parameter text[body] is required.');
    }
    if (text.body.length > MAX_TEXT) {
      throw invalidParameter(`Param text[body] must be at most ${MAX_TEXT} characters long.`);
    }
    if (text.preview_url !== undefined && typeof text.preview_url !== 'boolean') {
      throw invalidParameter('Param text[preview_url] must be a boolean.');
    }
    let context: { message_id: string } | undefined;
    if (body.context !== undefined) {
      if (
        !isRecord(body.context) ||
        typeof body.context.message_id !== 'string' ||
        !body.context.message_id
      ) {
        throw invalidParameter('Param context[message_id] must be a message id.');
      }
      context = { message_id: body.context.message_id };
    }
    const message: SimulatedOutbound = {
      id: simulatedMessageId(),
      phoneNumberId,
      text: text.body,
      tokenSuffix,
      at,
      ...(to ? { to } : {}),
      ...(recipient ? { recipient } : {}),
      ...(context ? { context } : {}),
    };
    sent.push(message);
    timeline.push({ seq: ++seq, kind: 'out', index: sent.length - 1 });
    for (const waiter of [...waiters]) waiter(message);
    // `to` wins when both are present, like Meta.
    const contact = to ? { input: to, wa_id: to } : { input: recipient, user_id: recipient };
    return { messaging_product: 'whatsapp', contacts: [contact], messages: [{ id: message.id }] };
  }

  // ---- chat page and its API ---------------------------------------------------------------------

  async function handlePage(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    const method = req.method ?? 'GET';
    const url = new URL(req.url ?? '/', 'http://simulator.local');
    if ((path === '/simulator' || path === '/simulator/') && method === 'GET') {
      const nonce = randomBytes(16).toString('base64');
      const html = SIMULATOR_PAGE.replaceAll('__NONCE__', nonce);
      res.writeHead(200, {
        'content-type': 'text/html; charset=utf-8',
        'cache-control': 'no-store',
        'content-security-policy': `default-src 'none'; style-src 'nonce-${nonce}'; script-src 'nonce-${nonce}'; connect-src 'self'; img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`,
        'x-content-type-options': 'nosniff',
        'referrer-policy': 'no-referrer',
      });
      res.end(html);
      return;
    }
    if (path === '/simulator/api/businesses' && method === 'GET') {
      try {
        const businesses = options.listBusinesses ? await options.listBusinesses() : [];
        sendJson(res, 200, {
          businesses: businesses.map(({ phoneNumberId, name }) => ({ phone_number_id: phoneNumberId, name })),
        });
      } catch {
        sendJson(res, 502, { error: 'businesses_unavailable', message: 'could not list the businesses' });
      }
      return;
    }
    if (path === '/simulator/api/messages' && method === 'POST') {
      // The endpoint signs with the App Secret: only the chat page (same origin, JSON) may call it,
      // not a form or script on another site the developer happens to open.
      const sameOrigin = isSameOrigin(req.headers.origin, req.headers.host);
      if (!sameOrigin || !(req.headers['content-type'] ?? '').startsWith('application/json')) {
        sendJson(res, 403, { error: 'forbidden', message: 'same-origin JSON requests only' });
        return;
      }
      let body: unknown;
      try {
        body = await readJson(req);
      } catch (error) {
        sendJson(res, 400, { error: 'validation_error', message: messageOf(error) });
        return;
      }
      const parsed = postMessageSchema.safeParse(body);
      if (!parsed.success) {
        sendJson(res, 400, { error: 'validation_error', message: describeIssues(parsed.error) });
        return;
      }
      if (!simulator.webhookUrl) {
        sendJson(res, 503, { error: 'no_webhook', message: 'the simulator has no webhook URL configured' });
        return;
      }
      const input = parsed.data;
      // Like WhatsApp in 2026, every customer also has a business-scoped user id.
      const userId = input.user_id ?? (input.from ? deriveUserId(input.from) : undefined);
      try {
        const result = await simulator.sendAsCustomer({
          phoneNumberId: input.phone_number_id,
          text: input.text,
          ...(input.from ? { from: input.from } : {}),
          ...(userId ? { userId } : {}),
          ...(input.name ? { name: input.name } : {}),
        });
        sendJson(res, 200, { message_id: result.messageId, webhook_status: result.status });
      } catch {
        sendJson(res, 502, { error: 'webhook_unreachable', message: 'the webhook did not answer' });
      }
      return;
    }
    if (path === '/simulator/api/conversation' && method === 'GET') {
      const parsed = conversationQuerySchema.safeParse({
        phone_number_id: url.searchParams.get('phone_number_id') ?? undefined,
        contact: url.searchParams.get('contact') ?? undefined,
      });
      if (!parsed.success) {
        sendJson(res, 400, { error: 'validation_error', message: describeIssues(parsed.error) });
        return;
      }
      const { phone_number_id: phoneNumberId, contact } = parsed.data;
      const messages = simulator.conversation(phoneNumberId, contact).slice(-200);
      const lastOutSeq = Math.max(0, ...messages.filter((m) => m.direction === 'out').map((m) => m.seq));
      const now = Date.now();
      const typing = reads.some((read) => {
        if (!read.typing || read.phoneNumberId !== phoneNumberId) return false;
        if (now - Date.parse(read.at) > TYPING_MS) return false;
        const target = messages.find((m) => m.direction === 'in' && m.id === read.messageId);
        return target !== undefined && target.seq > lastOutSeq;
      });
      sendJson(res, 200, { messages, typing });
      return;
    }
    sendJson(res, 404, { error: 'not_found', message: 'not found' });
  }

  return simulator;
}

function requireToken(req: IncomingMessage, call: GraphCall): string {
  const header = req.headers.authorization ?? '';
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  const token = match?.[1];
  if (!token) {
    throw new GraphRequestError(
      401,
      190,
      'An active access token must be used to query information about the current user.',
    );
  }
  const suffix = token.slice(-4);
  call.tokenSuffix = suffix;
  return suffix;
}

function graphErrorBody(code: number, message: string, subcode?: number, type = 'OAuthException'): unknown {
  const error: Record<string, unknown> = { message, type, code };
  if (subcode !== undefined) error.error_subcode = subcode;
  error.error_data = { messaging_product: 'whatsapp', details: message };
  error.fbtrace_id = `SIM${randomBytes(8).toString('base64url')}`;
  return { error };
}

function defaultFaultMessage(code: number): string {
  switch (code) {
    case 130429:
      return '(#130429) Rate limit hit';
    case 131056:
      return '(#131056) (Business Account, Consumer Account) pair rate limit hit';
    case 131047:
      return '(#131047) Re-engagement message';
    case 131048:
      return '(#131048) Spam rate limit hit';
    case 190:
      return 'Error validating access token: Session has expired.';
    default:
      return `(#${code}) Simulated error`;
  }
}

function normalizePrefix(prefix: string): string {
  const trimmed = `/${prefix.replace(/^\/+|\/+$/g, '')}`;
  if (trimmed === '/' || trimmed === '/simulator') throw new Error('graphPathPrefix must be a distinct path');
  return trimmed;
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buffer = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
    size += buffer.length;
    if (size > MAX_JSON_BODY) throw invalidParameter('The request body is too large');
    chunks.push(buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (!text) throw invalidParameter('The request body is empty');
  try {
    return JSON.parse(text);
  } catch {
    throw invalidParameter('The request body is not valid JSON');
  }
}

function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const payload = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'cache-control': 'no-store',
    ...headers,
  });
  res.end(payload);
}

function describeIssues(error: z.ZodError): string {
  return error.issues
    .map((issue) => (issue.path.length ? `${issue.path.join('.')}: ${issue.message}` : issue.message))
    .join('; ');
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

// ---- standalone server (tests, or a fake Graph API on its own port) ------------------------------------

export interface StandaloneSimulator {
  /** e.g. http://127.0.0.1:41234 */
  url: string;
  /** Use as GRAPH_API_BASE_URL / createGraphClient({ baseUrl }). */
  graphBaseUrl: string;
  simulator: WhatsAppSimulator;
  stop(): Promise<void>;
}

export async function startStandaloneSimulator(options: {
  port?: number;
  host?: string;
  appSecret: string;
  webhookUrl?: string;
  graphPathPrefix?: string;
  listBusinesses?: () => Promise<SimulatorBusiness[]>;
}): Promise<StandaloneSimulator> {
  const { port = 0, host = '127.0.0.1', ...simulatorOptions } = options;
  const simulator = createWhatsAppSimulator(simulatorOptions);
  const server = createServer((req, res) => {
    simulator.handle(req, res).then(
      (handled) => {
        if (!handled) sendJson(res, 404, { error: 'not_found', message: 'not found' });
      },
      () => {
        if (!res.headersSent) sendJson(res, 500, { error: 'simulator_error' });
      },
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const url = `http://${host}:${address.port}`;
  return {
    url,
    graphBaseUrl: `${url}${simulator.graphPathPrefix}`,
    simulator,
    stop: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}

// ---- the chat page ---------------------------------------------------------------------------------------
// Self-contained (inline CSS and JS under a per-response CSP nonce, no external assets). Every piece of
// user or bot text is set with textContent, never parsed as HTML.

const SIMULATOR_PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>WhatsApp simulator</title>
<style nonce="__NONCE__">
  :root { --green: #008069; --bubble-out: #d9fdd3; --bg: #efeae2; --text: #111b21; --muted: #667781; }
  * { box-sizing: border-box; }
  html, body { height: 100%; margin: 0; }
  body { font: 15px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--text);
    background: #d1d7db; display: flex; justify-content: center; }
  .phone { width: 100%; max-width: 480px; height: 100%; display: flex; flex-direction: column; background: var(--bg);
    box-shadow: 0 0 12px rgba(0,0,0,.15); }
  header { background: var(--green); color: #fff; padding: 10px 14px; }
  header h1 { font-size: 17px; margin: 0 0 2px; font-weight: 600; }
  header .sub { font-size: 12px; opacity: .85; min-height: 16px; }
  .settings { display: grid; grid-template-columns: 1fr 1fr; gap: 6px; padding: 8px 10px; background: #f0f2f5;
    border-bottom: 1px solid #d1d7db; }
  .settings label { font-size: 11px; color: var(--muted); display: flex; flex-direction: column; gap: 2px; }
  .settings .wide { grid-column: 1 / -1; }
  .settings input, .settings select { font: inherit; font-size: 14px; padding: 5px 7px; border: 1px solid #c8cdd0;
    border-radius: 6px; background: #fff; width: 100%; }
  .hidden { display: none !important; }
  #log { flex: 1; overflow-y: auto; padding: 12px 10px; display: flex; flex-direction: column; gap: 4px; }
  .empty { margin: auto; color: var(--muted); font-size: 13px; text-align: center; padding: 0 24px; }
  .msg { max-width: 82%; padding: 6px 9px 4px; border-radius: 8px; box-shadow: 0 1px .5px rgba(0,0,0,.13);
    white-space: pre-wrap; overflow-wrap: anywhere; }
  .msg.customer { align-self: flex-end; background: var(--bubble-out); border-top-right-radius: 2px; }
  .msg.bot { align-self: flex-start; background: #fff; border-top-left-radius: 2px; }
  .meta { display: block; text-align: right; font-size: 11px; color: var(--muted); margin-top: 2px; }
  .meta .read { color: #53bdeb; }
  .meta .warn { color: #c0392b; }
  #typing { padding: 0 14px 4px; font-size: 12px; color: var(--green); font-style: italic; min-height: 18px; }
  #error { background: #fde2e1; color: #8a1f17; font-size: 13px; padding: 6px 12px; }
  form { display: flex; gap: 8px; padding: 8px 10px; background: #f0f2f5; align-items: flex-end; }
  textarea { flex: 1; font: inherit; resize: none; border: none; border-radius: 20px; padding: 9px 14px;
    max-height: 120px; outline: none; }
  button { background: var(--green); color: #fff; border: none; border-radius: 50%; width: 42px; height: 42px;
    font-size: 18px; cursor: pointer; flex: none; }
  button:disabled { opacity: .5; cursor: default; }
</style>
</head>
<body>
<div class="phone">
  <header>
    <h1 id="title">WhatsApp simulator</h1>
    <div class="sub" id="subtitle">Write as a customer; the bot answers through the Graph API stand-in.</div>
  </header>
  <div class="settings">
    <label class="wide">Business
      <select id="business"></select>
    </label>
    <label class="wide hidden" id="other-wrap">phone_number_id
      <input id="other" inputmode="numeric" autocomplete="off" placeholder="631261586727899">
    </label>
    <label>Your phone (wa_id)
      <input id="phone" inputmode="numeric" autocomplete="off" placeholder="34600111222">
    </label>
    <label>Your name
      <input id="name" autocomplete="off" placeholder="Lucía" maxlength="100">
    </label>
  </div>
  <div id="error" class="hidden" role="alert"></div>
  <div id="log" aria-live="polite"></div>
  <div id="typing"></div>
  <form id="composer">
    <textarea id="text" rows="1" maxlength="4096" placeholder="Message"></textarea>
    <button id="send" type="submit" aria-label="Send">&#10148;</button>
  </form>
</div>
<script nonce="__NONCE__">
(function () {
  'use strict';
  var $ = function (id) { return document.getElementById(id); };
  var business = $('business'), other = $('other'), otherWrap = $('other-wrap'), phone = $('phone'),
    nameInput = $('name'), log = $('log'), typing = $('typing'), errorBox = $('error'), text = $('text'),
    sendButton = $('send'), subtitle = $('subtitle');
  var OTHER = '__other__';
  var lastSignature = '';

  function stored(key, fallback) {
    try { return localStorage.getItem('wa-sim.' + key) || fallback; } catch (e) { return fallback; }
  }
  function store(key, value) {
    try { localStorage.setItem('wa-sim.' + key, value); } catch (e) { /* private mode */ }
  }
  function showError(message) {
    errorBox.textContent = message || '';
    errorBox.classList.toggle('hidden', !message);
  }
  function phoneNumberId() {
    return business.value === OTHER || !business.value ? other.value.trim() : business.value;
  }
  function contact() { return phone.value.replace(/[^0-9]/g, ''); }

  function addOption(value, label) {
    var option = document.createElement('option');
    option.value = value;
    option.textContent = label;
    business.appendChild(option);
  }

  function loadBusinesses() {
    return fetch('/simulator/api/businesses').then(function (response) {
      return response.ok ? response.json() : { businesses: [] };
    }).catch(function () { return { businesses: [] }; }).then(function (data) {
      var list = Array.isArray(data.businesses) ? data.businesses : [];
      business.textContent = '';
      list.forEach(function (b) { addOption(String(b.phone_number_id), String(b.name) + ' · ' + String(b.phone_number_id)); });
      addOption(OTHER, list.length ? 'Other phone_number_id…' : 'Enter a phone_number_id…');
      var saved = stored('business', '');
      var known = list.some(function (b) { return String(b.phone_number_id) === saved; });
      business.value = known ? saved : (list.length ? String(list[0].phone_number_id) : OTHER);
      if (!known && saved) { business.value = OTHER; other.value = saved; }
      onBusinessChange();
    });
  }

  function onBusinessChange() {
    otherWrap.classList.toggle('hidden', business.value !== OTHER);
    var option = business.options[business.selectedIndex];
    subtitle.textContent = business.value === OTHER ? 'phone_number_id ' + (other.value.trim() || '—')
      : (option ? option.textContent : '');
    store('business', phoneNumberId());
    lastSignature = '';
    poll();
  }

  function time(iso) {
    var d = new Date(iso);
    return isNaN(d.getTime()) ? '' : d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
  }

  function render(messages, isTyping) {
    typing.textContent = isTyping ? 'typing…' : '';
    var signature = JSON.stringify(messages.map(function (m) { return [m.seq, m.read, m.webhookStatus]; }));
    if (signature === lastSignature) return;
    lastSignature = signature;
    var atBottom = log.scrollHeight - log.scrollTop - log.clientHeight < 40;
    log.textContent = '';
    if (!messages.length) {
      var empty = document.createElement('div');
      empty.className = 'empty';
      empty.textContent = 'No messages yet. Pick a business, enter your phone and say hello.';
      log.appendChild(empty);
      return;
    }
    messages.forEach(function (m) {
      var bubble = document.createElement('div');
      var fromCustomer = m.direction === 'in';
      bubble.className = 'msg ' + (fromCustomer ? 'customer' : 'bot');
      var body = document.createElement('span');
      body.textContent = String(m.text);
      bubble.appendChild(body);
      var meta = document.createElement('span');
      meta.className = 'meta';
      meta.appendChild(document.createTextNode(time(m.at) + ' '));
      if (fromCustomer) {
        var ticks = document.createElement('span');
        if (m.webhookStatus !== undefined && m.webhookStatus !== 200) {
          ticks.className = 'warn';
          ticks.textContent = m.webhookStatus === 0 ? '⚠ webhook unreachable' : '⚠ webhook HTTP ' + m.webhookStatus;
        } else if (m.read) {
          ticks.className = 'read';
          ticks.textContent = '✓✓';
        } else {
          ticks.textContent = m.webhookStatus === 200 ? '✓✓' : '✓';
        }
        meta.appendChild(ticks);
      }
      bubble.appendChild(meta);
      log.appendChild(bubble);
    });
    if (atBottom) log.scrollTop = log.scrollHeight;
  }

  var polling = false;
  function poll() {
    var id = phoneNumberId(), who = contact();
    if (!id || !who || polling) { if (!id || !who) render([], false); return; }
    polling = true;
    var query = '?phone_number_id=' + encodeURIComponent(id) + '&contact=' + encodeURIComponent(who);
    fetch('/simulator/api/conversation' + query).then(function (response) {
      return response.json().then(function (data) {
        if (!response.ok) throw new Error(data && data.message ? data.message : 'HTTP ' + response.status);
        render(Array.isArray(data.messages) ? data.messages : [], data.typing === true);
      });
    }).catch(function (error) { showError('Conversation: ' + error.message); })
      .then(function () { polling = false; });
  }

  $('composer').addEventListener('submit', function (event) {
    event.preventDefault();
    var message = text.value;
    if (!message.trim()) return;
    var payload = { phone_number_id: phoneNumberId(), from: contact(), text: message };
    if (nameInput.value.trim()) payload.name = nameInput.value.trim();
    sendButton.disabled = true;
    fetch('/simulator/api/messages', {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(payload)
    }).then(function (response) {
      return response.json().then(function (data) {
        if (!response.ok) throw new Error(data && data.message ? data.message : 'HTTP ' + response.status);
        showError(data.webhook_status === 200 ? '' : 'The webhook answered HTTP ' + data.webhook_status);
        text.value = '';
        lastSignature = '';
        poll();
      });
    }).catch(function (error) { showError(error.message); })
      .then(function () { sendButton.disabled = false; text.focus(); });
  });
  text.addEventListener('keydown', function (event) {
    if (event.key === 'Enter' && !event.shiftKey) { event.preventDefault(); $('composer').requestSubmit(); }
  });
  business.addEventListener('change', onBusinessChange);
  other.addEventListener('change', onBusinessChange);
  phone.addEventListener('change', function () { store('phone', contact()); lastSignature = ''; poll(); });
  nameInput.addEventListener('change', function () { store('name', nameInput.value.trim()); });

  phone.value = stored('phone', '34600111222');
  nameInput.value = stored('name', '');
  loadBusinesses();
  setInterval(poll, 1000);
})();
</script>
</body>
</html>
`;
