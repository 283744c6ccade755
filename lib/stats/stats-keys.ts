import type { KeyRange } from '../conversation/keys.ts';
import { clientKeys } from '../tenants/client.ts';
import type { DayId } from './day-buckets.ts';
import type { HourId } from './hour-buckets.ts';

/**
 * The keys of the per-tenant statistics: one item per tenant per UTC hour and one per UTC day, in the tenant's own
 * partition (the client's, as the client entity spells it), so the tenant id is the first segment of
 * the key and deleting a tenant's partition deletes its statistics too. Only these builders spell
 * the keys.
 */

const tenantPartition = (tenantId: string) => clientKeys.profile(tenantId).pk;

const STATS = 'STATS#';
/** Days sort apart from hours: `STATSDAY#…` is never inside a `STATS#<hour>` range, nor the reverse. */
const STATS_DAY = 'STATSDAY#';
const PRICED = 'PRICED#';

export const statsKeys = {
  hour: (tenantId: string, hour: HourId) => ({ pk: tenantPartition(tenantId), sk: `${STATS}${hour}` }),
  /** The buckets of a tenant from hour `first` to hour `last`, both included. */
  hours: (tenantId: string, first: HourId, last: HourId): KeyRange => ({
    pk: tenantPartition(tenantId),
    from: `${STATS}${first}`,
    to: `${STATS}${last}`,
  }),
  day: (tenantId: string, day: DayId) => ({ pk: tenantPartition(tenantId), sk: `${STATS_DAY}${day}` }),
  /** The daily buckets of a tenant from day `first` to day `last`, both included. */
  days: (tenantId: string, first: DayId, last: DayId): KeyRange => ({
    pk: tenantPartition(tenantId),
    from: `${STATS_DAY}${first}`,
    to: `${STATS_DAY}${last}`,
  }),
  /** Marks a message whose billing was counted (once per wamid, however many statuses say it). */
  priced: (tenantId: string, messageId: string) => ({
    pk: tenantPartition(tenantId),
    sk: `${PRICED}${messageId}`,
  }),
  /** The day a daily bucket's sort key names. */
  dayOfKey: (sk: string): DayId | undefined =>
    sk.startsWith(STATS_DAY) ? sk.slice(STATS_DAY.length) : undefined,
};
