import type Database from 'better-sqlite3';

/**
 * Server-side revocation of single sign-on sessions. The session itself lives in a sealed cookie (no
 * server state per session); what the server keeps is the list of what may no longer be used: sessions
 * ended by sign-out (a copied cookie must not outlive it), and per account a cut-off time before which
 * every session is void (an admin's `gatehouse sessions revoke`, a password change, a disabled account).
 * Checked on every use of a session. Rows are dropped once the sessions they name have expired anyway.
 */
export interface SessionRevocations {
  /** Ends one session (by id) for good; `expires` is when it would have ended anyway. */
  revokeSession(sid: string, expires: number): Promise<void>;
  /** Voids every session of the account that started before `before` (ms since epoch). */
  revokeAccount(account: string, before: number, keepUntil: number): Promise<void>;
  /** True when the session was ended or its account's sessions were revoked after it started. */
  isRevoked(session: { sid: string; account?: string | undefined; authInstant: number }): Promise<boolean>;
}

/**
 * Voids every session of an account that started before `now`. The record is kept as long as the longest
 * session could last (keep-me-signed-in or not): any session older than that has expired anyway.
 */
export function revokeAccountSessions(
  revocations: SessionRevocations,
  account: string,
  session: { lifetimeMinutes: number; keepMeSignedInMinutes: number },
  now = Date.now(),
): Promise<void> {
  const longest = Math.max(session.lifetimeMinutes, session.keepMeSignedInMinutes) * 60_000;
  return revocations.revokeAccount(account, now, now + longest);
}

/** In the server's embedded SQLite database (shared by the server processes of one host). */
export class SqliteSessionRevocations implements SessionRevocations {
  private readonly insertSession: Database.Statement<[string, number]>;
  private readonly insertAccount: Database.Statement<[string, number, number]>;
  private readonly check: Database.Statement<[{ sid: string; account: string; at: number }], { n: number }>;
  private lastPurge = 0;

  constructor(private readonly db: Database.Database) {
    db.exec(`CREATE TABLE IF NOT EXISTS revoked_sessions (
      sid TEXT PRIMARY KEY,
      expires INTEGER NOT NULL           -- ms; the row is useless after this
    );
    CREATE TABLE IF NOT EXISTS revoked_accounts (
      account TEXT PRIMARY KEY,          -- objectGUID (hex)
      before INTEGER NOT NULL,           -- sessions that started earlier are void
      keep_until INTEGER NOT NULL
    )`);
    this.insertSession = db.prepare('INSERT OR REPLACE INTO revoked_sessions (sid, expires) VALUES (?, ?)');
    this.insertAccount = db.prepare(
      `INSERT INTO revoked_accounts (account, before, keep_until) VALUES (?, ?, ?)
       ON CONFLICT(account) DO UPDATE SET before = max(before, excluded.before), keep_until = max(keep_until, excluded.keep_until)`,
    );
    this.check = db.prepare(
      `SELECT (SELECT count(*) FROM revoked_sessions WHERE sid = @sid)
            + (SELECT count(*) FROM revoked_accounts WHERE account = @account AND before > @at) AS n`,
    );
  }

  async revokeSession(sid: string, expires: number): Promise<void> {
    this.insertSession.run(sid, expires);
    this.tidy();
  }

  async revokeAccount(account: string, before: number, keepUntil: number): Promise<void> {
    this.insertAccount.run(account, before, keepUntil);
  }

  async isRevoked(session: { sid: string; account?: string | undefined; authInstant: number }): Promise<boolean> {
    return this.check.get({ sid: session.sid, account: session.account ?? '', at: session.authInstant })!.n > 0;
  }

  private tidy(now = Date.now()): void {
    if (now - this.lastPurge < 3_600_000) return;
    this.lastPurge = now;
    this.db.prepare('DELETE FROM revoked_sessions WHERE expires < ?').run(now);
    this.db.prepare('DELETE FROM revoked_accounts WHERE keep_until < ?').run(now);
  }
}
