import type { IncomingMessage, ServerResponse } from 'node:http';
import type { SimulatedTemplate } from './graph-templates.ts';
import type { CustomerMediaKind, CustomerMessageInput, InboundMessageInput } from './inbound-payloads.ts';

/**
 * The shapes the simulator's parts share: what it records (messages both ways, Graph calls) and what
 * it offers the local stack and the tests. Each part is a {@link SimulatorPart}: it answers the
 * requests it knows and leaves the rest to the next part (see router.ts).
 */

/** Answers a request and resolves true, or leaves it alone and resolves false. */
export type SimulatorPart = (req: IncomingMessage, res: ServerResponse) => Promise<boolean>;

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
  /**
   * The platform's WhatsApp token (the local stack's WHATSAPP_ACCESS_TOKEN): the Graph reads
   * (graph-read-endpoints.ts) take it besides Meta-shaped tokens and refuse any other with Meta's 190.
   * The send endpoints take any bearer token.
   */
  platformAccessToken?: string;
  /**
   * The simulator's clock (epoch milliseconds; default `Date.now`): media URLs expire 5 minutes
   * after the lookup on it, so a test can make one expire without waiting.
   */
  now?: () => number;
}

/** A message the product sent through the Graph stand-in. */
export interface SimulatedOutbound {
  id: string;
  phoneNumberId: string;
  to?: string;
  recipient?: string;
  /** The text; for a template, its body as the customer reads it (parameters filled in). */
  text: string;
  context?: { message_id: string };
  /** A template message: which template, and its body parameters as sent. */
  template?: { name: string; language: string; parameters: string[] };
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

/** The media of a customer message: what the chat page shows of it (the bytes are in the store). */
export interface InboundMediaSummary {
  kind: CustomerMediaKind;
  /** The media id (`GET /{version}/{id}`). */
  id: string;
  mimeType: string;
  size: number;
  voice?: boolean;
  filename?: string;
}

/** A customer's media to deliver: the bytes, and what the customer's phone says about them. */
export interface CustomerMediaInput extends CustomerMessageInput {
  kind: CustomerMediaKind;
  mimeType: string;
  data: Buffer;
  voice?: boolean;
  caption?: string;
  filename?: string;
  /** The Host (and port) the webhook's `url` names (the chat API passes the page's); no `url` without. */
  host?: string;
}

/** A customer message the simulator delivered to the webhook. */
export interface SimulatedInbound {
  id: string;
  phoneNumberId: string;
  from?: string;
  userId?: string;
  name?: string;
  /** The text; for media, its caption ('' without one). */
  text: string;
  media?: InboundMediaSummary;
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

/** `media`: a media id's lookup; `media_download`: the bytes behind its short-lived URL. */
export type GraphOperation = 'send' | 'read' | 'media' | 'media_download' | 'other';

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

export interface ConversationItem {
  seq: number;
  direction: 'in' | 'out';
  id: string;
  text: string;
  /** Inbound media (its caption is `text`). */
  media?: InboundMediaSummary;
  at: string;
  /** Inbound: whether the business marked it read. */
  read?: boolean;
  /** Inbound: the webhook's HTTP status. */
  webhookStatus?: number;
}

export interface WhatsAppSimulator {
  handle: SimulatorPart;
  readonly graphPathPrefix: string;
  /** This run's token for the chat API (`X-Simulator-Token`; see simulator-token.ts); the page embeds it. */
  readonly apiToken: string;
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
  /** Gives a WABA its own message templates (every other WABA has the demo ones, graph-templates.ts). */
  setTemplates(wabaId: string, templates: readonly SimulatedTemplate[]): void;
  /** Makes `GET {prefix}/{version}/{mediaId}` answer for this media; returns its id. */
  addMedia(media: { id?: string; mimeType: string; data: Buffer }): string;
  buildInboundPayload(input: InboundMessageInput): Record<string, unknown>;
  /** Delivers a customer message to the webhook like Meta does (escaped, signed). */
  sendAsCustomer(input: InboundMessageInput): Promise<{ status: number; messageId: string }>;
  /**
   * Delivers a customer's audio, image or document like Meta does: the bytes become media the Graph
   * stand-in serves, the webhook gets its id, MIME type and base64 SHA-256.
   */
  sendMediaAsCustomer(
    input: CustomerMediaInput,
  ): Promise<{ status: number; messageId: string; mediaId: string }>;
  /** Inbound and outbound messages of one contact (wa_id or user id) with one business, in order. */
  conversation(phoneNumberId: string, contact: string): ConversationItem[];
}
