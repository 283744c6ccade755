/**
 * Where a whatsapp-web.js session's snapshot (the zipped browser profile that keeps the account
 * linked) is kept between runner tasks: the S3 adapter (s3-session-store.ts) in AWS and locally.
 *
 * - `save` replaces the snapshot in one write; the previous one is never deleted first, so a crash
 *   mid-save leaves the last good snapshot.
 * - `delete` is for a logout or an explicit unlink (or leaving QR mode) only.
 * - Errors surface (a failed read is not "no session": that would force a new QR).
 */
export interface SessionSnapshotStore {
  load(tenantId: string): Promise<Uint8Array | undefined>;
  save(tenantId: string, snapshot: Uint8Array): Promise<void>;
  delete(tenantId: string): Promise<void>;
  exists(tenantId: string): Promise<boolean>;
}
