import { setTimeout as sleep } from 'node:timers/promises';
import type { Telemetry } from '../../observability/telemetry.ts';
import type { FifoMessage } from '../../queue/sqs-publisher.ts';
import type { QrStatus } from '../qr-status-store.ts';
import type { SessionEngineFactory } from '../session-engine.ts';
import { LeaseLostError, type ShardLease, type ShardLeases } from '../shard-lease.ts';
import type { BackoffPolicy } from './backoff.ts';
import type { CommandLedger } from './command-ledger.ts';
import type { CommandSource, ReceivedCommand } from './command-source.ts';
import type { MediaSink } from './inbound-media.ts';
import { ShardSessions } from './shard-sessions.ts';

export interface RunnerLogger {
  info(message: string, extra: Record<string, unknown>): void;
  warn(message: string, extra: Record<string, unknown>): void;
  error(message: string, extra: Record<string, unknown>): void;
}

export interface QrRunnerDeps {
  /** The shards this deployment has ("0" … "n-1"); the runner holds one of them at a time. */
  shards: readonly string[];
  leases: Pick<ShardLeases, 'acquire' | 'heartbeat' | 'release'>;
  /** The shard's command queue. */
  commandsOf(shard: string): CommandSource;
  membersOf(shard: string): Promise<string[]>;
  isMember(shard: string, tenantId: string): Promise<boolean>;
  /** A tenant's QR settings, read when its session opens and at each membership read. */
  settingsOf?(tenantId: string): Promise<{ answerGroups: boolean }>;
  writeStatus(tenantId: string, status: QrStatus, lease: ShardLease): Promise<void>;
  publish(messages: FifoMessage[]): Promise<void>;
  /** Where customers' media is kept (the media bucket, under each tenant's prefix). */
  media?: MediaSink;
  ledger: Pick<CommandLedger, 'claim' | 'release'>;
  engineFor: SessionEngineFactory;
  telemetry: Telemetry;
  logger: RunnerLogger;
  sessionsLimit: number;
  timing?: Partial<RunnerTiming>;
  backoff?: BackoffPolicy;
  random?: () => number;
}

export interface RunnerTiming {
  /** Between heartbeats; a third of the lease duration leaves two chances before it expires. */
  heartbeatMs: number;
  /** Between attempts to take a shard while every shard is held. */
  acquireRetryMs: number;
  /** Between reads of the shard's membership. */
  reconcileMs: number;
  /** Between memory checks of the sessions. */
  watchdogMs: number;
  /** A session whose browser uses more is restarted from its saved copy. */
  memoryLimitBytes: number;
  /** How long a send waits in the queue before it is looked at again while its session is not connected. */
  retrySendAfterS: number;
  /** How long a customer's media may take to download before its message is queued without it. */
  mediaDownloadMs: number;
}

const DEFAULT_TIMING: RunnerTiming = {
  heartbeatMs: 10_000,
  acquireRetryMs: 15_000,
  reconcileMs: 30_000,
  watchdogMs: 60_000,
  memoryLimitBytes: 900 * 2 ** 20,
  retrySendAfterS: 10,
  mediaDownloadMs: 60_000,
};

/** What `/health` reports: the process is alive, and whether it holds its lease. */
export interface RunnerHealth {
  phase: 'acquiring' | 'holding' | 'stopping' | 'stopped';
  shard?: string;
  fencing?: number;
}

/**
 * A QR runner task: takes one free shard (its lease), hosts that shard's sessions, answers its
 * command queue, and keeps the lease by heartbeats. A lost lease (a refused heartbeat, or a status
 * write refused by its lease check) stops the sessions without saving and goes back to taking a
 * shard. `shutdown` (SIGTERM) stops taking commands, saves and closes each session, then releases
 * the lease, so the next task takes the shard at once and restores the sessions without a QR.
 */
export class QrRunner {
  private readonly timing: RunnerTiming;
  private lease: ShardLease | undefined;
  private phase: RunnerHealth['phase'] = 'acquiring';
  private stopping = new AbortController();
  private holding: AbortController | undefined;
  private loop: Promise<void> | undefined;

  constructor(private readonly deps: QrRunnerDeps) {
    this.timing = { ...DEFAULT_TIMING, ...deps.timing };
  }

  health(): RunnerHealth {
    return {
      phase: this.phase,
      ...(this.lease ? { shard: this.lease.shard, fencing: this.lease.fencing } : {}),
    };
  }

  /** Runs until `shutdown` (the loop goes on in the background); after a shutdown, starts afresh. */
  start(): void {
    if (this.loop) return;
    this.stopping = new AbortController();
    this.phase = 'acquiring';
    this.loop = this.run();
  }

  /** SIGTERM: no new commands, each session saved and closed, the lease released. */
  async shutdown(): Promise<void> {
    this.phase = 'stopping';
    this.stopping.abort();
    this.holding?.abort();
    await this.loop;
    this.loop = undefined;
    this.phase = 'stopped';
  }

  private async run(): Promise<void> {
    const signal = this.stopping.signal;
    while (!signal.aborted) {
      const lease = await this.acquire();
      if (!lease) {
        await sleep(this.timing.acquireRetryMs, undefined, { signal }).catch(() => undefined);
        continue;
      }
      await this.hold(lease);
    }
  }

