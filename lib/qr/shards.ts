import { createHash } from 'node:crypto';

/**
 * How QR-mode tenants are spread over shards, and how a QR tenant is named where the spine expects
 * a Cloud API phone number id. A shard is a group of tenants whose sessions one runner task hosts
 * (its lease: shard-lease.ts); shard `i` has the command queue `QR_COMMAND_QUEUE_URLS[i]`, so the
 * number of shards is the number of command queues.
 *
 * A tenant's shard is a hash of its id: stable while the shard count stays. The runner learns its
 * shard's tenants from membership items (`QRSHARD#<shard>` / `CLIENT#<id>`), written when a tenant
 * switches to QR mode and deleted when it switches back, and from `start` commands.
 */

/** The phone number id of a QR tenant on the inbound queue and in its client record. */
export function qrPhoneNumberId(tenantId: string): string {
  return `qr:${tenantId}`;
}

export function isQrPhoneNumberId(phoneNumberId: string): boolean {
  return phoneNumberId.startsWith('qr:');
}

/** The tenant of a QR phone number id, or undefined for a Cloud API one. */
export function tenantOfQrPhoneNumberId(phoneNumberId: string): string | undefined {
  return isQrPhoneNumberId(phoneNumberId) ? phoneNumberId.slice(3) : undefined;
}

/** The shard (`"0"` … `"<count - 1>"`) that hosts a tenant's QR session. */
export function shardOf(tenantId: string, shardCount: number): string {
  if (!Number.isInteger(shardCount) || shardCount < 1) throw new RangeError('shardCount must be ≥ 1');
  const digest = createHash('sha256').update(tenantId).digest();
  return String(digest.readUInt32BE(0) % shardCount);
}

export const shardMembershipKeys = {
  /** The partition of a shard (its lease and its members). */
  partition: (shard: string) => `QRSHARD#${shard}`,
  member: (shard: string, tenantId: string) => ({ pk: `QRSHARD#${shard}`, sk: `CLIENT#${tenantId}` }),
  memberPrefix: 'CLIENT#',
};
