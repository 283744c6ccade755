import { type DynamoDBDocumentClient, GetCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { isConditionFailure } from '../storage/table.ts';
import { retryOnTransactionConflict } from '../storage/transactions.ts';
import { clientKeys } from '../tenants/client.ts';
import { LeaseLostError, leaseHeldCheck, type ShardLease } from './shard-lease.ts';

/** Where a tenant's QR session is, as the tenant and the operator see it. */
export type QrState =
  | 'starting'
  | 'qr'
  | 'linking'
  | 'connected'
  | 'reconnecting'
  | 'logged_out'
  | 'qr_expired'
  | 'failed';

/** What the runner reports of a tenant's session. */
export interface QrStatus {
  state: QrState;
  /** The QR to scan (state `qr` only). Never logged. */
  qr?: string;
  /** ISO 8601; the QR cannot be scanned from then on. */
  qr_expires_at?: string;
  /** The linked account's number, once known. */
  phone_number?: string;
  /** How many times the runner restarted the session (after browser or page loss). */
  restarts: number;
  last_error?: string;
}

/** A status as stored: who wrote it, under which lease. */
export interface StoredQrStatus extends QrStatus {
  shard: string;
  fencing: number;
  updated_at: string;
}

export const qrStatusKeys = {
  status: (tenantId: string) => ({ pk: clientKeys.profile(tenantId).pk, sk: 'QR_STATUS' }),
};

/**
 * Each tenant's QR session status, one item in the tenant's partition. Every write is one
 * transaction: a ConditionCheck that the writer still holds its shard's lease, and the Put, so a
 * runner that lost its lease (a long GC pause, a partition) can never overwrite what the shard's
 * new owner wrote.
 */
export class QrStatusStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  /**
   * Writes the tenant's status under `lease`; LeaseLostError when the lease is no longer held. A QR
   * (with its expiry) belongs to state `qr` only, so no stale QR outlives its state.
   */
  async writeStatus(
    tenantId: string,
    status: QrStatus,
    lease: ShardLease,
    now: Date = new Date(),
  ): Promise<void> {
    const hasQr = status.qr !== undefined && status.qr_expires_at !== undefined;
    const showsQr = status.qr !== undefined || status.qr_expires_at !== undefined;
    if (status.state === 'qr' ? !hasQr : showsQr) {
      throw new TypeError(
        `a ${status.state} status must ${status.state === 'qr' ? '' : 'not '}carry a QR and its expiry`,
      );
    }
    const item: StoredQrStatus = {
      ...status,
      shard: lease.shard,
      fencing: lease.fencing,
      updated_at: now.toISOString(),
    };
    try {
      await retryOnTransactionConflict('writing a QR status', () =>
        this.db.send(
          new TransactWriteCommand({
            TransactItems: [
              leaseHeldCheck(this.tableName, lease, now),
              { Put: { TableName: this.tableName, Item: { ...qrStatusKeys.status(tenantId), ...item } } },
            ],
          }),
        ),
      );
    } catch (error) {
      if (isConditionFailure(error)) throw new LeaseLostError(lease);
      throw error;
    }
  }

  async readStatus(tenantId: string): Promise<StoredQrStatus | undefined> {
    const { Item } = await this.db.send(
      new GetCommand({ TableName: this.tableName, Key: qrStatusKeys.status(tenantId), ConsistentRead: true }),
    );
    if (!Item) return undefined;
    const { pk: _pk, sk: _sk, ...status } = Item;
    return status as StoredQrStatus;
  }
}
