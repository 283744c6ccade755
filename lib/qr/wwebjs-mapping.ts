import type { ChatKind, DisconnectReason, EngineMessage } from './session-engine.ts';

/**
 * The pure part of the whatsapp-web.js engine: how its ids, reasons and messages map onto the
 * engine port's. No whatsapp-web.js import here, so the unit tests run without a browser.
 */

/**
 * How long a QR can be scanned. WhatsApp Web rotates its QR ref (whatsapp-web.js re-emits `qr` on
 * each `change:ref`); the server decides the interval, about 20 s for each refresh (the first one
 * lives longer). whatsapp-web.js itself has no timer: 20 s is the safe lower bound to show.
 */
export const WWEBJS_QR_LIFETIME_MS = 20_000;

/** QR refreshes shown (after the first QR) before the session gives up with `qr_expired`. */
export const DEFAULT_QR_MAX_REFRESHES = 5;

/** The kind of chat a WhatsApp id names: `…@g.us` a group, `status@broadcast` the statuses. */
export function chatKindOf(chatId: string): ChatKind {
  if (chatId === 'status@broadcast') return 'status';
  if (chatId.endsWith('@g.us')) return 'group';
  return 'direct';
}

/** A user's number from a WhatsApp id (`123@c.us` → `123`); group and other ids stay as they are. */
export function numberOf(id: string): string {
  return id.endsWith('@c.us') ? id.slice(0, -'@c.us'.length) : id;
}

/** The chat id to send to: a bare number becomes `…@c.us`, a full id (`…@g.us`, `…@lid`) stays. */
export function chatIdFor(to: string): string {
  const trimmed = to.trim().replace(/^\+/, '');
  return trimmed.includes('@') ? trimmed : `${trimmed}@c.us`;
}

/**
 * The port's reason for a whatsapp-web.js `disconnected` reason (a WAState or `LOGOUT`):
 * unlinked (`LOGOUT`, `UNPAIRED`, `UNPAIRED_IDLE`) → `logout`; opened elsewhere (`CONFLICT`) →
 * `conflict`; anything else (`TIMEOUT`, `PROXYBLOCK`, `SMB_TOS_BLOCK`, `Max qrcode retries reached`,
 * an unknown state) → `transient`.
 */
export function disconnectReasonOf(reason: unknown): DisconnectReason {
  const text = typeof reason === 'string' ? reason.trim().toUpperCase() : '';
  if (text === 'LOGOUT' || text.startsWith('UNPAIRED')) return 'logout';
  if (text === 'CONFLICT') return 'conflict';
  return 'transient';
}

/** The fields of a whatsapp-web.js `Message` that the engine reads. */
export interface WwebjsMessageLike {
  id: { _serialized: string; remote?: string };
  from: string;
  to: string;
  author?: string;
  body: string;
  fromMe: boolean;
  timestamp: number;
  isStatus?: boolean;
}

/**
 * The port's message for a whatsapp-web.js `message_create` (own messages included). The chat is
 * the other party: `to` for an own message, `from` otherwise; in a group the writer is `author`.
 * `phoneNumber` is the linked number (the writer of an own message).
 */
export function engineMessageOf(message: WwebjsMessageLike, phoneNumber?: string): EngineMessage {
  const chatId = message.fromMe ? message.to : message.from;
  const kind = message.isStatus ? 'status' : chatKindOf(message.id.remote ?? chatId);
  const writer = message.fromMe
    ? (phoneNumber ?? numberOf(message.from))
    : numberOf(kind === 'direct' ? message.from : (message.author ?? message.from));
  return {
    id: message.id._serialized,
    chat: numberOf(chatId),
    from: writer,
    text: message.body ?? '',
    chatKind: kind,
    fromMe: message.fromMe,
    at: new Date(message.timestamp * 1000),
  };
}

/** Counts the QRs of one start: answers whether the QR just received is still one to show. */
export class QrRefreshBudget {
  private shown = 0;

  constructor(private readonly maxRefreshes: number) {}

  /** Records a QR; false once the first QR and `maxRefreshes` refreshes were all shown. */
  take(): boolean {
    this.shown += 1;
    return this.shown <= this.maxRefreshes + 1;
  }

  reset(): void {
    this.shown = 0;
  }
}
