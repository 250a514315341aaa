import type { Config } from '../config/load.js';
import { RedisState } from '../state/redis.js';
import { loadFarmKey } from './farm-key.js';
import { FarmKeys } from './keys.js';

const quiet = { info() {}, warn() {}, error() {} };

/**
 * Runs a key command (`certs rollover|promote|rotate-session-key`) against the farm's keys: this server's
 * files first take the farm's record (they may be behind it), the command changes the files, and the
 * result is published for every server to use within seconds. Nothing changes when Redis does not answer:
 * a change made to one server's files only would be undone by the farm's record.
 * Without farm mode, just the command. Returns what to tell the operator about the farm, if anything.
 */
export async function underFarmKeys(config: Config, change: () => void): Promise<string | undefined> {
  if (!config.state.redis.url) {
    change();
    return undefined;
  }
  const farmKey = loadFarmKey(config.state.farmKeyFile!);
  const redis = new RedisState(config.state.redis, quiet);
  try {
    if (!(await redis.connect())) {
      throw new Error(`farm mode: Redis (state.redis.url) does not answer: ${redis.describe().lastError ?? 'unreachable'}. Nothing was changed; run the command again once it answers.`);
    }
    const keys = new FarmKeys(redis, farmKey, config.signing, config.session.keyFile, quiet);
    await keys.join();
    change();
    await keys.publishFiles();
    return 'Published to the farm (Redis): every server puts it in use within a few seconds; no reload needed.';
  } finally {
    await redis.close();
  }
}
