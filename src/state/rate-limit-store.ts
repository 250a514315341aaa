import { createRequire } from 'node:module';
import type { RedisState } from './redis.js';

type Callback = (err: Error | null, res: { current: number; ttl: number } | null) => void;
interface Store {
  incr(key: string, cb: Callback, timeWindow: number, max: number): void;
  read?(key: string, cb: Callback, timeWindow: number, max: number): void;
  child(routeOptions: unknown): Store;
}
type StoreCtor = new (...args: unknown[]) => Store;

const require = createRequire(import.meta.url);
// @fastify/rate-limit's own stores: the Redis one (a Lua INCR + PEXPIRE) and the in-process LRU.
const RedisStore = require('@fastify/rate-limit/store/RedisStore') as StoreCtor;
const LocalStore = require('@fastify/rate-limit/store/LocalStore') as StoreCtor;

/**
 * A @fastify/rate-limit store for the farm: the counters are in Redis (every server counts against the
 * same per-address and global limits), and in this process while Redis is unreachable (each server then
 * allows the whole limit on its own).
 */
export function farmRateLimitStore(redis: RedisState): StoreCtor {
  class FarmStore implements Store {
    constructor(
      private readonly shared: Store,
      private readonly local: Store,
    ) {}

    incr(key: string, cb: Callback, timeWindow: number, max: number): void {
      if (!redis.ok) return this.local.incr(key, cb, timeWindow, max);
      this.shared.incr(
        key,
        (err, res) => {
          if (!err) return cb(null, res);
          redis.failed(err);
          this.local.incr(key, cb, timeWindow, max);
        },
        timeWindow,
        max,
      );
    }

    child(routeOptions: unknown): Store {
      return new FarmStore(this.shared.child(routeOptions), this.local.child(routeOptions));
    }
  }
  // The plugin calls `new Store(globalParams)`.
  return class extends FarmStore {
    constructor(params: { continueExceeding?: boolean; exponentialBackoff?: boolean }) {
      super(
        new RedisStore(params.continueExceeding, params.exponentialBackoff, redis.client, redis.key('rate-limit', '')),
        new LocalStore(params.continueExceeding, params.exponentialBackoff),
      );
    }
  } as unknown as StoreCtor;
}
