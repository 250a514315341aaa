import type { FastifyBaseLogger } from 'fastify';
import type { Config } from '../config/load.js';
import { ConfigError } from '../errors.js';
import type { Directory } from '../directory/directory.js';
import type { AccountActivityStore } from './lockout-store.js';
import { SmartLockout } from './lockout.js';
import { derivePolicy } from './smart-lockout.js';

/** Works out the thresholds and window from AD's policy (read once at start-up) and the configuration. */
export async function createSmartLockout(config: Config, directory: Directory, store: AccountActivityStore, log: FastifyBaseLogger): Promise<SmartLockout> {
  const { mode, familiarAddresses } = config.lockout;
  let ad: Awaited<ReturnType<Directory['readDomainPolicy']>> | undefined;
  if (mode !== 'off') {
    try {
      ad = await directory.readDomainPolicy();
    } catch (err) {
      log.warn({ detail: (err as { detail?: string }).detail ?? String(err) }, "smart lockout: cannot read AD's lockout policy now");
    }
  }
  // Unknown AD policy: the configured values, else the most cautious ones.
  const d = ad
    ? derivePolicy(config.lockout, ad)
    : {
        threshold: config.lockout.threshold ?? 1,
        familiarThreshold: config.lockout.familiarThreshold ?? 2,
        observationWindowMinutes: config.lockout.observationWindowMinutes,
        explanation: ["AD's lockout policy could not be read: configured values, else 1 (unknown) and 2 (familiar)"],
        problem: undefined,
      };
  if (d.problem) {
    if (mode === 'enforce') throw new ConfigError(d.problem);
    log.warn(d.problem);
  }
  if (mode !== 'off') {
    log.info(
      {
        mode, threshold: d.threshold, familiarThreshold: d.familiarThreshold, observationWindowMinutes: d.observationWindowMinutes,
        adThreshold: ad?.lockoutThreshold, adObservationWindowMinutes: ad?.observationWindowMinutes, why: d.explanation,
      },
      'smart lockout ready',
    );
  }
  return new SmartLockout(
    mode,
    {
      threshold: d.threshold,
      familiarThreshold: d.familiarThreshold,
      observationWindowMs: d.observationWindowMinutes * 60_000,
      maxFamiliarAddresses: familiarAddresses,
      adThreshold: ad?.lockoutThreshold ?? 0,
      adObservationWindowMs: (ad?.observationWindowMinutes ?? 0) * 60_000,
    },
    store,
    config.state.fallbackThreshold,
  );
}
