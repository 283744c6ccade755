import { type PhoneRoute, ROUTES_PER_BATCH } from '../tenants/client-repository.ts';
import { forEachConcurrently } from './for-each-concurrently.ts';

/** Finds which tenant a phone_number_id belongs to. */
export interface TenantRouter {
  resolve(phoneNumberId: string): Promise<PhoneRoute | undefined>;
  /**
   * The routes of many numbers (each distinct one looked up at most once): a number without a
   * route is absent from the map. Rejects when a lookup fails.
   */
  resolveMany(phoneNumberIds: readonly string[]): Promise<Map<string, PhoneRoute>>;
}

/** Where routes are read: one number at a time, or many (ClientRepository is one). */
export interface RouteStore {
  findRoute(phoneNumberId: string): Promise<PhoneRoute | undefined>;
  findRoutes(phoneNumberIds: readonly string[]): Promise<Map<string, PhoneRoute>>;
}

/** Single lookups at once, for a router built on a one-number lookup only (tests, the bench). */
export const LOOKUP_CONCURRENCY = 32;
/**
 * Batches (of ROUTES_PER_BATCH numbers, one BatchGetItem each) at once. The worst delivery Meta
 * signs names 30,000 numbers: 300 batches, 19 rounds of one request each (~10–20 ms apiece).
 */
export const BATCH_CONCURRENCY = 16;

export interface CachedTenantRouterOptions {
  ttlMs?: number;
  missTtlMs?: number;
  maxEntries?: number;
  now?: () => number;
  /** Numbers per findRoutes call (default ROUTES_PER_BATCH). */
  batchSize?: number;
  /** findRoutes calls at once (default BATCH_CONCURRENCY). */
  batchConcurrency?: number;
}

/**
 * Caches routes in the (warm) webhook process so a burst of deliveries costs one lookup per number.
 * Unknown numbers are cached for less time than known ones, so a newly created client is reached
 * quickly. A stale "active" is harmless: the assistant re-reads the client before answering.
 * At most maxEntries are kept, the least recently written evicted first: a delivery for more
 * distinct numbers than that (Meta may sign 30,000) only costs lookups, never memory, and
 * resolveMany looks each distinct number of a call up once whatever the cache keeps.
 * Given a RouteStore, resolveMany reads the numbers it has not cached in batches (findRoutes),
 * several at once; given a one-number lookup, it looks them up LOOKUP_CONCURRENCY at a time.
 */
export function createCachedTenantRouter(
  source: RouteStore | ((phoneNumberId: string) => Promise<PhoneRoute | undefined>),
  options: CachedTenantRouterOptions = {},
): TenantRouter & { clear(): void; size(): number } {
  const ttlMs = options.ttlMs ?? 60_000;
  const missTtlMs = options.missTtlMs ?? 5_000;
  const maxEntries = options.maxEntries ?? 10_000;
  const now = options.now ?? Date.now;
  const lookup =
    typeof source === 'function' ? source : (phoneNumberId: string) => source.findRoute(phoneNumberId);
  const lookupMany =
    typeof source === 'function'
      ? oneByOne(source)
      : inBatches(
          source,
          options.batchSize ?? ROUTES_PER_BATCH,
          options.batchConcurrency ?? BATCH_CONCURRENCY,
        );
  const cache = new Map<string, { route: PhoneRoute | undefined; expires: number }>();
  const inFlight = new Map<string, Promise<PhoneRoute | undefined>>();

  const cached = (phoneNumberId: string) => {
    const hit = cache.get(phoneNumberId);
    return hit && hit.expires > now() ? hit : undefined;
  };
  const remember = (phoneNumberId: string, route: PhoneRoute | undefined) => {
    // Re-inserted, not updated in place: a refreshed entry becomes the newest, and refreshing
    // never evicts another (concurrent lookups of one number all land here).
    cache.delete(phoneNumberId);
    if (cache.size >= maxEntries) cache.delete(cache.keys().next().value as string);
    cache.set(phoneNumberId, { route, expires: now() + (route ? ttlMs : missTtlMs) });
  };

  return {
    async resolve(phoneNumberId) {
      const hit = cached(phoneNumberId);
      if (hit) return hit.route;
      let pending = inFlight.get(phoneNumberId);
      if (!pending) {
        pending = lookup(phoneNumberId).finally(() => inFlight.delete(phoneNumberId));
        inFlight.set(phoneNumberId, pending);
      }
      const route = await pending;
      remember(phoneNumberId, route);
      return route;
    },

    async resolveMany(phoneNumberIds) {
      const found = new Map<string, PhoneRoute>();
      const misses: string[] = [];
      const awaited: Promise<void>[] = [];
      for (const id of new Set(phoneNumberIds)) {
        const hit = cached(id);
        if (hit) {
          if (hit.route) found.set(id, hit.route);
          continue;
        }
        const pending = inFlight.get(id);
        if (pending) {
          // Another call is reading it: its answer, not a second read.
          awaited.push(
            pending.then((route) => {
              if (route) found.set(id, route);
            }),
          );
        } else {
          misses.push(id);
        }
      }
      if (misses.length > 0) {
        const batch = lookupMany(misses);
        for (const id of misses) {
          const pending = batch.then((routes) => routes.get(id));
          pending.catch(() => {}); // awaited by whoever asks; a failure reaches them, and us below
          inFlight.set(id, pending);
        }
        awaited.push(
          batch
            .then((routes) => {
              for (const id of misses) {
                const route = routes.get(id);
                remember(id, route);
                if (route) found.set(id, route);
              }
            })
            .finally(() => {
              for (const id of misses) inFlight.delete(id);
            }),
        );
      }
      if (awaited.length > 0) await Promise.all(awaited); // none when every number was cached
      return found;
    },

    clear() {
      cache.clear();
    },
    size() {
      return cache.size;
    },
  };
}

function oneByOne(lookup: (phoneNumberId: string) => Promise<PhoneRoute | undefined>) {
  return async (phoneNumberIds: readonly string[]) => {
    const routes = new Map<string, PhoneRoute>();
    await forEachConcurrently(phoneNumberIds, LOOKUP_CONCURRENCY, async (id) => {
      const route = await lookup(id);
      if (route) routes.set(id, route);
    });
    return routes;
  };
}

function inBatches(store: RouteStore, batchSize: number, concurrency: number) {
  return async (phoneNumberIds: readonly string[]) => {
    const batches: string[][] = [];
    for (let start = 0; start < phoneNumberIds.length; start += batchSize) {
      batches.push(phoneNumberIds.slice(start, start + batchSize));
    }
    const routes = new Map<string, PhoneRoute>();
    await forEachConcurrently(batches, concurrency, async (batch) => {
      for (const [id, route] of await store.findRoutes(batch)) routes.set(id, route);
    });
    return routes;
  };
}
