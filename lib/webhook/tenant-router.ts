import type { PhoneRoute } from '../tenants/client-repository.ts';

/** Finds which tenant a phone_number_id belongs to. */
export interface TenantRouter {
  resolve(phoneNumberId: string): Promise<PhoneRoute | undefined>;
}

/**
 * Caches routes in the (warm) webhook process so a burst of deliveries costs one lookup per number.
 * Unknown numbers are cached for less time than known ones, so a newly created client is reached
 * quickly. A stale "active" is harmless: the assistant re-reads the client before answering.
 */
export function createCachedTenantRouter(
  lookup: (phoneNumberId: string) => Promise<PhoneRoute | undefined>,
  options: { ttlMs?: number; missTtlMs?: number; maxEntries?: number; now?: () => number } = {},
): TenantRouter & { clear(): void } {
  const ttlMs = options.ttlMs ?? 60_000;
  const missTtlMs = options.missTtlMs ?? 5_000;
  const maxEntries = options.maxEntries ?? 10_000;
  const now = options.now ?? Date.now;
  const cache = new Map<string, { route: PhoneRoute | undefined; expires: number }>();
  const inFlight = new Map<string, Promise<PhoneRoute | undefined>>();
  return {
    async resolve(phoneNumberId) {
      const hit = cache.get(phoneNumberId);
      if (hit && hit.expires > now()) return hit.route;
      let pending = inFlight.get(phoneNumberId);
      if (!pending) {
        pending = lookup(phoneNumberId).finally(() => inFlight.delete(phoneNumberId));
        inFlight.set(phoneNumberId, pending);
      }
      const route = await pending;
      if (cache.size >= maxEntries) cache.delete(cache.keys().next().value as string);
      cache.set(phoneNumberId, { route, expires: now() + (route ? ttlMs : missTtlMs) });
      return route;
    },
    clear() {
      cache.clear();
    },
  };
}
