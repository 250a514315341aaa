import type Database from 'better-sqlite3';
import type { Logger } from 'pino';
import type { Config } from '../config/load.js';
import { SqliteSessionRevocations, type SessionRevocations } from '../authn/session-revocations.js';
import { LockoutStore, type AccountActivityStore } from '../lockout/lockout-store.js';
import { openStateDatabase } from '../state/database.js';
import { RedisLockoutStore } from '../lockout/redis-store.js';
import { LocalCredentialLimiter, RedisCredentialLimiter, type CredentialAllowance, type CredentialLimiter } from '../state/credential-limits.js';
import { RedisState, type RedisHealth } from '../state/redis.js';
import { RedisReplayCache, SqliteReplayCache, type ReplayCache } from '../state/replay-cache.js';
import { RedisSessionRevocations } from '../authn/session-revocations-redis.js';
import { RedisMfaStore, SqliteMfaStore, type MfaStore } from '../mfa/store.js';
import type { ActivityStore } from '../activity/events.js';
import { SqliteActivityStore } from '../activity/sqlite-store.js';
import { RedisActivityStore } from '../activity/redis-store.js';

type Log = Pick<Logger, 'info' | 'warn' | 'error'>;

export interface StateDescription {
  /** sqlite: this server's own state (stateDir/gatehouse.db); redis: the farm's. */
  backend: 'sqlite' | 'redis';
  status: 'ok' | 'fallback';
  redis?: RedisHealth;
}

/**
 * Every piece of state a server keeps beyond one request, behind one object: smart-lockout counters,
 * session revocations, replay caches and the rate-limit counters. Without `state.redis.url` all of it is
 * in the embedded SQLite database, as a single server always had it; with it, in Redis, with the SQLite
 * database as the fallback while Redis is unreachable.
 */
export interface StateStores {
  readonly backend: 'sqlite' | 'redis';
  readonly db: Database.Database;
  readonly redis: RedisState | undefined;
  readonly lockout: AccountActivityStore;
  readonly revocations: SessionRevocations;
  readonly replay: ReplayCache;
  /** Second-factor enrolments and wrong-code counters (no fallback in a farm: there is no local copy). */
  readonly mfa: MfaStore;
  /** The audit events the activity view shows (`activity.retentionDays`). */
  readonly activity: ActivityStore;
  /** Rate-limit counters of the credential endpoints: in this process, or the farm's in Redis. */
  credentialLimiter(allowance: CredentialAllowance): CredentialLimiter;
  describe(): StateDescription;
  close(): Promise<void>;
}

/** Opens the state of `config`: SQLite alone, or Redis with SQLite as the fallback. Never fails on Redis being down. */
export async function openState(config: Pick<Config, 'stateDir' | 'state'> & { activity?: Pick<Config['activity'], 'retentionDays'> }, log: Log, opts: { subscribe?: boolean } = {}): Promise<StateStores> {
  const db = openStateDatabase(config.stateDir);
  const local = { lockout: new LockoutStore(db), revocations: new SqliteSessionRevocations(db), replay: new SqliteReplayCache(db), activity: new SqliteActivityStore(db) };
  const retentionMs = (config.activity?.retentionDays ?? 14) * 86_400_000;
  if (!config.state.redis.url) {
    return {
      backend: 'sqlite',
      db,
      redis: undefined,
      ...local,
      mfa: new SqliteMfaStore(db),
      credentialLimiter: (allowance) => new LocalCredentialLimiter(allowance),
      describe: () => ({ backend: 'sqlite', status: 'ok' }),
      close: async () => void db.close(),
    };
  }
  const redis = new RedisState(config.state.redis, log);
  const revocations = new RedisSessionRevocations(redis, local.revocations, log);
  await redis.connect();
  if (opts.subscribe !== false) await revocations.start();
  return {
    backend: 'redis',
    db,
    redis,
    lockout: new RedisLockoutStore(redis, local.lockout),
    revocations,
    replay: new RedisReplayCache(redis, local.replay),
    mfa: new RedisMfaStore(redis),
    activity: new RedisActivityStore(redis, retentionMs),
    credentialLimiter: (allowance) => new RedisCredentialLimiter(redis, allowance),
    describe: () => ({ backend: 'redis', status: redis.ok ? 'ok' : 'fallback', redis: redis.describe() }),
    close: async () => {
      await revocations.stop();
      await redis.close();
      db.close();
    },
  };
}
