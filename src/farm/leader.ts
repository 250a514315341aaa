import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import type { RedisState } from '../state/redis.js';

type Log = Pick<Logger, 'info' | 'warn' | 'error'>;

/** Extends the lease only while this holder still has it. */
const RENEW = `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
`;
const RELEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
`;

type LeaseClient = {
  gatehouseLeaseRenew(key: string, holder: string, ms: number): Promise<number>;
  gatehouseLeaseRelease(key: string, holder: string): Promise<number>;
};

/**
 * Leader election with a lease in Redis (`<prefix>leader:<role>`): the holder's id with an expiry. The
 * holder renews it every third of the lease; anyone else takes it with SET NX once it has expired. So at
 * most one holder at a time, and a dead holder is replaced within the lease. A holder that cannot renew
 * (Redis unreachable, or it found someone else holding) stops being the leader at once, before its lease
 * could have passed to another.
 */
export class LeaderLease {
  readonly holder = `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
  private leader = false;
  private timer: NodeJS.Timeout | undefined;
  private readonly listeners: ((leader: boolean) => void)[] = [];

  constructor(
    private readonly redis: RedisState,
    readonly role: string,
    readonly leaseMs: number,
    private readonly log: Log,
  ) {
    redis.client.defineCommand('gatehouseLeaseRenew', { numberOfKeys: 1, lua: RENEW });
    redis.client.defineCommand('gatehouseLeaseRelease', { numberOfKeys: 1, lua: RELEASE });
  }

  private get key(): string {
    return this.redis.key('leader', this.role);
  }

  get isLeader(): boolean {
    return this.leader;
  }

  onChange(fn: (leader: boolean) => void): void {
    this.listeners.push(fn);
  }

  /** Takes or renews the lease once; returns whether this holder leads now. */
  async tick(): Promise<boolean> {
    const c = this.redis.client as unknown as LeaseClient & RedisState['client'];
    let now: boolean;
    try {
      if (this.leader) now = (await c.gatehouseLeaseRenew(this.key, this.holder, this.leaseMs)) === 1;
      else now = (await c.set(this.key, this.holder, 'PX', this.leaseMs, 'NX')) === 'OK';
    } catch {
      now = false;
    }
    if (now !== this.leader) {
      this.leader = now;
      this.log.warn({ event: 'farm_leader', role: this.role, holder: this.holder, leader: now }, now ? `farm: this server now leads (${this.role})` : `farm: this server no longer leads (${this.role})`);
      for (const l of this.listeners) l(now);
    }
    return now;
  }

  start(): void {
    void this.tick();
    this.timer = setInterval(() => void this.tick(), Math.max(200, Math.floor(this.leaseMs / 3)));
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    if (!this.leader) return;
    this.leader = false;
    try {
      await (this.redis.client as unknown as LeaseClient).gatehouseLeaseRelease(this.key, this.holder);
    } catch {
      /* it expires by itself */
    }
  }

  /** Who holds the lease now (for logs and tests). */
  async current(): Promise<string | null> {
    return this.redis.client.get(this.key);
  }
}
