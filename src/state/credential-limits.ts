import { createRequire } from 'node:module';
import type { Redis } from 'ioredis';
import type { RedisState } from './redis.js';

/** The allowances of the credential endpoints: posts per client address and in all, per window. */
export interface CredentialAllowance {
  perAddress: number;
  global: number;
  windowMs: number;
}

export type LimitVerdict =
  | { allowed: true }
  | { allowed: false; limit: 'address' | 'global'; max: number; retryAfterSeconds: number };

/**
 * Counts a credential post against both limits. The address is counted first and the whole only when the
 * address is within its limit: one address flooding the server spends its own allowance, not everyone's.
 */
export interface CredentialLimiter {
  check(address: string): Promise<LimitVerdict>;
}

type Callback = (err: Error | null, res: { current: number; ttl: number } | null) => void;
interface FixedWindowStore {
  incr(key: string, cb: Callback, timeWindow: number, max: number): void;
}
const require = createRequire(import.meta.url);
// @fastify/rate-limit's in-process store: fixed windows in a bounded LRU.
const LocalStore = require('@fastify/rate-limit/store/LocalStore') as new (continueExceeding: boolean, exponentialBackoff: boolean) => FixedWindowStore;

const refused = (limit: 'address' | 'global', max: number, ttlMs: number): LimitVerdict => ({
  allowed: false,
  limit,
  max,
  retryAfterSeconds: Math.max(1, Math.ceil(ttlMs / 1000)),
});

/** The counters in this process (one server; a farm's while Redis is unreachable). */
export class LocalCredentialLimiter implements CredentialLimiter {
  private readonly store = new LocalStore(false, false);

  constructor(private readonly allowance: CredentialAllowance) {}

  private incr(key: string, max: number): Promise<{ current: number; ttl: number }> {
    return new Promise((resolve, reject) =>
      this.store.incr(key, (err, res) => (err || !res ? reject(err ?? new Error('rate-limit store answered nothing')) : resolve(res)), this.allowance.windowMs, max),
    );
  }

  async check(address: string): Promise<LimitVerdict> {
    const { perAddress, global } = this.allowance;
    const a = await this.incr(`ip:${address}`, perAddress);
    if (a.current > perAddress) return refused('address', perAddress, a.ttl);
    const g = await this.incr('all', global);
    if (g.current > global) return refused('global', global, g.ttl);
    return { allowed: true };
  }
}

// Both counters in one script: one round trip to Redis per credential post. Returns which limit refused
// (0 none, 1 address, 2 global) and that counter's remaining window.
const CHECK = `
local a = redis.call('INCR', KEYS[1])
if a == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
if a > tonumber(ARGV[2]) then return {1, redis.call('PTTL', KEYS[1])} end
local g = redis.call('INCR', KEYS[2])
if g == 1 then redis.call('PEXPIRE', KEYS[2], ARGV[1]) end
if g > tonumber(ARGV[3]) then return {2, redis.call('PTTL', KEYS[2])} end
return {0, 0}
`;

type WithCheck = Redis & { gatehouseCredentialLimits(addressKey: string, allKey: string, windowMs: number, perAddress: number, global: number): Promise<[number, number]> };

/** The farm's counters, in Redis: every server counts against the same limits. */
export class RedisCredentialLimiter implements CredentialLimiter {
  constructor(
    private readonly redis: RedisState,
    private readonly allowance: CredentialAllowance,
    /** While Redis is unreachable, each server allows the whole limit on its own. */
    private readonly fallback: CredentialLimiter = new LocalCredentialLimiter(allowance),
  ) {
    redis.client.defineCommand('gatehouseCredentialLimits', { numberOfKeys: 2, lua: CHECK });
  }

  async check(address: string): Promise<LimitVerdict> {
    if (!this.redis.ok) return this.fallback.check(address);
    const { perAddress, global, windowMs } = this.allowance;
    try {
      const c = this.redis.client as WithCheck;
      const [which, ttl] = await c.gatehouseCredentialLimits(this.redis.key('rate', `ip:${address}`), this.redis.key('rate', 'all'), windowMs, perAddress, global);
      if (which === 1) return refused('address', perAddress, ttl);
      if (which === 2) return refused('global', global, ttl);
      return { allowed: true };
    } catch (err) {
      this.redis.failed(err);
      return this.fallback.check(address);
    }
  }
}
