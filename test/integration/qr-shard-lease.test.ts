import { beforeAll, describe, expect, it } from 'vitest';
import { type QrStatus, QrStatusStore } from '../../lib/qr/qr-status-store.ts';
import { LeaseLostError, type ShardLease, ShardLeases } from '../../lib/qr/shard-lease.ts';
import { freshTable, uniqueName } from '../support/emulators.ts';

const DURATION_MS = 30_000;
const t0 = new Date('2026-12-01T10:00:00Z');
const at = (ms: number) => new Date(t0.getTime() + ms);

let runnerA: ShardLeases;
let runnerB: ShardLeases;
let statuses: QrStatusStore;

beforeAll(async () => {
  const { aws, tableName } = await freshTable();
  runnerA = new ShardLeases(aws.dynamo, tableName, { owner: 'task-a', durationMs: DURATION_MS });
  runnerB = new ShardLeases(aws.dynamo, tableName, { owner: 'task-b', durationMs: DURATION_MS });
  statuses = new QrStatusStore(aws.dynamo, tableName);
});

const connected: QrStatus = { state: 'connected', phone_number: '34600000001', restarts: 0 };

describe('given a free shard', () => {
  it('when two runners race for it, then exactly one wins, with fencing version 1', async () => {
    const shard = uniqueName('shard');
    const [a, b] = await Promise.all([runnerA.acquire(shard, t0), runnerB.acquire(shard, t0)]);
    const winners = [a, b].filter((lease): lease is ShardLease => lease !== undefined);

    expect(winners).toHaveLength(1);
    expect(winners[0]).toMatchObject({ shard, fencing: 1, leaseUntil: t0.getTime() + DURATION_MS });
    expect(await runnerA.read(shard)).toEqual(winners[0]);
  });

  it('when ten acquisitions race, then exactly one holds it', async () => {
    const shard = uniqueName('shard');
    const leases = await Promise.all(
      Array.from({ length: 10 }, (_, i) => (i % 2 ? runnerA : runnerB).acquire(shard, t0)),
    );
    expect(leases.filter(Boolean)).toHaveLength(1);
  });
});

describe('given a shard held by runner A', () => {
  it('when A heartbeats before expiry, then the lease is extended and B still cannot acquire', async () => {
    const shard = uniqueName('shard');
    const lease = (await runnerA.acquire(shard, t0))!;
    const extended = await runnerA.heartbeat(lease, at(20_000));

    expect(extended).toEqual({ ...lease, leaseUntil: at(20_000 + DURATION_MS).getTime() });
    expect(await runnerB.acquire(shard, at(40_000))).toBeUndefined();
    expect(await runnerA.read(shard)).toEqual(extended);
  });

  it('when the lease expires, then B takes over with a higher fencing version and A can no longer heartbeat', async () => {
    const shard = uniqueName('shard');
    const stale = (await runnerA.acquire(shard, t0))!;
    const taken = await runnerB.acquire(shard, at(DURATION_MS));

    expect(taken).toMatchObject({ owner: 'task-b', fencing: stale.fencing + 1 });
    expect(await runnerA.heartbeat(stale, at(DURATION_MS + 1))).toBeUndefined();
    expect(await runnerA.release(stale, at(DURATION_MS + 1))).toBe(false);
    expect(await runnerA.read(shard)).toEqual(taken);
  });

  it('when A heartbeats after its own expiry, then it fails even though nobody took over', async () => {
    const shard = uniqueName('shard');
    const lease = (await runnerA.acquire(shard, t0))!;

    expect(await runnerA.heartbeat(lease, at(DURATION_MS))).toBeUndefined();
  });

  it('when A re-acquires after losing and B lets go, then A holds a new fencing version, not its old one', async () => {
    const shard = uniqueName('shard');
    const first = (await runnerA.acquire(shard, t0))!;
    const b = (await runnerB.acquire(shard, at(DURATION_MS)))!;
    expect(await runnerB.release(b, at(DURATION_MS + 1))).toBe(true);
    const again = (await runnerA.acquire(shard, at(DURATION_MS + 2)))!;

    expect(again.fencing).toBe(first.fencing + 2);
    expect(await runnerA.heartbeat(first, at(DURATION_MS + 3))).toBeUndefined();
    expect(await runnerA.heartbeat(again, at(DURATION_MS + 3))).toBeDefined();
  });

  it('when A releases it, then B acquires it at once', async () => {
    const shard = uniqueName('shard');
    const lease = (await runnerA.acquire(shard, t0))!;

    expect(await runnerA.release(lease, at(1000))).toBe(true);
    expect(await runnerB.acquire(shard, at(1001))).toMatchObject({ owner: 'task-b', fencing: 2 });
    expect(await runnerA.heartbeat(lease, at(1002))).toBeUndefined();
  });
});

