import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';

/**
 * The embedded state of one server (stateDir/gatehouse.db): lockout counters now, more later. WAL mode
 * lets the admin command read and reset while the server runs.
 */
export function openStateDatabase(stateDir: string): Database.Database {
  mkdirSync(stateDir, { recursive: true, mode: 0o700 });
  const db = new Database(join(stateDir, 'gatehouse.db'));
  db.pragma('journal_mode = WAL');
  db.pragma('busy_timeout = 2000');
  db.pragma('synchronous = NORMAL');
  return db;
}
