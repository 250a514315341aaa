import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';

const sleep = (ms: number) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

/**
 * The embedded state of one server (stateDir/gatehouse.db): lockout counters, session revocations, replay
 * caches. WAL mode lets the server processes of a host and the admin commands read and write at once.
 */
export function openStateDatabase(stateDir: string): Database.Database {
  mkdirSync(stateDir, { recursive: true, mode: 0o700 });
  const db = new Database(join(stateDir, 'gatehouse.db'), { timeout: 2000 });
  // Two processes opening a new file at once (the workers of one server) race to switch it to WAL; SQLite
  // answers the loser "database is locked" at once, without waiting (a lock upgrade could deadlock), so
  // the switch is retried here.
  for (let attempt = 0; ; attempt++) {
    try {
      db.pragma('journal_mode = WAL');
      break;
    } catch (err) {
      if (!/database is locked|SQLITE_BUSY/i.test(String((err as Error).message)) || attempt >= 100) throw err;
      sleep(10 + Math.random() * 20);
    }
  }
  db.pragma('synchronous = NORMAL');
  return db;
}
