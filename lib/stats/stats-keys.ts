import type { KeyRange } from '../conversation/keys.ts';
import { clientKeys } from '../tenants/client.ts';
import type { HourId } from './hour-buckets.ts';

/**
 * The keys of the per-tenant hourly statistics: one item per tenant per UTC hour, in the tenant's own
 * partition (the client's, as the client entity spells it), so the tenant id is the first segment of
 * the key and deleting a tenant's partition deletes its statistics too. Only these builders spell
 * the keys.
 */

const tenantPartition = (tenantId: string) => clientKeys.profile(tenantId).pk;

const STATS = 'STATS#';

export const statsKeys = {
  hour: (tenantId: string, hour: HourId) => ({ pk: tenantPartition(tenantId), sk: `${STATS}${hour}` }),
  /** The buckets of a tenant from hour `first` to hour `last`, both included. */
  hours: (tenantId: string, first: HourId, last: HourId): KeyRange => ({
    pk: tenantPartition(tenantId),
    from: `${STATS}${first}`,
    to: `${STATS}${last}`,
  }),
};
