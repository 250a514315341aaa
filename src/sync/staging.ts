import type Database from 'better-sqlite3';
import type { GraphUserProps, MappedUser } from './mapping.js';
import type { CloudLookup, CloudUser } from './plan.js';
import type { SyncState } from './state.js';

interface StagedRow {
  guid: string;
  kind: 'user' | 'skip';
  dn: string;
  immutable_id: string;
  props: string | null;
  reason: string | null;
}

interface CloudRow {
  id: string;
  props: string;
}

/**
 * A full cycle's working set (like Azure AD Connect's connector space): every in-scope AD user and every
 * Entra user, in SQLite temporary tables on the state's connection rather than in the heap, so the memory
 * of a full cycle does not grow with the directory. Temporary tables live in a file of their own that
 * SQLite deletes when the connection closes; they work on a read-only connection too (dry runs).
 */
export class FullCycleStaging implements CloudLookup {
  private readonly db: Database.Database;

  constructor(private readonly state: SyncState) {
    this.db = state.db;
    this.db.exec(`
      DROP TABLE IF EXISTS temp.staged_users;
      DROP TABLE IF EXISTS temp.cloud_users;
      CREATE TEMP TABLE staged_users (guid TEXT PRIMARY KEY, kind TEXT NOT NULL, dn TEXT NOT NULL, immutable_id TEXT NOT NULL, props TEXT, reason TEXT);
      CREATE TEMP TABLE cloud_users (id TEXT PRIMARY KEY, immutable_id TEXT, upn TEXT, props TEXT NOT NULL);
      CREATE INDEX temp.cloud_users_immutable_id ON cloud_users(immutable_id);
      CREATE INDEX temp.cloud_users_upn ON cloud_users(upn);
    `);
  }

  private stmt(sql: string): Database.Statement {
    return this.state.stmt(sql);
  }

  /** Adds one page of mapped AD users; a user seen twice (overlapping OUs) is kept once. */
  addUsers(users: MappedUser[]): void {
    const insert = this.stmt('INSERT OR IGNORE INTO staged_users (guid, kind, dn, immutable_id, props, reason) VALUES (?, ?, ?, ?, ?, ?)');
    this.db.transaction(() => {
      for (const u of users) {
        insert.run(u.guid, u.kind, u.dn, u.immutableId, u.kind === 'user' ? JSON.stringify(u.props) : null, u.kind === 'skip' ? u.reason : null);
      }
    })();
  }

  addCloudUsers(users: CloudUser[]): void {
    const insert = this.stmt('INSERT OR REPLACE INTO cloud_users (id, immutable_id, upn, props) VALUES (?, ?, ?, ?)');
    this.db.transaction(() => {
      for (const u of users) {
        const upn = u.props.userPrincipalName ? String(u.props.userPrincipalName).toLowerCase() : null;
        insert.run(u.id, (u.props.onPremisesImmutableId as string | null) ?? null, upn, JSON.stringify(u.props));
      }
    })();
  }

  userCount(): number {
    return (this.stmt('SELECT count(*) AS n FROM staged_users').get() as { n: number }).n;
  }

  /** The staged users in pages of `size`, in the order AD returned them. */
  *userPages(size: number): Generator<MappedUser[]> {
    let after = 0;
    const page = this.stmt('SELECT rowid, * FROM staged_users WHERE rowid > ? ORDER BY rowid LIMIT ?');
    for (;;) {
      const rows = page.all(after, size) as (StagedRow & { rowid: number })[];
      if (rows.length === 0) return;
      after = rows[rows.length - 1]!.rowid;
      yield rows.map((r) =>
        r.kind === 'user'
          ? { kind: 'user', guid: r.guid, dn: r.dn, immutableId: r.immutable_id, props: JSON.parse(r.props!) as GraphUserProps }
          : { kind: 'skip', guid: r.guid, dn: r.dn, immutableId: r.immutable_id, reason: r.reason! },
      );
    }
  }

  /** Synced users (not yet removed) that this cycle did not find as exportable users in scope, with why. */
  gone(): { guid: string; reason: string }[] {
    const rows = this.stmt(
      `SELECT o.guid, s.reason FROM main.objects o LEFT JOIN staged_users s ON s.guid = o.guid
       WHERE o.status != 'removed' AND (s.guid IS NULL OR s.kind = 'skip')`,
    ).all() as { guid: string; reason: string | null }[];
    return rows.map((r) => ({ guid: r.guid, reason: r.reason ?? 'not in scope' }));
  }

  hasId(id: string): boolean {
    return this.stmt('SELECT 1 FROM cloud_users WHERE id = ?').get(id) !== undefined;
  }

  byImmutableId(immutableId: string): CloudUser | undefined {
    return this.cloud(this.stmt('SELECT id, props FROM cloud_users WHERE immutable_id = ? LIMIT 1').get(immutableId) as CloudRow | undefined);
  }

  byUpn(upn: string): CloudUser | undefined {
    return this.cloud(this.stmt('SELECT id, props FROM cloud_users WHERE upn = ? LIMIT 1').get(upn.toLowerCase()) as CloudRow | undefined);
  }

  private cloud(r: CloudRow | undefined): CloudUser | undefined {
    return r && { id: r.id, props: JSON.parse(r.props) as GraphUserProps };
  }
}
