import { randomBytes } from 'node:crypto';
import { EngineEventHub } from './engine-events.ts';
import {
  type ChatKind,
  type DisconnectReason,
  type EngineEventName,
  type EngineListener,
  EngineMediaUnavailableError,
  type EngineMessage,
  EngineNotReadyError,
  type EngineState,
  type SessionEngineFactory,
  type StopOptions,
  type WhatsAppSessionEngine,
} from './session-engine.ts';
import { SimulatedSessionStore } from './simulated-session-store.ts';

/** What a linked account sent, as the simulated phone shows it. */
export interface SimulatedSentMessage {
  to: string;
  text: string;
  at: Date;
}

/** A customer's media, as a simulated customer sends it (a voice note, a photo, a PDF...). */
export interface SimulatedMedia {
  type: 'audio' | 'image' | 'video' | 'document' | 'sticker';
  bytes: Buffer;
  /** As WhatsApp declares it (`audio/ogg; codecs=opus` for a voice note). */
  mimeType: string;
  voice?: boolean;
  filename?: string;
  caption?: string;
  /** The size announced before the download (default: the bytes'). */
  size?: number;
  /** WhatsApp no longer has the bytes: the download fails, as whatsapp-web.js's gives nothing. */
  gone?: boolean;
}

/** The outcome of scanning a QR with the simulated phone. */
export type ScanOutcome = 'linked' | 'unknown_qr' | 'expired_qr' | 'number_in_use';

export interface SimulatedWhatsAppOptions {
  /** How long a QR can be scanned (whatsapp-web.js refreshes its QR about every 20 s). */
  qrLifetimeMs?: number;
  now?: () => Date;
}

const DEFAULT_QR_LIFETIME_MS = 20_000;
const randomToken = () => randomBytes(12).toString('base64url');

/**
 * A simulated WhatsApp: the phones that scan QRs, their customers, and the sessions of the engines
 * it hands out ({@link engineFor}, a {@link SessionEngineFactory}). Tests and the local WhatsApp
 * simulator drive it; nothing happens on a timer (QR refreshes and expiries are asked for), so every
 * run is the same.
 *
 * Like WhatsApp Web: one live session per tenant (a second one started for the same tenant ends the
 * first with `conflict`); a saved session comes back without a QR while the phone keeps the link; a
 * logout from the phone deletes the saved session.
 */
export class SimulatedWhatsApp {
  readonly sessions = new SimulatedSessionStore();
  /** The live engine of each tenant. */
  private readonly live = new Map<string, SimulatedEngine>();
  /** The phone side: which tenant's session each number is linked to. */
  private readonly links = new Map<string, string>();
  private readonly sentBy = new Map<string, SimulatedSentMessage[]>();
  readonly qrLifetimeMs: number;
  readonly now: () => Date;

  constructor(options: SimulatedWhatsAppOptions = {}) {
    this.qrLifetimeMs = options.qrLifetimeMs ?? DEFAULT_QR_LIFETIME_MS;
    this.now = options.now ?? (() => new Date());
  }

  readonly engineFor: SessionEngineFactory = (tenantId) => new SimulatedEngine(tenantId, this);

  /** The tenants whose live session shows a QR now, with it. */
  showingQr(): Array<{ tenantId: string; qr: string; expiresAt: Date }> {
    return [...this.live.values()].flatMap((engine) => {
      const shown = engine.shownQr();
      return shown ? [{ tenantId: engine.tenantId, ...shown }] : [];
    });
  }

  /** The QR the tenant's live session shows now, if it shows one. */
  currentQr(tenantId: string): { qr: string; expiresAt: Date } | undefined {
    return this.live.get(tenantId)?.shownQr();
  }

  /** The tenant's session shows a new QR (the old one can no longer be scanned). */
  refreshQr(tenantId: string): { qr: string; expiresAt: Date } {
    return this.liveEngine(tenantId).showQr();
  }

  /** The phone `phoneNumber` scans `qr`: the session showing it links, then is ready. */
  scan(qr: string, phoneNumber: string): ScanOutcome {
    const engine = [...this.live.values()].find((candidate) => candidate.shownQr()?.qr === qr);
    if (!engine) return 'unknown_qr';
    if (engine.shownQr()!.expiresAt.getTime() <= this.now().getTime()) return 'expired_qr';
    const linkedTenant = this.links.get(phoneNumber);
    if (linkedTenant !== undefined && linkedTenant !== engine.tenantId) return 'number_in_use';
    this.links.set(phoneNumber, engine.tenantId);
    engine.link(phoneNumber);
    return 'linked';
  }

