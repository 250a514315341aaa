import pino from 'pino';
import type { Config } from '../config/load.js';
import { openState, type StateStores } from './stores.js';

/**
 * The state for an admin command (`lockout list/reset`, `sessions revoke`, `mfa list/reset`): the farm's in Redis when
 * configured, else this host's SQLite database. A command must act on the shared state or say it cannot:
 * with Redis configured and unreachable it fails instead of changing one server's fallback copy.
 */
export async function openAdminState(config: Pick<Config, 'stateDir' | 'state'> & { activity?: Pick<Config['activity'], 'retentionDays'> }): Promise<Pick<StateStores, 'lockout' | 'revocations' | 'mfa' | 'activity' | 'close'>> {
  const state = await openState(config, pino({ level: 'silent' }), { subscribe: false });
  if (state.redis && !state.redis.ok) {
    const detail = state.redis.describe().lastError;
    await state.close();
    throw new Error(`state.redis.url: Redis is unreachable (${detail}); the farm's shared state cannot be read or changed now`);
  }
  return state;
}
