import type Database from 'better-sqlite3';
import { EMPTY_ACTIVITY, type AccountActivity, type Location } from './smart-lockout.js';

export interface AccountActivityRow extends AccountActivity {
  account: string;
  userName: string;
}

/** Where the store took a change: the shared state, or this server's own while the shared one is unreachable. */
export interface ApplyContext {
  fallback: boolean;
}

/**
 * Lockout counters per account: `apply` is one atomic read-modify-write that returns a result. Two
 * implementations: the embedded SQLite database below (one server, and its workers) and Redis for a farm
 * (src/state/lockout-redis.ts), which falls back to this one while Redis is unreachable.
 */
export interface AccountActivityStore {
  apply<T>(account: string, userName: string, change: (a: AccountActivity, ctx: ApplyContext) => { next: AccountActivity; result: T }, now?: number): T | Promise<T>;
  /** Starts reading an account's counters ahead of `apply` (a farm: the round trip overlaps the directory look-up). */
  prefetch?(account: string): void;
  list(userName?: string): AccountActivityRow[] | Promise<AccountActivityRow[]>;
  reset(userName: string, location?: Location): number | Promise<number>;
}

type Change<T> = (a: AccountActivity, ctx: ApplyContext) => { next: AccountActivity; result: T };

/** Lockout counters per account, in the embedded SQLite database (they survive restarts). */
export class LockoutStore implements AccountActivityStore {
  private readonly getStmt: Database.Statement<[string], { data: string }>;
  private readonly putStmt: Database.Statement<[string, string, string, number]>;
  private readonly readModifyWrite: Database.Transaction<(account: string, userName: string, change: Change<unknown>, now: number, ctx: ApplyContext) => unknown>;

  constructor(private readonly db: Database.Database) {
    db.exec(`CREATE TABLE IF NOT EXISTS account_activity (
      account TEXT PRIMARY KEY,      -- objectGUID (hex): survives renames
      user_name TEXT NOT NULL,       -- UPN or sAMAccountName, for admins
      data TEXT NOT NULL,            -- AccountActivity as JSON
      updated INTEGER NOT NULL
    )`);
    this.getStmt = db.prepare('SELECT data FROM account_activity WHERE account = ?');
    this.putStmt = db.prepare(
      `INSERT INTO account_activity (account, user_name, data, updated) VALUES (?, ?, ?, ?)
       ON CONFLICT(account) DO UPDATE SET user_name = excluded.user_name, data = excluded.data, updated = excluded.updated`,
    );
    // Made once: every sign-in runs it twice (reserve, settle).
    this.readModifyWrite = db.transaction((account: string, userName: string, change: Change<unknown>, now: number, ctx: ApplyContext) => {
      const before = this.get(account);
      const { next, result } = change(before, ctx);
      if (next !== before) this.putStmt.run(account, userName, JSON.stringify(next), now);
      return result;
    });
  }

  get(account: string): AccountActivity {
    const row = this.getStmt.get(account);
    return row ? (JSON.parse(row.data) as AccountActivity) : EMPTY_ACTIVITY;
  }

  /** Read-modify-write in one transaction, so concurrent requests don't lose a count. */
  update(account: string, userName: string, change: (a: AccountActivity) => AccountActivity, now = Date.now()): AccountActivity {
    return this.apply(account, userName, (a) => {
      const next = change(a);
      return { next, result: next };
    }, now);
  }

  /**
   * Read-modify-write that also returns a result (a reservation's decision). BEGIN IMMEDIATE takes the
   * write lock before the read, so the server processes of one host (workers) serialise here too.
   */
  apply<T>(account: string, userName: string, change: Change<T>, now = Date.now(), ctx: ApplyContext = { fallback: false }): T {
    return this.readModifyWrite.immediate(account, userName, change, now, ctx) as T;
  }



  list(userName?: string): AccountActivityRow[] {
    const rows = (
      userName
        ? this.db.prepare('SELECT account, user_name, data FROM account_activity WHERE lower(user_name) = lower(?)').all(userName)
        : this.db.prepare('SELECT account, user_name, data FROM account_activity ORDER BY updated DESC').all()
    ) as { account: string; user_name: string; data: string }[];
    return rows.map((r) => ({ account: r.account, userName: r.user_name, ...(JSON.parse(r.data) as AccountActivity) }));
  }

  /** Clears the bad-password counters (of one location, or both); familiar addresses are kept. */
  reset(userName: string, location?: Location): number {
    let n = 0;
    for (const row of this.list(userName)) {
      this.update(row.account, row.userName, (a) => ({
        ...a,
        ...(location !== 'unknown' ? { badFamiliar: 0, lastBadFamiliar: 0 } : {}),
        ...(location !== 'familiar' ? { badUnknown: 0, lastBadUnknown: 0 } : {}),
      }));
      n++;
    }
    return n;
  }
}
