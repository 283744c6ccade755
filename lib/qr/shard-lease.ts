import { type DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { isConditionFailure } from '../storage/table.ts';

/**
 * Ownership of a QR shard (a group of tenants whose sessions one runner task hosts), through one
 * lease item per shard. A lease is held by one owner until `lease_until`; the owner extends it by
 * heartbeats; once it has expired anyone may take it, and every acquisition increments the shard's
 * fencing version. Writes made on behalf of a shard are conditioned on the lease (owner, fencing
 * version, not expired: {@link leaseHeldCheck}), so an owner that lost its lease, however late it
 * notices, can never overwrite its successor.
 *
 * The item is never deleted (a release only ends the lease), so the fencing version only grows; it
 * carries no TTL attribute for the same reason. Expiry is judged on the writer's clock: the lease
 * duration must exceed the clock skew between tasks by a wide margin (ECS hosts keep NTP time).
 */
export const shardLeaseKeys = {
  lease: (shard: string) => ({ pk: `QRSHARD#${shard}`, sk: 'LEASE' }),
};

/** A lease as its holder knows it. */
export interface ShardLease {
  shard: string;
  owner: string;
  /** Grows by one at every acquisition of the shard. */
  fencing: number;
  /** Epoch milliseconds; the lease is nobody's from this instant on. */
  leaseUntil: number;
}

export interface ShardLeaseOptions {
  /** This runner task (e.g. its ECS task id); unique per process lifetime. */
  owner: string;
  /** How long an acquisition or a heartbeat holds the lease. */
  durationMs: number;
}

const HELD = '#owner = :owner AND #fencing = :fencing AND #until > :now';
const heldNames = { '#owner': 'owner', '#fencing': 'fencing', '#until': 'lease_until' };
const heldValues = (lease: ShardLease, now: Date) => ({
  ':owner': lease.owner,
  ':fencing': lease.fencing,
  ':now': now.getTime(),
});

/**
 * The transaction item that makes a write conditional on `lease` still being held at `now`: put it
 * beside the write in one TransactWrite.
 */
export function leaseHeldCheck(tableName: string, lease: ShardLease, now: Date = new Date()) {
  return {
    ConditionCheck: {
      TableName: tableName,
      Key: shardLeaseKeys.lease(lease.shard),
      ConditionExpression: HELD,
      ExpressionAttributeNames: heldNames,
      ExpressionAttributeValues: heldValues(lease, now),
    },
  };
}

/** A write conditioned on a lease was refused: the writer no longer holds it. Stop the shard. */
export class LeaseLostError extends Error {
  constructor(lease: ShardLease) {
    super(`the lease of shard ${lease.shard} (fencing ${lease.fencing}) is no longer held`);
    this.name = 'LeaseLostError';
  }
}

export class ShardLeases {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly options: ShardLeaseOptions,
  ) {}

  /** Takes the shard when its lease is free or expired; undefined while someone else holds it. */
  async acquire(shard: string, now: Date = new Date()): Promise<ShardLease | undefined> {
    try {
      const { Attributes } = await this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: shardLeaseKeys.lease(shard),
          UpdateExpression:
            'SET #owner = :owner, #until = :until, #fencing = if_not_exists(#fencing, :zero) + :one, ' +
            'acquired_at = :at',
          ConditionExpression: 'attribute_not_exists(#until) OR #until <= :now',
          ExpressionAttributeNames: heldNames,
          ExpressionAttributeValues: {
            ':owner': this.options.owner,
            ':until': now.getTime() + this.options.durationMs,
            ':now': now.getTime(),
            ':zero': 0,
            ':one': 1,
            ':at': now.toISOString(),
          },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return toLease(shard, Attributes!);
    } catch (error) {
      if (isConditionFailure(error)) return undefined;
      throw error;
    }
  }

  /**
   * Extends `lease` while it is still ours (same owner and fencing version, not expired); undefined
   * when it is lost: stop the shard's sessions without saving.
   */
  async heartbeat(lease: ShardLease, now: Date = new Date()): Promise<ShardLease | undefined> {
    const leaseUntil = now.getTime() + this.options.durationMs;
    const done = await this.updateHeld(lease, now, 'SET #until = :until', { ':until': leaseUntil });
    return done ? { ...lease, leaseUntil } : undefined;
  }

  /** Ends `lease` so another owner may acquire at once; false when it was no longer ours. */
  async release(lease: ShardLease, now: Date = new Date()): Promise<boolean> {
    return this.updateHeld(lease, now, 'SET #until = :zero, released_at = :at', {
      ':zero': 0,
      ':at': now.toISOString(),
    });
  }

  /** The shard's lease item as stored (whoever holds it), for supervision and tests. */
  async read(shard: string): Promise<ShardLease | undefined> {
    const { Item } = await this.db.send(
      new GetCommand({ TableName: this.tableName, Key: shardLeaseKeys.lease(shard), ConsistentRead: true }),
    );
    return Item ? toLease(shard, Item) : undefined;
  }

  private async updateHeld(
    lease: ShardLease,
    now: Date,
    update: string,
    values: Record<string, unknown>,
  ): Promise<boolean> {
    try {
      await this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: shardLeaseKeys.lease(lease.shard),
          UpdateExpression: update,
          ConditionExpression: HELD,
          ExpressionAttributeNames: heldNames,
          ExpressionAttributeValues: { ...heldValues(lease, now), ...values },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }
}

function toLease(shard: string, item: Record<string, unknown>): ShardLease {
  return {
    shard,
    owner: String(item.owner),
    fencing: Number(item.fencing),
    leaseUntil: Number(item.lease_until),
  };
}
