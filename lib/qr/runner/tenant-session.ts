import type { Telemetry } from '../../observability/telemetry.ts';
import type { QrStatus } from '../qr-status-store.ts';
import {
  type DisconnectReason,
  type EngineMessage,
  EngineNotReadyError,
  type SessionEngineFactory,
  type WhatsAppSessionEngine,
} from '../session-engine.ts';
import { type BackoffPolicy, DEFAULT_BACKOFF, restartDelayMs } from './backoff.ts';

/** Where a tenant session sends what it learns; the shard host writes statuses under its lease. */
export interface SessionOutlet {
  /** Called in order, one at a time; a failure (a lost lease) is the outlet's to handle. */
  status(tenantId: string, status: QrStatus): Promise<void>;
  /** A customer's message, or one the owner typed on the phone (`owner`), to put on the inbound queue. */
  message(tenantId: string, message: EngineMessage, author: 'customer' | 'owner'): Promise<void>;
}

export interface TenantSessionOptions {
  tenantId: string;
  engineFor: SessionEngineFactory;
  outlet: SessionOutlet;
  telemetry: Telemetry;
  backoff?: BackoffPolicy;
  /** Restarts after transient losses allowed within `failureWindowMs` before the session is `failed`. */
  maxRestarts?: number;
  failureWindowMs?: number;
  /** Answer group chats too (off by default: a bot in a group talks to everyone). */
  answerGroups?: boolean;
  random?: () => number;
  now?: () => Date;
  onError?: (error: unknown) => void;
}

const DEFAULT_MAX_RESTARTS = 5;
const DEFAULT_FAILURE_WINDOW_MS = 15 * 60_000;
/** How many of our own sends are remembered to tell them from what the owner types. */
const OWN_SENDS_REMEMBERED = 200;

/**
 * One tenant's QR session, supervised: it opens the engine, reports each state, restarts after a
 * transient loss with backoff and jitter (a fresh engine from the saved session), and gives up as
 * `failed` after too many restarts in a window. `logout` → `logged_out`; no scan after the QR
 * refreshes → `qr_expired`; the account opened elsewhere → `failed` keeping the saved session (it
 * does not fight for it). Those three wait for a `start` command.
 *
 * Messages: status broadcasts are ignored, groups too unless opted in; the account's own messages
 * are ours (a send of ours, matched by id or by chat and text while the send is in flight) or the
 * owner's, typed on the phone: those go out as owner messages, which pause the bot for the chat.
 */
export class TenantSession {
  readonly tenantId: string;
  private engine: WhatsAppSessionEngine | undefined;
  private unsubscribe: Array<() => void> = [];
  private status: QrStatus = { state: 'starting', restarts: 0 };
  private restartTimer: NodeJS.Timeout | undefined;
  private restartTimes: number[] = [];
  private readonly ownIds: string[] = [];
  private readonly inFlight = new Map<string, number>();
  private statusChain: Promise<void> = Promise.resolve();
  private closed = false;

  constructor(private readonly options: TenantSessionOptions) {
    this.tenantId = options.tenantId;
  }

  /** The last state reported. */
  get state(): QrStatus['state'] {
    return this.status.state;
  }

  get snapshot(): QrStatus {
    return { ...this.status };
  }

  /** Follows the tenant's setting (read again by the runner from time to time). */
  set answerGroups(on: boolean) {
    this.options.answerGroups = on;
  }

  /** Whether the session ended and only a `start` command reopens it. */
  get waiting(): boolean {
    return ['logged_out', 'qr_expired', 'failed'].includes(this.status.state) && !this.engine;
  }

  /** Opens the session (again, after `logged_out`, `qr_expired` or `failed`). A live one is left as it is. */
  async start(): Promise<void> {
    if (this.engine || this.restartTimer) return;
    this.closed = false;
    if (this.waiting) this.restartTimes = [];
    await this.open('starting');
  }

  /** Sends a reply; EngineNotReadyError while not connected (the command then waits). */
  async send(to: string, text: string): Promise<{ messageId: string }> {
    const engine = this.engine;
    if (!engine) throw new EngineNotReadyError('stopped');
    const key = `${to}\n${text}`;
    this.inFlight.set(key, (this.inFlight.get(key) ?? 0) + 1);
    try {
      const sent = await engine.send(to, text);
      this.ownIds.push(sent.messageId);
      if (this.ownIds.length > OWN_SENDS_REMEMBERED) this.ownIds.shift();
      return sent;
    } finally {
      const left = (this.inFlight.get(key) ?? 1) - 1;
      if (left > 0) this.inFlight.set(key, left);
      else this.inFlight.delete(key);
    }
  }

  /** Closes the session, saving it first when asked (SIGTERM), not after a lost lease. */
  async stop(save: boolean): Promise<void> {
    this.closed = true;
    this.cancelRestart();
    const engine = this.detach();
    if (engine) await engine.stop({ save });
    await this.statusChain;
  }

  /** Unlinks the account (the tenant's unlink, or leaving QR mode): its saved session is deleted. */
  async unlink(): Promise<void> {
    this.cancelRestart();
    const engine = this.engine ?? this.options.engineFor(this.tenantId);
    const live = this.engine !== undefined;
    this.detach();
    this.closed = true;
    await engine.logout();
    if (live) await engine.stop({ save: false });
    this.report({ state: 'logged_out', restarts: this.status.restarts });
    await this.statusChain;
  }

