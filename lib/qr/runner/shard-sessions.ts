import type { Telemetry } from '../../observability/telemetry.ts';
import type { FifoMessage } from '../../queue/sqs-publisher.ts';
import type { QrCommand, QrSendCommand } from '../commands.ts';
import type { QrStatus } from '../qr-status-store.ts';
import { type EngineMessage, EngineNotReadyError, type SessionEngineFactory } from '../session-engine.ts';
import type { BackoffPolicy } from './backoff.ts';
import type { CommandLedger } from './command-ledger.ts';
import { customerMessageEvent, ownerMessageEvent, sendOutcomeEvent } from './inbound-events.ts';
import { type KeptMedia, keepMedia, type MediaSink, mediaKindOf } from './inbound-media.ts';
import { TenantSession } from './tenant-session.ts';

/** What becomes of a command: done (acknowledge it) or retry (it comes back later). */
export type CommandOutcome = 'done' | 'retry';

export interface ShardSessionsDeps {
  engineFor: SessionEngineFactory;
  /** Writes a tenant's status under the shard's lease (throws LeaseLostError when it is lost). */
  writeStatus(tenantId: string, status: QrStatus): Promise<void>;
  /** Puts events on the inbound FIFO queue (retrying what SQS refuses for now). */
  publish(messages: FifoMessage[]): Promise<void>;
  /** The tenant's QR settings (whether group chats are answered); absent: none opted in. */
  settingsOf?(tenantId: string): Promise<{ answerGroups: boolean }>;
  /** Whether a tenant is (still) a member of the shard. */
  isMember(tenantId: string): Promise<boolean>;
  ledger: Pick<CommandLedger, 'claim' | 'release'>;
  /** Where customers' media is kept (the media bucket); without it, media is queued unkept. */
  media?: MediaSink;
  /** How long a media download may take before the message is queued without it (default 60 s). */
  mediaTimeoutMs?: number;
  telemetry: Telemetry;
  logger?: { warn(message: string, extra: Record<string, unknown>): void };
  /** At most this many sessions; members beyond it are reported `failed` (capacity). */
  sessionsLimit: number;
  backoff?: BackoffPolicy;
  random?: () => number;
  now?: () => Date;
  onError(error: unknown, tenantId: string): void;
}

/**
 * The sessions of the shard a runner holds, and what it does with each command of the shard's
 * queue. It knows no queue and no lease: the runner gives it statuses' writer and the publisher.
 */
export class ShardSessions {
  private readonly sessions = new Map<string, TenantSession>();
  /** Per tenant and chat, the message being put on the queue: the next waits for it (media take time). */
  private readonly heard = new Map<string, Promise<void>>();

  constructor(private readonly deps: ShardSessionsDeps) {}

  get tenantIds(): string[] {
    return [...this.sessions.keys()];
  }

  session(tenantId: string): TenantSession | undefined {
    return this.sessions.get(tenantId);
  }

  /** Hosts exactly the shard's members: opens new ones (up to the limit), closes departed ones (saving). */
  async reconcile(members: readonly string[]): Promise<void> {
    const wanted = new Set(members);
    for (const [tenantId, session] of this.sessions) {
      if (!wanted.has(tenantId)) {
        this.sessions.delete(tenantId);
        await session.stop(true);
      }
    }
    for (const tenantId of members) {
      const session = this.sessions.get(tenantId);
      if (session) session.answerGroups = (await this.settings(tenantId)).answerGroups;
      else await this.open(tenantId);
    }
  }

  async handle(command: QrCommand): Promise<CommandOutcome> {
    const now = this.now();
    if (Date.parse(command.expires_at) <= now.getTime()) {
      this.deps.telemetry.count('QrCommandsExpired');
      if (command.kind === 'send') await this.reportSend(command, 'failed');
      return 'done';
    }
    switch (command.kind) {
      case 'send':
        return this.send(command);
      case 'start': {
        if (!(await this.deps.isMember(command.tenant_id))) return 'done';
        const session = this.sessions.get(command.tenant_id);
        if (session) await session.start();
        else await this.open(command.tenant_id);
        return 'done';
      }
      case 'unlink':
      case 'stop': {
        const session = this.sessions.get(command.tenant_id) ?? this.newSession(command.tenant_id);
        if (command.kind === 'stop') this.sessions.delete(command.tenant_id);
        await session.unlink();
        return 'done';
      }
    }
  }

  /** Restarts every session whose browser uses more than `limitBytes` (from its saved copy). */
  async watchMemory(limitBytes: number): Promise<void> {
    for (const session of this.sessions.values()) {
      const used = await session.memoryBytes();
      if (used !== undefined && used > limitBytes) {
        await session.recycle(
          `memory ${Math.round(used / 2 ** 20)} MiB over ${Math.round(limitBytes / 2 ** 20)} MiB`,
        );
      }
    }
  }

  /** Closes every session: saving them (SIGTERM) or not (a lost lease: someone else owns them now). */
  async closeAll(save: boolean): Promise<void> {
    const sessions = [...this.sessions.values()];
    this.sessions.clear();
    await Promise.allSettled(sessions.map((session) => session.stop(save)));
  }

