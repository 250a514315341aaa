import type { FastifyBaseLogger } from 'fastify';
import type Database from 'better-sqlite3';
import type { Config } from '../config/load.js';
import { ConfigError } from '../errors.js';
import type { Directory } from '../directory/directory.js';
import { LockoutStore } from './lockout-store.js';
import { SmartLockout } from './lockout.js';
import { effectiveThreshold } from './smart-lockout.js';

/** Works out the threshold from AD's policy (read once at start-up) and the configuration. */
export async function createSmartLockout(config: Config, directory: Directory, db: Database.Database, log: FastifyBaseLogger): Promise<SmartLockout> {
  const { mode, threshold: configured, observationWindowMinutes, familiarAddresses } = config.lockout;
  let adThreshold: number | undefined;
  if (mode !== 'off') {
    try {
      adThreshold = (await directory.readDomainPolicy()).lockoutThreshold;
    } catch (err) {
      log.warn({ detail: (err as { detail?: string }).detail ?? String(err) }, "smart lockout: cannot read AD's lockoutThreshold now");
    }
  }
  let threshold: number;
  if (adThreshold === undefined) {
    // Unknown AD policy: a configured value, else the most cautious one.
    threshold = configured ?? 1;
  } else {
    const r = effectiveThreshold(configured, adThreshold);
    if (r.problem) {
      if (mode === 'enforce') throw new ConfigError(r.problem);
      log.warn(r.problem);
    }
    threshold = r.threshold;
  }
  if (mode !== 'off') log.info({ mode, threshold, adThreshold, observationWindowMinutes }, 'smart lockout ready');
  return new SmartLockout(
    mode,
    { threshold, observationWindowMs: observationWindowMinutes * 60_000, maxFamiliarAddresses: familiarAddresses },
    new LockoutStore(db),
  );
}
