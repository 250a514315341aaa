import type Database from 'better-sqlite3';
import type { RedisState } from './redis.js';

/** What a replay cache does while the shared store is unreachable. */
export type WhenUnavailable = 'refuse' | 'local';

export class ReplayStoreUnavailable extends Error {
  override name = 'ReplayStoreUnavailable';
}

/**
 * Messages that may be used once (a SAML AuthnRequest ID, a WS-Trust MessageID): `firstUse` is true the
 * first time a key is seen within `ttlMs`, false after. With Redis the whole farm shares it (SET NX).
 */
export interface ReplayCache {
  /**
   * @param whenUnavailable farm mode with Redis unreachable: 'local' checks this server's own cache, 'refuse' throws
   *   ReplayStoreUnavailable (the caller answers "try again later").
   */
  firstUse(key: string, ttlMs: number, whenUnavailable: WhenUnavailable): Promise<boolean>;
}

/** In the embedded database: shared by the server processes of a host. */
export class SqliteReplayCache implements ReplayCache {
  private readonly insert: Database.Statement<[string, number, number]>;
  private lastPurge = 0;

  constructor(private readonly db: Database.Database) {
    db.exec(`CREATE TABLE IF NOT EXISTS replay_cache (
      key TEXT PRIMARY KEY,
      expires INTEGER NOT NULL           -- ms; forgotten after this
    )`);
    // An expired row is taken over; a live one is kept (changes() = 0: seen before).
    this.insert = db.prepare(
      `INSERT INTO replay_cache (key, expires) VALUES (?, ?)
       ON CONFLICT(key) DO UPDATE SET expires = excluded.expires WHERE replay_cache.expires < ?`,
    );
  }

  async firstUse(key: string, ttlMs: number): Promise<boolean> {
    const now = Date.now();
    if (now - this.lastPurge > 60_000) {
      this.lastPurge = now;
      this.db.prepare('DELETE FROM replay_cache WHERE expires < ?').run(now);
    }
    return this.insert.run(key, now + ttlMs, now).changes > 0;
  }
}

/** In Redis for the farm (one SET NX PX), with the local cache or a refusal while Redis is unreachable. */
export class RedisReplayCache implements ReplayCache {
  constructor(
    private readonly redis: RedisState,
    private readonly local: SqliteReplayCache,
  ) {}

  async firstUse(key: string, ttlMs: number, whenUnavailable: WhenUnavailable): Promise<boolean> {
    if (this.redis.ok) {
      try {
        return (await this.redis.client.set(this.redis.key('replay', key), '1', 'PX', ttlMs, 'NX')) === 'OK';
      } catch (err) {
        this.redis.failed(err);
      }
    }
    if (whenUnavailable === 'refuse') throw new ReplayStoreUnavailable('the farm replay cache (Redis) is unreachable');
    return this.local.firstUse(key, ttlMs);
  }
}
