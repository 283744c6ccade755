/**
 * The WhatsApp side of the conversation use case's ports (see ports.ts): sending, the errors a send
 * may fail with, and the approved templates a reply outside the 24-hour window goes out as.
 */

// WhatsApp sender

/** The most a WhatsApp text message may hold; longer replies are split (lib/text/split.ts). */
export const MAX_TEXT_LENGTH = 4096;

/** Who a WhatsApp message goes to: the business-scoped user id when known, else the phone (wa_id). */
export interface Recipient {
  user_id?: string;
  wa_id?: string;
}

export interface SendTextRequest {
  phoneNumberId: string;
  accessToken: string;
  to: Recipient;
  text: string;
  /** wamid of the customer's message to reply to in context. */
  replyTo?: string;
}

export interface MarkReadRequest {
  phoneNumberId: string;
  accessToken: string;
  messageId: string;
  /** Also show the typing indicator while the reply is prepared. */
  typing: boolean;
}

/** A template message: the only kind Meta delivers outside the 24-hour customer service window. */
export interface SendTemplateRequest {
  phoneNumberId: string;
  accessToken: string;
  to: Recipient;
  name: string;
  language: string;
  /** The body's parameters, in order (`{{1}}`, `{{2}}`…); with names for a template of named ones. */
  bodyParameters: Array<{ text: string; name?: string }>;
}

export interface WhatsAppSender {
  /**
   * Sends one text message (at most MAX_TEXT_LENGTH characters); resolves with the new message's
   * wamid. Rejects with a {@link SendFailure} once retrying within the call is no longer worth it.
   */
  sendText(request: SendTextRequest): Promise<{ messageId: string }>;
  /** Sends one approved template message; resolves and rejects like {@link sendText}. */
  sendTemplate(request: SendTemplateRequest): Promise<{ messageId: string }>;
  /** Marks a customer's message read; rejects with a {@link SendFailure}. */
  markRead(request: MarkReadRequest): Promise<void>;
  /**
   * What an error code of a failed delivery status means (statuses reach us through the webhook
   * with the platform's own codes, the same ones a send fails with); undefined when unknown.
   */
  deliveryFailureKind(errorCode: number): SendFailureKind | undefined;
}

/**
 * Why a send failed, in the use case's terms. The sender adapter translates its platform's verdicts
 * (Meta's error codes, HTTP statuses, network failures) into these, so the use case never reads a
 * platform code.
 */
export type SendFailureKind =
  /** A throughput limit (the platform's or this number's): a later attempt may succeed. */
  | 'rate_limited'
  /** Too many messages to this one customer: a later attempt, after a longer wait, may succeed. */
  | 'pair_rate_limited'
  /** A server error, or a network failure before the request reached the platform: retry. */
  | 'unavailable'
  /**
   * The request may have reached the platform (a timeout, a connection lost after sending): the
   * message may have gone out, and there is no idempotency key, so it must never be sent again.
   */
  | 'ambiguous'
  /** More than 24 h since the customer wrote: only templates could reach them; do not retry. */
  | 'window_closed'
  /** The number is spam-limited: stop sending for the tenant for a while; do not retry. */
  | 'spam_paused'
  /** The access token expired or was revoked: nothing more can be sent with it. */
  | 'token_invalid'
  /** Anything else (bad request, permissions, unsupported recipient): retrying cannot help. */
  | 'permanent';

const RETRYABLE_KINDS: ReadonlySet<SendFailureKind> = new Set([
  'rate_limited',
  'pair_rate_limited',
  'unavailable',
]);

/** The error a {@link WhatsAppSender} rejects with. Adapters may subclass it with their details. */
export class SendFailure extends Error {
  readonly kind: SendFailureKind;
  /**
   * The platform's verdict in a few words, safe for logs and for the operator (never a secret or
   * message text): the Graph adapter gives "Graph API error <code>".
   */
  readonly detail: string;
  /** How long the platform asked to wait before the next attempt, when it said. */
  readonly retryAfterMs?: number;

  constructor(
    message: string,
    options: { kind: SendFailureKind; detail: string; retryAfterMs?: number; cause?: unknown },
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.kind = options.kind;
    this.detail = options.detail;
    if (options.retryAfterMs !== undefined) this.retryAfterMs = options.retryAfterMs;
  }

  /** A later attempt may succeed (rate limits, unavailability): the message goes back to the queue. */
  get retryable(): boolean {
    return RETRYABLE_KINDS.has(this.kind);
  }
}

// Message templates

/** An approved template of a WhatsApp Business Account, as far as a reply needs it. */
export interface ApprovedTemplate {
  name: string;
  language: string;
  status: string;
  category?: string;
  /** How many parameters its body has (`{{1}}`…, or named ones). */
  body_parameters: number;
  /** The names of a template with named parameters (`{{first_name}}`), in order. */
  parameter_names?: string[];
  /** The body's fixed text (placeholders included): Meta counts it towards 1024 characters. */
  body_text?: string;
}

/** The approved templates of the tenants' WABAs (lib/templates/template-catalog.ts in production). */
export interface TemplateDirectory {
  /**
   * The approved template `name` (`language`) on the WABA, read with `accessToken` (cached); undefined
   * when the WABA has no such approved template. Rejects when the WABA cannot be read.
   */
  findApproved(
    tenantId: string,
    wabaId: string,
    accessToken: string,
    template: { name: string; language: string },
  ): Promise<ApprovedTemplate | undefined>;
}
