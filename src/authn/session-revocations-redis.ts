import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { SessionRevocations, SqliteSessionRevocations } from './session-revocations.js';
import type { RedisState } from '../state/redis.js';

/** Keeps the later cut-off of an account: SET only when larger, with the longer expiry. */
const MAX_SET = `
local cur = tonumber(redis.call('GET', KEYS[1]) or '0')
local before = tonumber(ARGV[1])
if before > cur then cur = before end
local ttl = tonumber(ARGV[2])
local pttl = redis.call('PTTL', KEYS[1])
if pttl > ttl then ttl = pttl end
redis.call('SET', KEYS[1], tostring(cur), 'PX', ttl)
return cur
`;

interface Message {
  kind: 'session' | 'account';
  id: string;
  before?: number;
  until: number;
}

type Log = Pick<Logger, 'info' | 'warn' | 'error'>;

/**
 * Session revocations shared by the farm: a sign-out or `gatehouse sessions revoke` on any server holds on
 * every server at once. In Redis, one key per ended session and one per account cut-off, each expiring
 * when the sessions it names would have expired anyway; checked in one pipelined round trip.
 *
 * Every revocation is also written to this server's SQLite store and announced on a channel that every
 * server copies into its own, so while Redis is unreachable a server still refuses every session revoked
 * before the outage. Revocations made during the outage are kept locally, queued, and written to Redis
 * when it answers again.
 */
export class RedisSessionRevocations implements SessionRevocations {
  private readonly queue: Message[] = [];
  private subscriber: Redis | undefined;

  constructor(
    private readonly redis: RedisState,
    private readonly local: SqliteSessionRevocations,
    private readonly log: Log,
  ) {
    redis.client.defineCommand('gatehouseMaxSet', { numberOfKeys: 1, lua: MAX_SET });
    redis.onChange((up) => {
      if (up) void this.flush();
    });
  }

  private get channel(): string {
    return this.redis.key('revocations');
  }

  /** Mirrors the other servers' revocations into the local store (a second connection: a subscriber can do nothing else). */
  async start(): Promise<void> {
    const sub = this.redis.client.duplicate({ lazyConnect: true, enableAutoPipelining: false });
    this.subscriber = sub;
    sub.on('error', () => {});
    sub.on('message', (_channel: string, text: string) => {
      try {
        const m = JSON.parse(text) as Message;
        if (m.kind === 'session') void this.local.revokeSession(m.id, m.until);
        else void this.local.revokeAccount(m.id, m.before ?? 0, m.until);
      } catch {
        /* not ours */
      }
    });
    sub.on('ready', () => void sub.subscribe(this.channel).catch(() => {}));
    sub.connect().catch(() => {});
  }

  async stop(): Promise<void> {
    this.subscriber?.disconnect();
  }

  private async write(m: Message): Promise<void> {
    const c = this.redis.client as Redis & { gatehouseMaxSet(key: string, before: number, ttl: number): Promise<number> };
    const ttl = Math.max(1000, m.until - Date.now());
    if (m.kind === 'session') await c.set(this.redis.key('revoked-session', m.id), '1', 'PX', ttl);
    else await c.gatehouseMaxSet(this.redis.key('revoked-account', m.id), m.before ?? 0, ttl);
    await c.publish(this.channel, JSON.stringify(m));
  }

  private async send(m: Message): Promise<void> {
    if (this.redis.ok) {
      try {
        return await this.write(m);
      } catch (err) {
        this.redis.failed(err);
      }
    }
    this.queue.push(m);
    this.log.warn({ event: 'farm_state', kind: m.kind, queued: this.queue.length }, 'session revocation kept locally until Redis answers again');
  }

  private async flush(): Promise<void> {
    while (this.queue.length && this.redis.ok) {
      const m = this.queue[0]!;
      try {
        await this.write(m);
        this.queue.shift();
      } catch (err) {
        this.redis.failed(err);
        return;
      }
    }
  }

  async revokeSession(sid: string, expires: number): Promise<void> {
    await this.local.revokeSession(sid, expires);
    await this.send({ kind: 'session', id: sid, until: expires });
  }

  async revokeAccount(account: string, before: number, keepUntil: number): Promise<void> {
    await this.local.revokeAccount(account, before, keepUntil);
    await this.send({ kind: 'account', id: account, before, until: keepUntil });
  }

  async isRevoked(session: { sid: string; account?: string | undefined; authInstant: number }): Promise<boolean> {
    if (await this.local.isRevoked(session)) return true;
    if (!this.redis.ok) return false;
    try {
      // Both reads in one write and one round trip.
      const p = this.redis.client.pipeline().exists(this.redis.key('revoked-session', session.sid));
      if (session.account) p.get(this.redis.key('revoked-account', session.account));
      const results = (await p.exec()) ?? [];
      for (const [err] of results) if (err) throw err;
      const sid = Number(results[0]?.[1] ?? 0);
      const cutoff = (results[1]?.[1] as string | null | undefined) ?? null;
      return sid > 0 || (cutoff !== null && Number(cutoff) > session.authInstant);
    } catch (err) {
      this.redis.failed(err);
      return false;
    }
  }
}
