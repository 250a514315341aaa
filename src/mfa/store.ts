import type Database from 'better-sqlite3';
import type { RedisState } from '../state/redis.js';

/**
 * One user's enrolment as stored: who (the account's objectGUID in hex, and the UPN for the admin
 * listing), which kinds of factor (for the listing, no secrets), and the factors themselves sealed with
 * the MFA key (enrolment.ts). Nothing secret is ever stored or logged in the clear.
 */
export interface StoredEnrolment {
  account: string;
  upn: string;
  /** Kinds enrolled, for `gatehouse mfa list`: totp, recovery. */
  factors: string[];
  /** The sealed factors (AES-256-GCM). */
  sealed: string;
  /** Last change (ms since epoch). */
  updated: number;
}

/** The farm's Redis did not answer: MFA cannot be checked on this server's own copy (there is none). */
export class MfaStoreUnavailable extends Error {
  override name = 'MfaStoreUnavailable';
}

/**
 * Where enrolments and the second factor's wrong-code counters live: the embedded SQLite database on one
 * server, Redis in a farm (every server must see the same factors and the same lockout).
 */
export interface MfaStore {
  get(account: string): Promise<StoredEnrolment | undefined>;
  put(e: StoredEnrolment): Promise<void>;
  /** @returns whether there was an enrolment to remove. */
  remove(account: string): Promise<boolean>;
  list(): Promise<Omit<StoredEnrolment, 'sealed'>[]>;
  /** Counts one wrong code; the count is forgotten `ttlMs` after the last one. @returns the count now. */
  fail(account: string, ttlMs: number): Promise<number>;
  failures(account: string): Promise<number>;
  clearFailures(account: string): Promise<void>;
}

export class SqliteMfaStore implements MfaStore {
  constructor(private readonly db: Database.Database) {
    db.exec(`CREATE TABLE IF NOT EXISTS mfa_enrolments (
      account TEXT PRIMARY KEY,          -- objectGUID, hex
      upn TEXT NOT NULL,
      factors TEXT NOT NULL,             -- comma-separated kinds
      sealed TEXT NOT NULL,              -- the factors, encrypted with the MFA key
      updated INTEGER NOT NULL
    );
    CREATE TABLE IF NOT EXISTS mfa_failures (
      account TEXT PRIMARY KEY,
      count INTEGER NOT NULL,
      expires INTEGER NOT NULL
    )`);
  }

  async get(account: string): Promise<StoredEnrolment | undefined> {
    const row = this.db.prepare('SELECT account, upn, factors, sealed, updated FROM mfa_enrolments WHERE account = ?').get(account) as
      | (Omit<StoredEnrolment, 'factors'> & { factors: string })
      | undefined;
    return row ? { ...row, factors: row.factors ? row.factors.split(',') : [] } : undefined;
  }

  async put(e: StoredEnrolment): Promise<void> {
    this.db
      .prepare(
        `INSERT INTO mfa_enrolments (account, upn, factors, sealed, updated) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT(account) DO UPDATE SET upn = excluded.upn, factors = excluded.factors, sealed = excluded.sealed, updated = excluded.updated`,
      )
      .run(e.account, e.upn, e.factors.join(','), e.sealed, e.updated);
  }

  async remove(account: string): Promise<boolean> {
    this.db.prepare('DELETE FROM mfa_failures WHERE account = ?').run(account);
    return this.db.prepare('DELETE FROM mfa_enrolments WHERE account = ?').run(account).changes > 0;
  }

  async list(): Promise<Omit<StoredEnrolment, 'sealed'>[]> {
    const rows = this.db.prepare('SELECT account, upn, factors, updated FROM mfa_enrolments ORDER BY upn').all() as { account: string; upn: string; factors: string; updated: number }[];
    return rows.map((r) => ({ ...r, factors: r.factors ? r.factors.split(',') : [] }));
  }

  async fail(account: string, ttlMs: number): Promise<number> {
    const now = Date.now();
    const row = this.db
      .prepare(
        `INSERT INTO mfa_failures (account, count, expires) VALUES (?, 1, ?)
         ON CONFLICT(account) DO UPDATE SET count = CASE WHEN mfa_failures.expires < ? THEN 1 ELSE mfa_failures.count + 1 END, expires = excluded.expires
         RETURNING count`,
      )
      .get(account, now + ttlMs, now) as { count: number };
    return row.count;
  }

  async failures(account: string): Promise<number> {
    const row = this.db.prepare('SELECT count FROM mfa_failures WHERE account = ? AND expires >= ?').get(account, Date.now()) as { count: number } | undefined;
    return row?.count ?? 0;
  }

  async clearFailures(account: string): Promise<void> {
    this.db.prepare('DELETE FROM mfa_failures WHERE account = ?').run(account);
  }
}

/**
 * The farm's store: one Redis hash of enrolments, one counter key per user. While Redis is unreachable
 * the second factor cannot be checked (MfaStoreUnavailable: the user is asked to try again), since a
 * server's own database holds no enrolments in a farm.
 */
export class RedisMfaStore implements MfaStore {
  constructor(private readonly redis: RedisState) {}

  private async run<T>(fn: () => Promise<T>): Promise<T> {
    if (!this.redis.ok) throw new MfaStoreUnavailable('the farm store (Redis) is unreachable');
    try {
      return await fn();
    } catch (err) {
      this.redis.failed(err);
      throw new MfaStoreUnavailable(`the farm store (Redis) failed: ${(err as Error).message}`);
    }
  }

  private get hash(): string {
    return this.redis.key('mfa', 'enrolments');
  }

  async get(account: string): Promise<StoredEnrolment | undefined> {
    const raw = await this.run(() => this.redis.client.hget(this.hash, account));
    return raw ? (JSON.parse(raw) as StoredEnrolment) : undefined;
  }

  async put(e: StoredEnrolment): Promise<void> {
    await this.run(() => this.redis.client.hset(this.hash, e.account, JSON.stringify(e)));
  }

  async remove(account: string): Promise<boolean> {
    return this.run(async () => {
      await this.redis.client.del(this.redis.key('mfa', 'fail', account));
      return (await this.redis.client.hdel(this.hash, account)) > 0;
    });
  }

  async list(): Promise<Omit<StoredEnrolment, 'sealed'>[]> {
    const all = await this.run(() => this.redis.client.hgetall(this.hash));
    return Object.values(all)
      .map((v) => {
        const { sealed: _sealed, ...rest } = JSON.parse(v) as StoredEnrolment;
        return rest;
      })
      .sort((a, b) => a.upn.localeCompare(b.upn));
  }

  async fail(account: string, ttlMs: number): Promise<number> {
    const key = this.redis.key('mfa', 'fail', account);
    return this.run(async () => {
      const [[, count]] = (await this.redis.client.multi().incr(key).pexpire(key, ttlMs).exec()) as [[unknown, number], unknown];
      return count;
    });
  }

  async failures(account: string): Promise<number> {
    return Number((await this.run(() => this.redis.client.get(this.redis.key('mfa', 'fail', account)))) ?? 0);
  }

  async clearFailures(account: string): Promise<void> {
    await this.run(() => this.redis.client.del(this.redis.key('mfa', 'fail', account)));
  }
}
