import type { SessionSnapshotStore } from '../../lib/qr/session-snapshot-store.ts';

/** A SessionSnapshotStore in memory that records what was asked of it. */
export class MemorySnapshotStore implements SessionSnapshotStore {
  readonly snapshots = new Map<string, Uint8Array>();
  readonly calls: string[] = [];

  async load(tenantId: string): Promise<Uint8Array | undefined> {
    this.calls.push(`load ${tenantId}`);
    return this.snapshots.get(tenantId);
  }

  async save(tenantId: string, snapshot: Uint8Array): Promise<void> {
    this.calls.push(`save ${tenantId}`);
    this.snapshots.set(tenantId, snapshot);
  }

  async delete(tenantId: string): Promise<void> {
    this.calls.push(`delete ${tenantId}`);
    this.snapshots.delete(tenantId);
  }

  async exists(tenantId: string): Promise<boolean> {
    return this.snapshots.has(tenantId);
  }
}