  /** Restarts the session from its saved copy (the memory watchdog's cure), counting a restart. */
  async recycle(reason: string): Promise<void> {
    const engine = this.detach();
    if (!engine) return;
    await engine.stop({ save: true });
    this.status = { ...this.status, restarts: this.status.restarts + 1, last_error: reason };
    this.options.telemetry.count('QrSessionRestarts');
    await this.open('reconnecting');
  }

  /** The engine's memory, when it can tell (the watchdog's input). */
  async memoryBytes(): Promise<number | undefined> {
    return this.engine?.memoryBytes?.();
  }

  private async open(state: 'starting' | 'reconnecting'): Promise<void> {
    const engine = this.options.engineFor(this.tenantId);
    this.engine = engine;
    this.unsubscribe = [
      engine.on('qr', ({ qr, expiresAt }) =>
        this.report({ ...this.base(), state: 'qr', qr, qr_expires_at: expiresAt.toISOString() }),
      ),
      engine.on('linked', () => this.report({ ...this.base(), state: 'linking' })),
      engine.on('ready', ({ phoneNumber }) =>
        this.report({ ...this.base(), state: 'connected', phone_number: phoneNumber }),
      ),
      engine.on('message', (message) => this.hear(message)),
      engine.on('disconnected', ({ reason, detail }) => this.ended(engine, reason, detail)),
    ];
    this.report({ ...this.base(), state });
    try {
      await engine.start();
    } catch (error) {
      if (this.engine === engine) this.ended(engine, 'transient', `start failed: ${errorText(error)}`);
    }
  }

  private hear(message: EngineMessage): void {
    if (message.chatKind === 'status') return;
    if (message.chatKind === 'group' && !this.options.answerGroups) return;
    if (message.fromMe) {
      if (this.ownIds.includes(message.id) || this.inFlight.has(`${message.chat}\n${message.text}`)) return;
      this.publish(message, 'owner');
      return;
    }
    this.publish(message, 'customer');
  }

  private publish(message: EngineMessage, author: 'customer' | 'owner'): void {
    this.options.outlet.message(this.tenantId, message, author).catch((error) => this.fail(error));
  }

  private ended(engine: WhatsAppSessionEngine, reason: DisconnectReason, detail?: string): void {
    if (this.engine !== engine) return;
    this.detach();
    void engine.stop({ save: false }).catch((error) => this.fail(error));
    if (this.closed) return;
    const restarts = this.status.restarts;
    if (reason === 'logout') this.report({ restarts, state: 'logged_out' });
    else if (reason === 'qr_expired') this.report({ restarts, state: 'qr_expired' });
    else if (reason === 'conflict') {
      this.report({
        restarts,
        state: 'failed',
        last_error: `conflict: ${detail ?? 'the account was opened elsewhere'}`,
      });
    } else this.restartAfterLoss(detail ?? 'the browser or the connection was lost');
  }

  private restartAfterLoss(detail: string): void {
    const now = this.now();
    const window = this.options.failureWindowMs ?? DEFAULT_FAILURE_WINDOW_MS;
    this.restartTimes = this.restartTimes.filter((at) => now - at < window);
    const restarts = this.status.restarts;
    if (this.restartTimes.length >= (this.options.maxRestarts ?? DEFAULT_MAX_RESTARTS)) {
      this.options.telemetry.count('QrSessionFailed');
      this.report({ restarts, state: 'failed', last_error: `gave up after repeated losses: ${detail}` });
      return;
    }
    this.restartTimes.push(now);
    const delay = restartDelayMs(
      this.restartTimes.length,
      this.options.backoff ?? DEFAULT_BACKOFF,
      this.options.random ?? Math.random,
    );
    this.report({ restarts, state: 'reconnecting', last_error: detail });
    this.restartTimer = setTimeout(() => {
      this.restartTimer = undefined;
      if (this.closed) return;
      this.status = { ...this.status, restarts: this.status.restarts + 1 };
      this.options.telemetry.count('QrSessionRestarts');
      this.open('reconnecting').catch((error) => this.fail(error));
    }, delay);
  }

  private report(status: QrStatus): void {
    this.status = status;
    const snapshot = { ...status };
    this.statusChain = this.statusChain
      .then(() => this.options.outlet.status(this.tenantId, snapshot))
      .catch((error) => this.fail(error));
  }

  /** What a status carries over: the restart count and the last error. */
  private base(): Pick<QrStatus, 'restarts' | 'last_error'> {
    return {
      restarts: this.status.restarts,
      ...(this.status.last_error ? { last_error: this.status.last_error } : {}),
    };
  }

  private detach(): WhatsAppSessionEngine | undefined {
    const engine = this.engine;
    for (const off of this.unsubscribe) off();
    this.unsubscribe = [];
    this.engine = undefined;
    return engine;
  }

  private cancelRestart(): void {
    if (this.restartTimer) clearTimeout(this.restartTimer);
    this.restartTimer = undefined;
  }

  private now(): number {
    return (this.options.now?.() ?? new Date()).getTime();
  }

  private fail(error: unknown): void {
    this.options.onError?.(error);
  }
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