  private async acquire(): Promise<ShardLease | undefined> {
    const { shards } = this.deps;
    const offset = Math.floor((this.deps.random ?? Math.random)() * shards.length);
    for (let i = 0; i < shards.length; i++) {
      const shard = shards[(offset + i) % shards.length]!;
      try {
        const lease = await this.deps.leases.acquire(shard);
        if (lease) return lease;
      } catch (error) {
        this.deps.logger.warn('could not try the lease of a QR shard', { shard, error: String(error) });
      }
    }
    return undefined;
  }

  private async hold(lease: ShardLease): Promise<void> {
    this.lease = lease;
    this.phase = 'holding';
    this.holding = new AbortController();
    const holding = this.holding.signal;
    this.deps.telemetry.count('QrLeaseAcquired');
    this.deps.logger.info('holding a QR shard', { shard: lease.shard, fencing: lease.fencing });
    const sessions = new ShardSessions({
      engineFor: this.deps.engineFor,
      writeStatus: (tenantId, status) => this.writeStatus(tenantId, status),
      publish: this.deps.publish,
      ...(this.deps.media ? { media: this.deps.media } : {}),
      mediaTimeoutMs: this.timing.mediaDownloadMs,
      logger: this.deps.logger,
      ...(this.deps.settingsOf ? { settingsOf: this.deps.settingsOf } : {}),
      isMember: (tenantId) => this.deps.isMember(lease.shard, tenantId),
      ledger: this.deps.ledger,
      telemetry: this.deps.telemetry,
      sessionsLimit: this.deps.sessionsLimit,
      ...(this.deps.backoff ? { backoff: this.deps.backoff } : {}),
      ...(this.deps.random ? { random: this.deps.random } : {}),
      onError: (error, tenantId) => this.sessionError(error, tenantId),
    });
    const loops = [
      this.every(this.timing.heartbeatMs, holding, () => this.heartbeat()),
      this.every(
        this.timing.reconcileMs,
        holding,
        async () => {
          await sessions.reconcile(await this.deps.membersOf(lease.shard));
        },
        true,
      ),
      this.every(this.timing.watchdogMs, holding, () => sessions.watchMemory(this.timing.memoryLimitBytes)),
      this.consume(lease.shard, sessions, holding),
    ];
    await Promise.all(loops);
    const lost = !this.stopping.signal.aborted;
    await sessions.closeAll(!lost);
    if (!lost && this.lease) {
      await this.deps.leases.release(this.lease).catch((error) => {
        this.deps.logger.warn('could not release the QR shard lease', {
          shard: lease.shard,
          error: String(error),
        });
      });
    }
    this.lease = undefined;
    if (lost) this.phase = 'acquiring';
  }

  private async heartbeat(): Promise<void> {
    const lease = this.lease;
    if (!lease) return;
    const renewed = await this.deps.leases.heartbeat(lease);
    if (renewed) this.lease = renewed;
    else this.leaseLost(lease);
  }

  private async writeStatus(tenantId: string, status: QrStatus): Promise<void> {
    const lease = this.lease;
    if (!lease) throw new Error('no lease held');
    await this.deps.writeStatus(tenantId, status, lease);
  }

  private sessionError(error: unknown, tenantId: string): void {
    if (error instanceof LeaseLostError) {
      if (this.lease) this.leaseLost(this.lease);
      return;
    }
    this.deps.logger.error('QR session error', { tenantId, error: String(error) });
  }

  private leaseLost(lease: ShardLease): void {
    if (this.lease !== lease && this.lease?.fencing !== lease.fencing) return;
    this.deps.telemetry.count('QrLeaseLost');
    this.deps.logger.warn('lost the QR shard lease: its sessions stop without saving', {
      shard: lease.shard,
    });
    this.holding?.abort();
  }

  private async consume(shard: string, sessions: ShardSessions, signal: AbortSignal): Promise<void> {
    const source = this.deps.commandsOf(shard);
    while (!signal.aborted) {
      let received: ReceivedCommand[];
      try {
        received = await source.receive(signal);
      } catch (error) {
        this.deps.logger.warn('could not read the QR command queue', { shard, error: String(error) });
        await sleep(1_000, undefined, { signal }).catch(() => undefined);
        continue;
      }
      // A standard queue does not keep order: a reply's parts are sent in the order they were issued.
      received.sort((a, b) => (a.command?.expires_at ?? '').localeCompare(b.command?.expires_at ?? ''));
      for (const [index, item] of received.entries()) {
        if (signal.aborted) {
          // Not acted on: visible again at once, for the shard's next owner.
          await Promise.allSettled(received.slice(index).map((rest) => rest.retryAfter(0)));
          return;
        }
        try {
          const outcome = item.command ? await sessions.handle(item.command) : 'done';
          if (!item.command) this.deps.logger.warn('dropped a malformed QR command', { shard });
          if (outcome === 'done') await item.ack();
          else await item.retryAfter(this.timing.retrySendAfterS);
        } catch (error) {
          this.sessionError(error, item.command?.tenant_id ?? 'unknown');
        }
      }
    }
  }

  /** Runs `task` every `ms` (first at once when `immediately`) until `signal` aborts; errors are logged. */
  private async every(ms: number, signal: AbortSignal, task: () => Promise<void>, immediately = false) {
    if (immediately) await this.guard(task);
    while (!signal.aborted) {
      await sleep(ms, undefined, { signal }).catch(() => undefined);
      if (signal.aborted) return;
      await this.guard(task);
    }
  }

  private async guard(task: () => Promise<void>): Promise<void> {
    try {
      await task();
    } catch (error) {
      this.sessionError(error, 'shard');
    }
  }
}