describe('given tenant statuses written under a shard lease', () => {
  it('when the holder writes, then the status is stored with the shard and the fencing version', async () => {
    const shard = uniqueName('shard');
    const tenant = uniqueName('cl');
    const lease = (await runnerA.acquire(shard, t0))!;
    const qr: QrStatus = { state: 'qr', qr: '2@abc', qr_expires_at: at(20_000).toISOString(), restarts: 0 };
    await statuses.writeStatus(tenant, qr, lease, at(1000));

    expect(await statuses.readStatus(tenant)).toEqual({
      ...qr,
      shard,
      fencing: lease.fencing,
      updated_at: at(1000).toISOString(),
    });
  });

  it('when the lease expired and B took over, then the stale owner A is refused and B’s status stands', async () => {
    const shard = uniqueName('shard');
    const tenant = uniqueName('cl');
    const stale = (await runnerA.acquire(shard, t0))!;
    await statuses.writeStatus(tenant, connected, stale, at(1000));
    const fresh = (await runnerB.acquire(shard, at(DURATION_MS)))!;
    const reconnecting: QrStatus = { state: 'reconnecting', restarts: 1, last_error: 'page crashed' };
    await statuses.writeStatus(tenant, reconnecting, fresh, at(DURATION_MS + 1));

    await expect(
      statuses.writeStatus(tenant, { ...connected, restarts: 9 }, stale, at(DURATION_MS + 2)),
    ).rejects.toBeInstanceOf(LeaseLostError);
    expect(await statuses.readStatus(tenant)).toMatchObject({ ...reconnecting, fencing: fresh.fencing });
  });

  it('when the holder’s own lease has expired, then its write is refused even before a takeover', async () => {
    const shard = uniqueName('shard');
    const tenant = uniqueName('cl');
    const lease = (await runnerA.acquire(shard, t0))!;

    await expect(statuses.writeStatus(tenant, connected, lease, at(DURATION_MS))).rejects.toBeInstanceOf(
      LeaseLostError,
    );
    expect(await statuses.readStatus(tenant)).toBeUndefined();
  });

  it('when the lease was released, then a write under it is refused', async () => {
    const shard = uniqueName('shard');
    const tenant = uniqueName('cl');
    const lease = (await runnerA.acquire(shard, t0))!;
    await runnerA.release(lease, at(1));

    await expect(statuses.writeStatus(tenant, connected, lease, at(2))).rejects.toBeInstanceOf(
      LeaseLostError,
    );
  });

  it('when no lease item exists for the shard, then a write is refused', async () => {
    const forged: ShardLease = { shard: uniqueName('shard'), owner: 'task-a', fencing: 1, leaseUntil: 0 };

    await expect(statuses.writeStatus(uniqueName('cl'), connected, forged, t0)).rejects.toBeInstanceOf(
      LeaseLostError,
    );
  });

  it('when a QR is written outside state qr, or state qr without its QR, then nothing is written', async () => {
    const shard = uniqueName('shard');
    const tenant = uniqueName('cl');
    const lease = (await runnerA.acquire(shard, t0))!;
    const stale: QrStatus = { ...connected, qr: '2@old', qr_expires_at: at(20_000).toISOString() };

    await expect(statuses.writeStatus(tenant, stale, lease, at(1))).rejects.toBeInstanceOf(TypeError);
    await expect(
      statuses.writeStatus(tenant, { state: 'qr', restarts: 0 }, lease, at(1)),
    ).rejects.toBeInstanceOf(TypeError);
    expect(await statuses.readStatus(tenant)).toBeUndefined();
  });
});
