import { createHash } from 'node:crypto';
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import type { Config } from '../config/load.js';
import { RedisState } from '../state/redis.js';
import { LeaderLease } from './leader.js';

/**
 * The sync worker in a farm: every server may run `gatehouse sync`, and only the holder of the `sync`
 * lease runs cycles. A server that takes over (the leader died, perhaps mid-cycle) starts with a full
 * cycle: its own sync state (stateDir) does not know what the last leader wrote, and a full cycle reads
 * every cloud user and matches them by onPremisesImmutableId, so nothing is created twice or missed.
 */
export interface SyncTurn {
  /** Waits until this server leads; false when `stop()` became true first. */
  wait(stop: () => boolean): Promise<boolean>;
  /** True once this server lost the lease (the running cycle stops after its batch). */
  lost(): boolean;
  /** Whether the last cycle in the farm was run from another state directory. */
  mustRunFull(): Promise<boolean>;
  done(): Promise<void>;
  close(): Promise<void>;
}

export async function farmSyncTurn(config: Pick<Config, 'state' | 'stateDir'>, log: Pick<Logger, 'info' | 'warn' | 'error'>): Promise<SyncTurn | undefined> {
  if (!config.state.redis.url) return undefined;
  const redis = new RedisState(config.state.redis, log);
  await redis.connect();
  const lease = new LeaderLease(redis, 'sync', config.state.leaseSeconds * 1000, log);
  lease.start();
  const me = createHash('sha256').update(`${hostname()}\n${config.stateDir}`).digest('base64url').slice(0, 16);
  const lastKey = redis.key('sync', 'last-state');
  const step = Math.min(1000, Math.floor(lease.leaseMs / 3));
  return {
    async wait(stop) {
      let said = false;
      while (!stop()) {
        if (lease.isLeader) return true;
        if (!said) log.info({ event: 'farm_leader', role: 'sync', holder: await lease.current().catch(() => null) }, 'sync: another server leads; waiting for the lease');
        said = true;
        await new Promise((r) => setTimeout(r, step));
      }
      return false;
    },
    lost: () => !lease.isLeader,
    async mustRunFull() {
      const last = await redis.client.get(lastKey).catch(() => me);
      return last !== null && last !== me;
    },
    async done() {
      await redis.client.set(lastKey, me).catch(() => {});
    },
    async close() {
      await lease.stop();
      await redis.close();
    },
  };
}
