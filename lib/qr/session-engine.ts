/**
 * The port the QR runner talks to: one WhatsApp account linked by QR, whatever drives it
 * (whatsapp-web.js in Chromium, the simulated engine of the local stack and the tests, Baileys one
 * day). Nothing here knows an engine's library; an engine maps its own events onto these.
 *
 * One engine instance is one tenant's session. The runner listens before it starts it:
 * `start` → `qr` (a new one each refresh, until scanned or expired) → `linked` → `ready`, or straight
 * to `linked` → `ready` when a saved session is restored. `disconnected` ends the session; the reason
 * tells the runner what to do next (see {@link DisconnectReason}).
 */

/**
 * Why a session ended:
 * - `logout`: unlinked from the phone (or by {@link WhatsAppSessionEngine.logout}): the saved
 *   session is worthless, delete it; a new QR is needed.
 * - `conflict`: the account was opened elsewhere: keep the saved session, do not fight for it.
 * - `transient`: browser, page or network loss: restart with backoff from the saved session.
 * - `qr_expired`: no scan after several QR refreshes: wait until the tenant asks again.
 */
export type DisconnectReason = 'logout' | 'conflict' | 'transient' | 'qr_expired';

/** Where a session is, as the engine itself sees it. */
export type EngineState = 'stopped' | 'starting' | 'qr' | 'linking' | 'connected' | 'disconnected';

/** Which kind of chat a message belongs to (only direct chats are answered by default). */
export type ChatKind = 'direct' | 'group' | 'status';

/**
 * What a message is, in the Cloud API's words (the inbound queue's `message.type`): the media kinds,
 * a shared location, shared contact cards, plain text; `other` for what the assistant does not read
 * (polls, orders, payments...). An engine does not deliver what nobody wrote (notifications, call
 * logs, encryption notices).
 */
export type EngineMessageType =
  | 'text'
  | 'audio'
  | 'image'
  | 'video'
  | 'document'
  | 'sticker'
  | 'location'
  | 'contacts'
  | 'other';

/** The media of a message: described at once, its bytes fetched only when asked for. */
export interface EngineMedia {
  /** As the engine declares it, parameters included (`audio/ogg; codecs=opus`). */
  mimeType: string;
  /** A voice note recorded in WhatsApp (not a forwarded audio file). */
  voice?: boolean;
  /** A document's file name. */
  filename?: string;
  /** The size the engine announces before the download, when it knows it. */
  size?: number;
  /** The bytes; rejects with {@link EngineMediaUnavailableError} when WhatsApp no longer has them. */
  download(): Promise<Buffer>;
}

/** A message seen by the linked account. */
export interface EngineMessage {
  /** The engine's message id (with the tenant, the deduplication key). */
  id: string;
  /** The chat's other party (a customer's number for a direct chat, the group's id for a group). */
  chat: string;
  /** Who wrote it (in a group, the member; for an own message, the linked number). */
  from: string;
  type: EngineMessageType;
  /** The readable text: the body, a media's caption, a location's name or a contact's name and number. */
  text: string;
  /** The media of an audio, image, video, document or sticker message. */
  media?: EngineMedia;
  chatKind: ChatKind;
  /** Typed by the account itself (on the phone or sent by us), not by a customer. */
  fromMe: boolean;
  at: Date;
}

export interface EngineEvents {
  /** A QR to show the tenant; scanning it after `expiresAt` fails. Never log `qr`. */
  qr: { qr: string; expiresAt: Date };
  /** The phone accepted the link (or a saved session was accepted); not yet usable. */
  linked: Record<string, never>;
  /** The session can send and receive, as `phoneNumber` (E.164 without `+`). */
  ready: { phoneNumber: string };
  message: EngineMessage;
  disconnected: { reason: DisconnectReason; detail?: string };
}

export type EngineEventName = keyof EngineEvents;
export type EngineListener<E extends EngineEventName> = (payload: EngineEvents[E]) => void;

export interface StopOptions {
  /**
   * Save the session first (SIGTERM, a planned move) so it comes back without a QR; without it
   * (a lost lease: someone else may own the account now) nothing is written.
   */
  save: boolean;
}

export interface WhatsAppSessionEngine {
  /** Opens the session: restores the saved one, or starts emitting `qr`. */
  start(): Promise<void>;
  /** Sends a text to `to` (a number or a chat id); only while `connected`, else EngineNotReadyError. */
  send(to: string, text: string): Promise<{ messageId: string }>;
  state(): EngineState;
  /** Closes the session, keeping the account linked. */
  stop(options: StopOptions): Promise<void>;
  /** Unlinks the account and deletes the saved session; ends with `disconnected` (`logout`). */
  logout(): Promise<void>;
  /** The memory the session uses (its browser's resident set), when the engine can tell. */
  memoryBytes?(): Promise<number | undefined>;
  /** Subscribes to an event; the answer unsubscribes. */
  on<E extends EngineEventName>(event: E, listener: EngineListener<E>): () => void;
}

/** Builds the engine of one tenant's session. */
export type SessionEngineFactory = (tenantId: string) => WhatsAppSessionEngine;

/** A send was asked of a session that is not connected: the command stays for a later attempt. */
export class EngineNotReadyError extends Error {
  constructor(state: EngineState) {
    super(`the session is ${state}, not connected`);
    this.name = 'EngineNotReadyError';
  }
}

/** A media's bytes are gone from WhatsApp (expired, deleted, or never fully received). */
export class EngineMediaUnavailableError extends Error {
  constructor(detail: string) {
    super(`the media cannot be downloaded: ${detail}`);
    this.name = 'EngineMediaUnavailableError';
  }
}