  /** A customer `from` writes `text` to the linked number `phoneNumber`; answers the delivered message. */
  receive(
    phoneNumber: string,
    from: string,
    text: string,
    options: { id?: string; chatKind?: ChatKind; chat?: string } = {},
  ): EngineMessage {
    return this.deliver(phoneNumber, {
      id: options.id ?? `sim_${randomToken()}`,
      chat: options.chat ?? from,
      from,
      type: 'text',
      text,
      chatKind: options.chatKind ?? 'direct',
      fromMe: false,
      at: this.now(),
    });
  }

  /** A customer `from` sends media to the linked number `phoneNumber` (its bytes downloaded on demand). */
  receiveMedia(
    phoneNumber: string,
    from: string,
    media: SimulatedMedia,
    options: { id?: string; chatKind?: ChatKind; chat?: string } = {},
  ): EngineMessage {
    const bytes = Buffer.from(media.bytes);
    return this.deliver(phoneNumber, {
      id: options.id ?? `sim_${randomToken()}`,
      chat: options.chat ?? from,
      from,
      type: media.type,
      text: media.caption ?? '',
      media: {
        mimeType: media.mimeType,
        ...(media.voice ? { voice: true } : {}),
        ...(media.filename ? { filename: media.filename } : {}),
        size: media.size ?? bytes.length,
        download: async () => {
          if (media.gone) throw new EngineMediaUnavailableError('the simulated media is gone');
          return Buffer.from(bytes);
        },
      },
      chatKind: options.chatKind ?? 'direct',
      fromMe: false,
      at: this.now(),
    });
  }

  /** The owner types `text` to `to` on the phone itself (an own message, not sent by us). */
  typeOnPhone(phoneNumber: string, to: string, text: string): EngineMessage {
    return this.deliver(phoneNumber, {
      id: `sim_${randomToken()}`,
      chat: to,
      from: phoneNumber,
      type: 'text',
      text,
      chatKind: 'direct',
      fromMe: true,
      at: this.now(),
    });
  }

  /** What the account linked as `phoneNumber` sent, oldest first. */
  sent(phoneNumber: string): SimulatedSentMessage[] {
    return [...(this.sentBy.get(phoneNumber) ?? [])];
  }

  /** Ends the tenant's live session for `reason` (a logout also unlinks the phone). */
  disconnect(tenantId: string, reason: DisconnectReason, detail?: string): void {
    this.liveEngine(tenantId).end(reason, detail);
  }

  /**
   * The phone unlinks the account. A live session ends with `logout`; a stopped one keeps its saved
   * session until it is started again, when the restore fails with `logout` (as whatsapp-web.js's).
   */
  logoutFromPhone(phoneNumber: string): void {
    const tenantId = this.links.get(phoneNumber);
    if (tenantId === undefined) return;
    const engine = this.live.get(tenantId);
    if (engine) engine.end('logout');
    else this.links.delete(phoneNumber); // the saved session stays until its restore fails
  }

  /** Whether the phone `phoneNumber` still lists a link to the tenant's session. */
  isLinked(tenantId: string, phoneNumber: string): boolean {
    return this.links.get(phoneNumber) === tenantId;
  }

  // --- used by SimulatedEngine ---

  attach(engine: SimulatedEngine): void {
    const previous = this.live.get(engine.tenantId);
    this.live.set(engine.tenantId, engine);
    if (previous && previous !== engine) previous.end('conflict', 'the account was opened elsewhere');
  }

  detach(engine: SimulatedEngine): void {
    if (this.live.get(engine.tenantId) === engine) this.live.delete(engine.tenantId);
  }

  recordSent(phoneNumber: string, message: SimulatedSentMessage): void {
    const list = this.sentBy.get(phoneNumber) ?? [];
    list.push(message);
    this.sentBy.set(phoneNumber, list);
  }

