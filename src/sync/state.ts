import { mkdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { GraphUserProps } from './mapping.js';

/**
 * - synced: exported; `exported` holds what Entra has.
 * - pending: a create was sent but its answer not recorded (the process may have died): look the user up
 *   by onPremisesImmutableId before creating it again.
 * - error: the last write failed; the next cycle reads the user again whatever the high-water mark says.
 * - removed: disabled or deleted in Entra because it left the scope or was deleted in AD.
 */
export type ObjectStatus = 'synced' | 'pending' | 'error' | 'removed';

export interface SyncedObject {
  guid: string;
  immutableId: string;
  dn: string;
  cloudId: string | null;
  exported: GraphUserProps | null;
  hash: string | null;
  status: ObjectStatus;
  error: string | null;
}

interface Row {
  guid: string;
  immutable_id: string;
  dn: string;
  cloud_id: string | null;
  exported: string | null;
  hash: string | null;
  status: ObjectStatus;
  error: string | null;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS objects (
  guid TEXT PRIMARY KEY,            -- AD objectGUID (hex): survives renames, moves and deletion
  immutable_id TEXT NOT NULL,       -- onPremisesImmutableId in Entra
  dn TEXT NOT NULL,
  cloud_id TEXT,                    -- Entra object id
  exported TEXT,                    -- JSON of the values last written to Entra
  hash TEXT,                        -- hash of exported
  status TEXT NOT NULL,
  error TEXT,
  updated_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS objects_status ON objects(status);
CREATE TABLE IF NOT EXISTS runs (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  started_at TEXT NOT NULL,
  finished_at TEXT,
  kind TEXT NOT NULL,
  outcome TEXT NOT NULL,
  summary TEXT
);
`;

function fromRow(r: Row): SyncedObject {
  return {
    guid: r.guid,
    immutableId: r.immutable_id,
    dn: r.dn,
    cloudId: r.cloud_id,
    exported: r.exported ? (JSON.parse(r.exported) as GraphUserProps) : null,
    hash: r.hash,
    status: r.status,
    error: r.error,
  };
}

/** The sync state in SQLite (stateDir/sync.sqlite). A dry run opens it read-only, or in memory if absent. */
export class SyncState {
  readonly db: Database.Database;
  readonly readOnly: boolean;
  /** Prepared once each: a full cycle runs get/put once per user, and a statement holds native memory until GC. */
  private readonly statements = new Map<string, Database.Statement>();

  /** A statement prepared once per connection (also for the full cycle's staging tables). */
  stmt(sql: string): Database.Statement {
    let s = this.statements.get(sql);
    if (!s) {
      s = this.db.prepare(sql);
      this.statements.set(sql, s);
    }
    return s;
  }

  constructor(stateDir: string, opts: { readOnly?: boolean } = {}) {
    const file = join(stateDir, 'sync.sqlite');
    this.readOnly = !!opts.readOnly;
    if (this.readOnly) {
      this.db = existsSync(file) ? new Database(file, { readonly: true }) : new Database(':memory:');
      if (!existsSync(file)) this.db.exec(SCHEMA);
    } else {
      mkdirSync(stateDir, { recursive: true });
      this.db = new Database(file);
      this.db.pragma('journal_mode = WAL');
      this.db.pragma('synchronous = FULL'); // a batch Graph has applied must survive a power cut once recorded
      this.db.exec(SCHEMA);
    }
  }

  getMeta(key: string): string | undefined {
    return (this.stmt('SELECT value FROM meta WHERE key = ?').get(key) as { value: string } | undefined)?.value;
  }

  setMeta(key: string, value: string): void {
    this.stmt('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value').run(key, value);
  }

  get(guid: string): SyncedObject | undefined {
    const r = this.stmt('SELECT * FROM objects WHERE guid = ?').get(guid) as Row | undefined;
    return r && fromRow(r);
  }

  /** Objects that Entra holds for us (everything not already removed). */
  *active(): Generator<SyncedObject> {
    // Not a cached statement: one that is iterating cannot run again until the iteration ends.
    for (const r of this.db.prepare("SELECT * FROM objects WHERE status != 'removed'").iterate() as Iterable<Row>) yield fromRow(r);
  }

  /** GUIDs to read again whatever the high-water mark says (failed or unconfirmed writes). */
  retryGuids(): string[] {
    return (this.stmt("SELECT guid FROM objects WHERE status IN ('pending', 'error')").all() as { guid: string }[]).map((r) => r.guid);
  }

  count(): number {
    return (this.stmt('SELECT count(*) AS n FROM objects').get() as { n: number }).n;
  }

  put(o: SyncedObject): void {
    this
      .stmt(
        `INSERT INTO objects (guid, immutable_id, dn, cloud_id, exported, hash, status, error, updated_at)
         VALUES (@guid, @immutableId, @dn, @cloudId, @exported, @hash, @status, @error, @now)
         ON CONFLICT(guid) DO UPDATE SET immutable_id = excluded.immutable_id, dn = excluded.dn, cloud_id = excluded.cloud_id,
           exported = excluded.exported, hash = excluded.hash, status = excluded.status, error = excluded.error, updated_at = excluded.updated_at`,
      )
      .run({ ...o, exported: o.exported ? JSON.stringify(o.exported) : null, now: new Date().toISOString() });
  }

  /** Runs fn in one transaction (one per applied batch). */
  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn)();
  }

  startRun(kind: string): number {
    return Number(this.stmt("INSERT INTO runs (started_at, kind, outcome) VALUES (?, ?, 'running')").run(new Date().toISOString(), kind).lastInsertRowid);
  }

  finishRun(id: number, outcome: string, summary: unknown): void {
    this.stmt('UPDATE runs SET finished_at = ?, outcome = ?, summary = ? WHERE id = ?').run(new Date().toISOString(), outcome, JSON.stringify(summary), id);
  }

  lastRun(): { started_at: string; finished_at: string | null; kind: string; outcome: string; summary: string | null } | undefined {
    return this.stmt('SELECT * FROM runs ORDER BY id DESC LIMIT 1').get() as never;
  }

  close(): void {
    this.db.close();
  }
}
