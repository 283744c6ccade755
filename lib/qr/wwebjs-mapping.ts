import {
  type ChatKind,
  type DisconnectReason,
  type EngineMedia,
  EngineMediaUnavailableError,
  type EngineMessage,
  type EngineMessageType,
} from './session-engine.ts';

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

/** What `downloadMedia` answers (whatsapp-web.js's MessageMedia: `data` is base64), if anything. */
export interface WwebjsMediaLike {
  mimetype?: string;
  data?: string;
  filename?: string | null;
}

/** The fields of a whatsapp-web.js `Message` that the engine reads. */
export interface WwebjsMessageLike {
  id: { _serialized: string; remote?: string };
  from: string;
  to: string;
  author?: string;
  /** The text; a media's caption (whatsapp-web.js puts it here); a vCard's source; a location's thumbnail. */
  body: string;
  fromMe: boolean;
  timestamp: number;
  isStatus?: boolean;
  /** whatsapp-web.js's MessageTypes value (`chat`, `ptt`, `image`...). */
  type?: string;
  hasMedia?: boolean;
  location?: { latitude: number | string; longitude: number | string; description?: string };
  vCards?: string[];
  /** The WhatsApp Web model: what the media is (`mimetype`, `size`, `filename`) before its download. */
  rawData?: { mimetype?: string; size?: number; filename?: string };
  /** Undefined when WhatsApp no longer has the media (expired, or being re-uploaded). */
  downloadMedia?(): Promise<WwebjsMediaLike | undefined>;
}

/**
 * The port's type for a whatsapp-web.js type; `undefined` for what nobody wrote: notices (encryption,
 * group changes, calls), protocol messages, a revoked message's stub, reactions (the Cloud API's are
 * not answered either), an album's header (its photos arrive as messages of their own).
 */
const TYPES: Record<string, EngineMessageType | undefined> = {
  chat: 'text',
  ptt: 'audio',
  audio: 'audio',
  image: 'image',
  video: 'video',
  document: 'document',
  sticker: 'sticker',
  location: 'location',
  vcard: 'contacts',
  multi_vcard: 'contacts',
  ...Object.fromEntries(
    [
      'album',
      'broadcast_notification',
      'call_log',
      'ciphertext',
      'debug',
      'e2e_notification',
      'gp2',
      'group_notification',
      'notification',
      'notification_template',
      'protocol',
      'reaction',
      'revoked',
    ].map((type) => [type, undefined]),
  ),
};

const MEDIA_TYPES = new Set<EngineMessageType>(['audio', 'image', 'video', 'document', 'sticker']);

/** The port's type of a whatsapp-web.js message; `undefined` when it is a notice, not a message. */
export function messageTypeOf(type: string | undefined): EngineMessageType | undefined {
  const known = type ?? 'chat';
  return Object.hasOwn(TYPES, known) ? TYPES[known] : 'other';
}

/**
 * The port's message for a whatsapp-web.js `message_create` (own messages included), or `undefined`
 * for a notice. The chat is the other party: `to` for an own message, `from` otherwise; in a group
 * the writer is `author`. `phoneNumber` is the linked number (the writer of an own message).
 */
export function engineMessageOf(message: WwebjsMessageLike, phoneNumber?: string): EngineMessage | undefined {
  const type = messageTypeOf(message.type);
  if (type === undefined) return undefined;
  const chatId = message.fromMe ? message.to : message.from;
  const kind = message.isStatus ? 'status' : chatKindOf(message.id.remote ?? chatId);
  const writer = message.fromMe
    ? (phoneNumber ?? numberOf(message.from))
    : numberOf(kind === 'direct' ? message.from : (message.author ?? message.from));
  const media = MEDIA_TYPES.has(type) ? mediaOf(message) : undefined;
  return {
    id: message.id._serialized,
    chat: numberOf(chatId),
    from: writer,
    type,
    text: textOf(message, type),
    ...(media ? { media } : {}),
    chatKind: kind,
    fromMe: message.fromMe,
    at: new Date(message.timestamp * 1000),
  };
}

/** The readable text; a location's and a vCard's `body` is no text (a thumbnail, a vCard's source). */
function textOf(message: WwebjsMessageLike, type: EngineMessageType): string {
  if (type === 'location') {
    const location = message.location;
    if (!location) return '';
    const named = (location.description ?? '').split('\n').filter(Boolean).join(', ');
    return named || `${location.latitude}, ${location.longitude}`;
  }
  if (type === 'contacts') return contactCardsText(message.vCards?.length ? message.vCards : [message.body]);
  return message.body ?? '';
}

/**
 * The media of a message with media (whatsapp-web.js's `hasMedia`: the message has a download
 * path), described from the WhatsApp Web model; the bytes are downloaded only when asked for.
 */
function mediaOf(message: WwebjsMessageLike): EngineMedia | undefined {
  if (!message.hasMedia || !message.downloadMedia) return undefined;
  const model = message.rawData ?? {};
  return {
    mimeType: model.mimetype || 'application/octet-stream',
    ...(message.type === 'ptt' ? { voice: true } : {}),
    ...(message.type === 'document' && model.filename ? { filename: model.filename } : {}),
    ...(typeof model.size === 'number' ? { size: model.size } : {}),
    download: async () => {
      const media = await message.downloadMedia!();
      if (!media?.data) throw new EngineMediaUnavailableError('WhatsApp no longer has it');
      return Buffer.from(media.data, 'base64');
    },
  };
}

/** vCard escapes (`\,`, `\;`, `\\`, `\n`), in one pass so an escaped backslash stays one. */
const unescapeVcard = (value: string) =>
  value.replace(/\\([,;\\nN])/g, (_, escaped: string) => (escaped.toLowerCase() === 'n' ? ' ' : escaped));

/** Shared contact cards as the webhook writes them: "Ana Pérez +34 600 000 000; Luis" (names, phones). */
export function contactCardsText(vCards: readonly string[]): string {
  return vCards
    .map((card) => {
      // Folded lines (RFC 6350 §3.2) continue after CRLF and a space or a tab.
      const lines = card.replace(/\r?\n[ \t]/g, '').split(/\r?\n/);
      const propertyValue = (line: string) => unescapeVcard(line.slice(line.indexOf(':') + 1).trim());
      const name = lines.filter((line) => /^FN[;:]/i.test(line)).map(propertyValue)[0];
      const phones = lines.filter((line) => /^(item\d+\.)?TEL[;:]/i.test(line)).map(propertyValue);
      return [name, ...phones].filter(Boolean).join(' ');
    })
    .filter(Boolean)
    .join('; ');
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
