import type { Logger } from 'pino';
import type { Config } from '../config/load.js';
import { SecretRing } from '../crypto/sealed.js';
import { SigningKeyRing } from '../keys/keyring.js';
import { loadSessionKeys } from '../keys/keystore.js';
import { loadCurrentKey, loadNextKey } from '../keys/rollover.js';
import { openState, type StateStores } from '../farm/stores.js';
import { loadFarmKey } from './farm-key.js';
import { FarmKeys } from './keys.js';
import { LeaderLease } from './leader.js';

type Log = Pick<Logger, 'info' | 'warn' | 'error'>;

/** What `serve` needs in farm mode: the shared state, the farm's keys, and the rollover lease. */
export interface FarmServer {
  state: StateStores;
  signingKeys: SigningKeyRing;
  sessionKeys: SecretRing;
  keys: FarmKeys;
  lease: LeaderLease;
  /** For CertificateMonitor: automatic rollover runs on the holder of the rollover lease only. */
  manageRollover: () => boolean;
  onRollover: (promoteAt: Date | undefined) => void;
  stop(): Promise<void>;
}

/**
 * Farm mode for `gatehouse serve` (state.redis.url set): opens Redis, takes the farm's keys (or publishes
 * this server's when it is the first), and joins the election for automatic rollover.
 */
export async function startFarmServer(config: Config, log: Log, now?: () => number): Promise<FarmServer | undefined> {
  if (!config.state.redis.url) return undefined;
  const farmKey = loadFarmKey(config.state.farmKeyFile!);
  const state = await openState(config, log);
  const keys = new FarmKeys(state.redis!, farmKey, config.signing, config.session.keyFile, log, now);
  await keys.join();
  const signingKeys = new SigningKeyRing(loadCurrentKey(config.signing), loadNextKey(config.signing));
  const sessionKeys = new SecretRing(loadSessionKeys(config.session.keyFile));
  keys.start(signingKeys, sessionKeys);
  const lease = new LeaderLease(state.redis!, 'rollover', config.state.leaseSeconds * 1000, log);
  lease.start();
  return {
    state,
    signingKeys,
    sessionKeys,
    keys,
    lease,
    manageRollover: () => lease.isLeader,
    onRollover: (promoteAt) => {
      keys.publish(signingKeys, promoteAt).catch((err: Error) => log.error({ event: 'farm_keys', detail: err.message }, 'farm keys: cannot publish the rollover; retried at the next check'));
    },
    async stop() {
      keys.stop();
      await lease.stop();
    },
  };
}
