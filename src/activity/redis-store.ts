import { randomBytes } from 'node:crypto';
import type { RedisState } from '../state/redis.js';
import { isBadPassword, sprayFrom, type ActivityEvent, type ActivityStore, type SpraySource } from './events.js';

/** At most this many events in the farm-wide list and in one user's, whatever the retention (memory stays bounded). */
const MAX_ALL = 200_000;
const MAX_PER_USER = 1_000;
/** A name without an account of its own is looked for among this many recent events. */
const MAX_SCAN_FOR_NAME = 20_000;
/** The spray report reads at most this many bad passwords of its window. */
const MAX_BAD = 100_000;

/**
 * Audit events of the whole farm in Redis: sorted sets scored by time, of the events as JSON (each with a
 * few random bytes, so two equal events stay two): every event, each account's, and the bad passwords
 * (for the spray report). Old members are trimmed on every write and each set expires with the
 * retention; the sets are capped in size too, so memory stays bounded whatever a spray sends.
 */
export class RedisActivityStore implements ActivityStore {
  constructor(
    private readonly redis: RedisState,
    private readonly retentionMs: number,
  ) {}

  private keys(user?: string) {
    return {
      all: this.redis.key('activity', 'all'),
      bad: this.redis.key('activity', 'bad'),
      user: user === undefined ? '' : this.redis.key('activity', 'user', user.toLowerCase()),
    };
  }

  async add(events: ActivityEvent[]): Promise<void> {
    if (!events.length) return;
    const now = Date.now();
    const cutoff = now - this.retentionMs;
    const ttl = Math.ceil(this.retentionMs / 1000) + 60;
    const m = this.redis.client.multi();
    const k = this.keys();
    const users = new Set<string>();
    for (const e of events) {
      const member = JSON.stringify({ ...e, n: randomBytes(4).toString('hex') });
      const uk = this.keys(e.user).user;
      m.zadd(k.all, e.time, member);
      if (isBadPassword(e)) m.zadd(k.bad, e.time, member);
      // A set per name only for real accounts: a spray of made-up names must not make a key per name.
      if (e.noAccount) continue;
      m.zadd(uk, e.time, member);
      users.add(uk);
    }
    for (const uk of users) {
      m.zremrangebyscore(uk, '-inf', cutoff);
      m.zremrangebyrank(uk, 0, -MAX_PER_USER - 1);
      m.pexpire(uk, ttl * 1000);
    }
    for (const [key, max] of [[k.all, MAX_ALL], [k.bad, MAX_BAD]] as const) {
      m.zremrangebyscore(key, '-inf', cutoff);
      m.zremrangebyrank(key, 0, -max - 1);
      m.pexpire(key, ttl * 1000);
    }
    const results = await m.exec();
    const failed = results?.find(([err]) => err);
    if (!results || failed) throw failed?.[0] ?? new Error('Redis transaction aborted');
  }

  private static parse(members: string[]): ActivityEvent[] {
    return members.map((s) => {
      const { n: _n, ...e } = JSON.parse(s) as ActivityEvent & { n?: string };
      return e;
    });
  }

  async recent({ user, limit }: { user?: string | undefined; limit: number }): Promise<ActivityEvent[]> {
    const k = this.keys(user);
    if (user === undefined) return RedisActivityStore.parse(await this.redis.client.zrevrange(k.all, 0, limit - 1));
    const own = RedisActivityStore.parse(await this.redis.client.zrevrange(k.user, 0, limit - 1));
    if (own.length) return own;
    // A name that matches no account has no set of its own: its events are among the farm's recent ones.
    const name = user.toLowerCase();
    return RedisActivityStore.parse(await this.redis.client.zrevrange(k.all, 0, MAX_SCAN_FOR_NAME - 1)).filter((e) => e.user.toLowerCase() === name).slice(0, limit);
  }

  async spray({ since, limit }: { since: number; limit: number }): Promise<SpraySource[]> {
    const members = await this.redis.client.zrangebyscore(this.keys().bad, since, '+inf', 'LIMIT', 0, MAX_BAD);
    return sprayFrom(RedisActivityStore.parse(members), limit);
  }

  async purge(before: number): Promise<void> {
    const k = this.keys();
    await this.redis.client.zremrangebyscore(k.all, '-inf', before);
    await this.redis.client.zremrangebyscore(k.bad, '-inf', before);
  }
}