  forget(tenantId: string, phoneNumber: string | undefined): void {
    if (phoneNumber !== undefined && this.links.get(phoneNumber) === tenantId) this.links.delete(phoneNumber);
    this.sessions.delete(tenantId);
  }

  private deliver(phoneNumber: string, message: EngineMessage): EngineMessage {
    const tenantId = this.links.get(phoneNumber);
    const engine = tenantId === undefined ? undefined : this.live.get(tenantId);
    if (engine?.state() !== 'connected') {
      throw new Error(`no connected session is linked to ${phoneNumber}`);
    }
    engine.hear(message);
    return message;
  }

  private liveEngine(tenantId: string): SimulatedEngine {
    const engine = this.live.get(tenantId);
    if (!engine) throw new Error(`tenant ${tenantId} has no live session`);
    return engine;
  }
}

/** One tenant's session on a {@link SimulatedWhatsApp}. */
export class SimulatedEngine implements WhatsAppSessionEngine {
  private current: EngineState = 'stopped';
  private qr: { qr: string; expiresAt: Date } | undefined;
  private phoneNumber: string | undefined;
  private readonly events = new EngineEventHub();

  constructor(
    readonly tenantId: string,
    private readonly network: SimulatedWhatsApp,
  ) {}

  async start(): Promise<void> {
    if (this.current !== 'stopped' && this.current !== 'disconnected') return;
    this.current = 'starting';
    this.network.attach(this);
    const saved = this.network.sessions.load(this.tenantId);
    if (!saved) {
      this.showQr();
    } else if (this.network.isLinked(this.tenantId, saved.phoneNumber)) {
      this.link(saved.phoneNumber);
    } else {
      this.end('logout', 'the saved session was unlinked from the phone');
    }
  }

  async send(to: string, text: string): Promise<{ messageId: string }> {
    if (this.current !== 'connected' || this.phoneNumber === undefined) {
      throw new EngineNotReadyError(this.current);
    }
    this.network.recordSent(this.phoneNumber, { to, text, at: this.network.now() });
    return { messageId: `sim_${randomToken()}` };
  }

  state(): EngineState {
    return this.current;
  }

  async stop({ save }: StopOptions): Promise<void> {
    if (save && this.current === 'connected' && this.phoneNumber !== undefined) {
      this.network.sessions.save(this.tenantId, {
        phoneNumber: this.phoneNumber,
        savedAt: this.network.now(),
      });
    }
    this.qr = undefined;
    this.current = 'stopped';
    this.network.detach(this);
  }

  async logout(): Promise<void> {
    if (this.current === 'stopped' || this.current === 'disconnected') {
      this.network.forget(
        this.tenantId,
        this.phoneNumber ?? this.network.sessions.load(this.tenantId)?.phoneNumber,
      );
      return;
    }
    this.end('logout');
  }

  on<E extends EngineEventName>(event: E, listener: EngineListener<E>): () => void {
    return this.events.on(event, listener);
  }

  // --- driven by SimulatedWhatsApp ---

  shownQr(): { qr: string; expiresAt: Date } | undefined {
    return this.current === 'qr' ? this.qr : undefined;
  }

  showQr(): { qr: string; expiresAt: Date } {
    if (this.current !== 'starting' && this.current !== 'qr') {
      throw new Error(`a ${this.current} session shows no QR`);
    }
    this.current = 'qr';
    this.qr = {
      qr: `sim-qr@${randomToken()}`,
      expiresAt: new Date(this.network.now().getTime() + this.network.qrLifetimeMs),
    };
    this.events.emit('qr', { ...this.qr });
    return { ...this.qr };
  }

  link(phoneNumber: string): void {
    this.qr = undefined;
    this.phoneNumber = phoneNumber;
    this.current = 'linking';
    this.events.emit('linked', {});
    if (this.current !== 'linking') return; // a listener stopped it
    this.current = 'connected';
    this.events.emit('ready', { phoneNumber });
  }

  hear(message: EngineMessage): void {
    this.events.emit('message', message);
  }

  end(reason: DisconnectReason, detail?: string): void {
    if (reason === 'logout') this.network.forget(this.tenantId, this.phoneNumber);
    this.qr = undefined;
    this.current = 'disconnected';
    this.network.detach(this);
    this.events.emit('disconnected', detail === undefined ? { reason } : { reason, detail });
  }
}
