import type { Telemetry } from '../../observability/telemetry.ts';
import type { FifoMessage } from '../../queue/sqs-publisher.ts';
import type { QrCommand, QrSendCommand } from '../commands.ts';
import type { QrStatus } from '../qr-status-store.ts';
import { type EngineMessage, EngineNotReadyError, type SessionEngineFactory } from '../session-engine.ts';
import type { BackoffPolicy } from './backoff.ts';
import type { CommandLedger } from './command-ledger.ts';
import { customerMessageEvent, ownerMessageEvent, sendOutcomeEvent } from './inbound-events.ts';
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
  telemetry: Telemetry;
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
    const session = this.newSession(tenantId);
    session.answerGroups = (await this.settings(tenantId)).answerGroups;
    this.sessions.set(tenantId, session);
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

  private async hear(tenantId: string, message: EngineMessage, author: 'customer' | 'owner'): Promise<void> {
    const at = this.now();
    const event =
      author === 'owner'
        ? ownerMessageEvent(tenantId, message, at)
        : customerMessageEvent(tenantId, message, at);
    await this.deps.publish([event]);
    if (author === 'customer') this.deps.telemetry.count('QrMessagesReceived');
  }

  private async settings(tenantId: string): Promise<{ answerGroups: boolean }> {
    return (await this.deps.settingsOf?.(tenantId)) ?? { answerGroups: false };
  }

  private now(): Date {
    return this.deps.now?.() ?? new Date();
  }
}
