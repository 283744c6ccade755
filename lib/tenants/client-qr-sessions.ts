import { randomUUID } from 'node:crypto';
import { ConflictError } from '../errors.ts';
import { logger } from '../logger.ts';
import { DEFAULT_COMMAND_TTL_MS, type QrCommandQueue, type QrSessionCommand } from '../qr/commands.ts';
import type { StoredQrStatus } from '../qr/qr-status-store.ts';
import type { SessionSnapshotStore } from '../qr/session-snapshot-store.ts';
import { shardOf } from '../qr/shards.ts';
import type { Channel, Client } from './client.ts';
import { qrMembershipOf } from './client-repository.ts';
import type { OperatorQrStatus, TenantQrStatus } from './client-schemas.ts';

/**
 * QR mode needs the QR runner (a whatsapp-web.js service on ECS) and its command queues: a
 * deployment without them (no QR_COMMAND_QUEUE_URLS) refuses it with this reason rather than
 * accepting a client that would never connect.
 */
export const QR_MODE_UNAVAILABLE =
  'QR mode is not available on this deployment (it has no QR runner); keep channel "cloud_api"';

/** The QR routes of a client that is not in QR mode. */
export const NOT_IN_QR_MODE =
  'this client is not in QR mode (channel "cloud_api"); switch it with PATCH {"channel":"qr"} first';

/**
 * What QR mode needs of the deployment: the command queue of each shard (its runner acts on
 * `start`, `unlink`, `stop`), the runner's status reports, and the stored sessions (deleted when a
 * client leaves QR mode; optional: the runner deletes them too on `stop`).
 */
export interface QrModePort {
  commands: QrCommandQueue;
  /** How many shards (command queues) the deployment has. */
  shardCount: number;
  statuses: { readStatus(tenantId: string): Promise<StoredQrStatus | undefined> };
  sessions?: SessionSnapshotStore;
  /** How long a session command is worth acting on; DEFAULT_COMMAND_TTL_MS. */
  commandTtlMs?: number;
}

export const channelOf = (client: Pick<Client, 'channel'>): Channel => client.channel ?? 'cloud_api';

/**
 * The client service's side of QR sessions: what a stored change tells the runner, and the session's
 * status and commands as the API shows and queues them.
 */
export class ClientQrSessions {
  constructor(private readonly deps: { qr?: QrModePort | undefined; now?: (() => Date) | undefined }) {}

  /** The QR port, or 409 when the deployment has none. */
  mode(): QrModePort {
    if (!this.deps.qr) throw new ConflictError(QR_MODE_UNAVAILABLE);
    return this.deps.qr;
  }

  /**
   * Tells the runner what a stored change means for the client's QR session: `start` when it became
   * an active QR-mode client of a shard, `stop` when it stopped being one (deactivated or back on the
   * Cloud API), and leaving QR mode deletes the stored session. The change is stored already (and
   * the shard membership with it, which the runner also reads): a queue failure is logged and does
   * not undo it; `POST …/qr/start` asks again.
   */
  async afterChange(previous: Client | undefined, next: Client): Promise<void> {
    const qr = this.deps.qr;
    if (!qr) return;
    const was = qrMembershipOf(previous);
    const is = qrMembershipOf(next);
    const tell = async (shard: string, kind: QrSessionCommand['kind']) => {
      try {
        await qr.commands.send(shard, this.sessionCommand(next.id, kind));
      } catch (error) {
        logger.error('QR session command could not be queued', {
          clientId: next.id,
          kind,
          shard,
          error: (error as Error)?.name ?? String(error),
        });
      }
    };
    if (was !== undefined && was !== is) await tell(was, 'stop');
    if (is !== undefined && is !== was) await tell(is, 'start');
    if (previous?.channel === 'qr' && next.channel !== 'qr' && qr.sessions) {
      try {
        await qr.sessions.delete(next.id);
      } catch (error) {
        logger.error('QR session snapshot could not be deleted', {
          clientId: next.id,
          error: (error as Error)?.name ?? String(error),
        });
      }
    }
  }

  private sessionCommand(tenantId: string, kind: QrSessionCommand['kind']): QrSessionCommand {
    const now = this.deps.now?.() ?? new Date();
    const ttl = this.deps.qr?.commandTtlMs ?? DEFAULT_COMMAND_TTL_MS;
    return {
      v: 1,
      id: `${kind}.${randomUUID()}`,
      kind,
      tenant_id: tenantId,
      expires_at: new Date(now.getTime() + ttl).toISOString(),
    };
  }

  /** The QR port for a QR-mode client; 409 with the reason otherwise. */
  private qrOf(client: Client): QrModePort {
    if (channelOf(client) !== 'qr') throw new ConflictError(NOT_IN_QR_MODE);
    return this.mode();
  }

  /** GET /tenant/qr: the client's QR session as the runner last reported it (`starting` before). */
  async status(client: Client): Promise<TenantQrStatus> {
    const status = await this.qrOf(client).statuses.readStatus(client.id);
    return tenantQrView(status);
  }

  /** The `qr` section of the operator's view: null for a Cloud API client (or without QR mode). */
  async operatorStatus(client: Client): Promise<OperatorQrStatus | null> {
    if (channelOf(client) !== 'qr' || !this.deps.qr) return null;
    const status = await this.deps.qr.statuses.readStatus(client.id);
    return {
      ...tenantQrView(status),
      restarts: status?.restarts ?? 0,
      last_error: status?.last_error ?? null,
      shard: status?.shard ?? client.qr_shard ?? null,
      updated_at: status?.updated_at ?? null,
    };
  }

  /**
   * Queues `start` (a new QR after `qr_expired`, `logged_out` or `failed`) or `unlink` (log the
   * account out, delete its stored session) on the client's shard; the state before it acts.
   */
  async command(client: Client, kind: 'start' | 'unlink'): Promise<{ state: TenantQrStatus['state'] }> {
    const qr = this.qrOf(client);
    const shard = client.qr_shard ?? shardOf(client.id, qr.shardCount);
    await qr.commands.send(shard, this.sessionCommand(client.id, kind));
    logger.info('QR session command queued', { clientId: client.id, kind, shard });
    return { state: (await qr.statuses.readStatus(client.id))?.state ?? 'starting' };
  }
}

/** A stored status as the tenant sees it (never the runner's internals). */
function tenantQrView(status: StoredQrStatus | undefined): TenantQrStatus {
  return {
    state: status?.state ?? 'starting',
    qr: status?.qr ?? null,
    qr_expires_at: status?.qr_expires_at ?? null,
    phone_number: status?.phone_number ?? null,
  };
}