  private async send(command: QrSendCommand): Promise<CommandOutcome> {
    const session = this.sessions.get(command.tenant_id);
    if (!session) {
      if (await this.deps.isMember(command.tenant_id)) return 'retry';
      await this.reportSend(command, 'failed');
      return 'done';
    }
    if (session.state !== 'connected') return session.waiting ? this.fail(command) : 'retry';
    if (!(await this.deps.ledger.claim(command.tenant_id, command.id, new Date(command.expires_at)))) {
      return 'done';
    }
    try {
      await session.send(command.to, command.text);
    } catch (error) {
      if (error instanceof EngineNotReadyError) {
        await this.deps.ledger.release(command.tenant_id, command.id);
        return 'retry';
      }
      this.deps.onError(error, command.tenant_id);
      return this.fail(command);
    }
    this.deps.telemetry.count('QrCommandsSent');
    await this.reportSend(command, 'sent');
    return 'done';
  }

  /** A send that cannot go out (the session waits for the tenant, or the engine refused it). */
  private async fail(command: QrSendCommand): Promise<CommandOutcome> {
    await this.reportSend(command, 'failed');
    return 'done';
  }

  private async reportSend(command: QrSendCommand, outcome: 'sent' | 'failed'): Promise<void> {
    await this.deps.publish([
      sendOutcomeEvent(command.tenant_id, command.id, command.to, outcome, this.now()),
    ]);
  }

  private async open(tenantId: string): Promise<void> {
    if (this.sessions.size >= this.deps.sessionsLimit) {
      await this.deps.writeStatus(tenantId, {
        state: 'failed',
        restarts: 0,
        last_error: `capacity: this runner task hosts at most ${this.deps.sessionsLimit} sessions`,
      });
      return;
    }
    // Known before the settings read: a `start` command handled meanwhile (the admin API sends one
    // as it writes the membership) must find this session, not open a second engine, whose
    // attach would end the first with `conflict`.
    const session = this.newSession(tenantId);
    this.sessions.set(tenantId, session);
    session.answerGroups = (await this.settings(tenantId)).answerGroups;
    await session.start();
  }

  private newSession(tenantId: string): TenantSession {
    return new TenantSession({
      tenantId,
      engineFor: this.deps.engineFor,
      telemetry: this.deps.telemetry,
      ...(this.deps.backoff ? { backoff: this.deps.backoff } : {}),
      ...(this.deps.random ? { random: this.deps.random } : {}),
      ...(this.deps.now ? { now: this.deps.now } : {}),
      outlet: {
        status: (id, status) => this.deps.writeStatus(id, status),
        message: (id, message, author) => this.hear(id, message, author),
      },
      onError: (error) => this.deps.onError(error, tenantId),
    });
  }

  /**
   * Puts what a session heard on the inbound queue, in the order it was heard within each chat: a
   * voice note being downloaded is not overtaken by the text that follows it.
   */
  private hear(tenantId: string, message: EngineMessage, author: 'customer' | 'owner'): Promise<void> {
    const key = `${tenantId}\n${message.chat}`;
    const at = this.now();
    const turn = (this.heard.get(key) ?? Promise.resolve()).then(() =>
      this.pass(tenantId, message, author, at),
    );
    const done = turn.catch(() => undefined); // the caller hears of a failure; the next still goes
    this.heard.set(key, done);
    void done.then(() => {
      if (this.heard.get(key) === done) this.heard.delete(key);
    });
    return turn;
  }

  private async pass(
    tenantId: string,
    message: EngineMessage,
    author: 'customer' | 'owner',
    at: Date,
  ): Promise<void> {
    const kept = author === 'customer' ? await this.keep(tenantId, message) : undefined;
    const event =
      author === 'owner'
        ? ownerMessageEvent(tenantId, message, at)
        : customerMessageEvent(tenantId, message, at, kept);
    await this.deps.publish([event]);
    if (author === 'customer') this.deps.telemetry.count('QrMessagesReceived');
  }

  /** A customer's media, kept in the media bucket when it can be (else the message goes without). */
  private async keep(tenantId: string, message: EngineMessage): Promise<KeptMedia | undefined> {
    const kind = mediaKindOf(message);
    if (!kind) return undefined;
    const kept = this.deps.media
      ? await keepMedia(tenantId, message, this.deps.media, this.deps.mediaTimeoutMs)
      : ({ stored: false, reason: 'store_failed', detail: 'no media bucket is configured' } as const);
    if (!kept.stored) {
      this.deps.logger?.warn('a QR customer media was not stored; the message is queued without it', {
        tenantId,
        messageKey: messageKeyOf(message.id),
        kind,
        mimeType: message.media?.mimeType,
        reason: kept.reason,
        detail: kept.detail,
      });
    }
    return kept;
  }

  private async settings(tenantId: string): Promise<{ answerGroups: boolean }> {
    return (await this.deps.settingsOf?.(tenantId)) ?? { answerGroups: false };
  }

  private now(): Date {
    return this.deps.now?.() ?? new Date();
  }
}

/**
 * A message id fit for the logs: whatsapp-web.js ids (`false_<chat>_<key>[_<author>]`) carry the
 * customer's number; the key alone names the message without it.
 */
export function messageKeyOf(id: string): string {
  const parts = id.split('_');
  return (parts[0] === 'true' || parts[0] === 'false') && parts[2] ? parts[2] : id;
}
