import type Database from 'better-sqlite3';
import { BAD_PASSWORD_REASONS, type ActivityEvent, type ActivityStore, type SpraySource } from './events.js';

interface Row {
  time: number;
  kind: ActivityEvent['kind'];
  user: string;
  outcome: ActivityEvent['outcome'];
  reason: string | null;
  protocol: string | null;
  realm: string | null;
  addresses: string;
  correlation_id: string | null;
  detail: string | null;
  no_account: number;
}

/** At most this many events are kept, whatever the retention. */
export const MAX_ROWS = 1_000_000;

/** Audit events in the embedded database (stateDir/gatehouse.db), shared by the server processes of a host. */
export class SqliteActivityStore implements ActivityStore {
  private readonly insert: Database.Statement;

  constructor(private readonly db: Database.Database) {
    db.exec(`CREATE TABLE IF NOT EXISTS activity_events (
      time INTEGER NOT NULL,          -- ms since epoch
      kind TEXT NOT NULL,
      user TEXT NOT NULL,             -- as shown
      user_key TEXT NOT NULL,         -- lower case, for look-ups
      outcome TEXT NOT NULL,
      reason TEXT,
      protocol TEXT,
      realm TEXT,
      source TEXT,                    -- first address: what the spray report groups by
      addresses TEXT NOT NULL,        -- JSON array
      correlation_id TEXT,
      detail TEXT,
      no_account INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX IF NOT EXISTS activity_by_time ON activity_events (time);
    CREATE INDEX IF NOT EXISTS activity_by_user ON activity_events (user_key, time)`);
    this.insert = db.prepare(
      `INSERT INTO activity_events (time, kind, user, user_key, outcome, reason, protocol, realm, source, addresses, correlation_id, detail, no_account)
       VALUES (@time, @kind, @user, @userKey, @outcome, @reason, @protocol, @realm, @source, @addresses, @correlationId, @detail, @noAccount)`,
    );
  }

  add(events: ActivityEvent[]): void {
    // One transaction for the batch: one write to the WAL, whatever the number of events.
    this.db.transaction(() => {
      for (const e of events) {
        this.insert.run({
          time: e.time,
          kind: e.kind,
          user: e.user,
          userKey: e.user.toLowerCase(),
          outcome: e.outcome,
          reason: e.reason ?? null,
          protocol: e.protocol ?? null,
          realm: e.realm ?? null,
          source: e.addresses[0] ?? null,
          addresses: JSON.stringify(e.addresses),
          correlationId: e.correlationId ?? null,
          detail: e.detail ?? null,
          noAccount: e.noAccount ? 1 : 0,
        });
      }
    })();
  }

  recent({ user, limit }: { user?: string | undefined; limit: number }): ActivityEvent[] {
    const rows = (
      user
        ? this.db.prepare('SELECT * FROM activity_events WHERE user_key = ? ORDER BY time DESC, rowid DESC LIMIT ?').all(user.toLowerCase(), limit)
        : this.db.prepare('SELECT * FROM activity_events ORDER BY time DESC, rowid DESC LIMIT ?').all(limit)
    ) as Row[];
    return rows.map((r) => ({
      time: r.time,
      kind: r.kind,
      user: r.user,
      outcome: r.outcome,
      ...(r.reason ? { reason: r.reason } : {}),
      ...(r.protocol ? { protocol: r.protocol } : {}),
      ...(r.realm ? { realm: r.realm } : {}),
      addresses: JSON.parse(r.addresses) as string[],
      ...(r.correlation_id ? { correlationId: r.correlation_id } : {}),
      ...(r.detail ? { detail: r.detail } : {}),
      ...(r.no_account ? { noAccount: true as const } : {}),
    }));
  }

  spray({ since, limit }: { since: number; limit: number }): SpraySource[] {
    const reasons = BAD_PASSWORD_REASONS.map(() => '?').join(', ');
    return this.db
      .prepare(
        `SELECT coalesce(source, 'unknown') AS address, count(*) AS failures, count(DISTINCT user_key) AS users, min(time) AS first, max(time) AS last
         FROM activity_events
         WHERE time >= ? AND kind IN ('signin_attempt', 'password_change') AND outcome = 'failure' AND reason IN (${reasons})
         GROUP BY source ORDER BY failures DESC, last DESC LIMIT ?`,
      )
      .all(since, ...BAD_PASSWORD_REASONS, limit) as SpraySource[];
  }

  /** Forgets events older than `before`, and the oldest beyond MAX_ROWS (a spray must not fill the disk). */
  purge(before: number): void {
    this.db.prepare('DELETE FROM activity_events WHERE time < ?').run(before);
    this.db.prepare('DELETE FROM activity_events WHERE rowid <= (SELECT rowid FROM activity_events ORDER BY rowid DESC LIMIT 1 OFFSET ?)').run(MAX_ROWS);
  }
}
