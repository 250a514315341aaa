import type { AccountActivityRow, AccountActivityStore, ApplyContext } from './lockout-store.js';
import type { LockoutStore } from './lockout-store.js';
import { EMPTY_ACTIVITY, type AccountActivity, type Location } from './smart-lockout.js';
import { KeyedQueue } from '../state/keyed-queue.js';
import { BoundedMap } from '../state/bounded-map.js';
import type { RedisState } from '../state/redis.js';

/**
 * Compare-and-set: writes ARGV[2] only if the key still holds ARGV[1] ('' = absent). Returns {1} when
 * written, else {0, what the key holds now} so the caller retries without another read.
 */
const CAS = `
local cur = redis.call('GET', KEYS[1])
if not cur then cur = '' end
if cur == ARGV[1] then
  if ARGV[2] ~= ARGV[1] then
    redis.call('SET', KEYS[1], ARGV[2])
    redis.call('SADD', KEYS[2], ARGV[3])
  end
  return {1}
end
return {0, cur}
`;

interface Stored {
  /** UPN or sAMAccountName, for admins. */
  u: string;
  a: AccountActivity;
  /** ms of the last change. */
  t: number;
}

type CasClient = { gatehouseLockoutCas(key: string, index: string, expected: string, next: string, account: string): Promise<[number, string?]> };

/** Atomic retries are bounded: other servers would have to win the same account's race this often in a row. */
const MAX_TRIES = 100;

/**
 * Lockout counters shared by the farm in Redis, one key per account (`<prefix>lockout:<objectGUID>`,
 * JSON) and a set of the accounts for `gatehouse lockout list`. The change is the same pure
 * reserve/settle function as with SQLite, applied with optimistic concurrency: read, compute, then a
 * compare-and-set script that writes only if nobody wrote in between (else it returns the new value and
 * the change is computed again). No update is lost, whatever the number of servers. Changes to one
 * account within this server are queued, so they never race each other; and the value this server last
 * wrote is remembered, so an account only this server touches costs one round trip per step.
 *
 * While Redis is unreachable the change goes to this server's SQLite store with `fallback: true` (the
 * smart lockout then applies the stricter fallback threshold).
 */
export class RedisLockoutStore implements AccountActivityStore {
  private readonly queue = new KeyedQueue();
  /** The raw value this server last read or wrote, per account (a hint: the script checks it). */
  private readonly known = new BoundedMap<string, string>(10_000);
  /** Reads started by `prefetch`, used by the next apply within a second (a hint too). */
  private readonly ahead = new BoundedMap<string, { read: Promise<string | undefined>; at: number }>(10_000);

  constructor(
    private readonly redis: RedisState,
    private readonly local: LockoutStore,
  ) {
    redis.client.defineCommand('gatehouseLockoutCas', { numberOfKeys: 2, lua: CAS });
    // Anything remembered may be stale after an outage (other servers may have written meanwhile; the script would say so anyway).
    redis.onChange(() => this.known.clear());
  }

  private keyOf(account: string): string {
    return this.redis.key('lockout', account);
  }

  private get index(): string {
    return this.redis.key('lockout-accounts');
  }

  private get cas(): CasClient {
    return this.redis.client as unknown as CasClient;
  }

  apply<T>(account: string, userName: string, change: (a: AccountActivity, ctx: ApplyContext) => { next: AccountActivity; result: T }, now = Date.now()): Promise<T> {
    return this.queue.run(account, async () => {
      if (!this.redis.ok) return this.local.apply(account, userName, change, now, { fallback: true });
      try {
        return await this.applyShared(account, userName, change, now);
      } catch (err) {
        this.redis.failed(err);
        return this.local.apply(account, userName, change, now, { fallback: true });
      }
    });
  }

  /**
   * Reads an account's counters now, for the reservation that follows the directory look-up: the value
   * this server remembers is stale whenever another server wrote last, and the compare-and-set would
   * then cost a second round trip.
   */
  prefetch(account: string): void {
    if (!this.redis.ok) return;
    const read = this.redis.client.get(this.keyOf(account)).then((raw) => raw ?? '', () => undefined);
    this.ahead.set(account, { read, at: Date.now() });
  }

  private async applyShared<T>(account: string, userName: string, change: (a: AccountActivity, ctx: ApplyContext) => { next: AccountActivity; result: T }, now: number): Promise<T> {
    const key = this.keyOf(account);
    const ahead = this.ahead.get(account);
    this.ahead.delete(account);
    const fetched = ahead && Date.now() - ahead.at < 1000 ? await ahead.read : undefined;
    let raw = fetched ?? this.known.get(account) ?? (await this.redis.client.get(key)) ?? '';
    for (let i = 0; i < MAX_TRIES; i++) {
      const before = raw ? (JSON.parse(raw) as Stored).a : EMPTY_ACTIVITY;
      const { next, result } = change(before, { fallback: false });
      const nextRaw = next === before ? raw : JSON.stringify({ u: userName, a: next, t: now } satisfies Stored);
      const [written, current] = await this.cas.gatehouseLockoutCas(key, this.index, raw, nextRaw, account);
      if (written === 1) {
        this.known.set(account, nextRaw);
        return result;
      }
      raw = current ?? '';
    }
    throw new Error(`lockout counters of ${account}: gave up after ${MAX_TRIES} concurrent changes by other servers`);
  }

  async list(userName?: string): Promise<AccountActivityRow[]> {
    const accounts = await this.redis.client.smembers(this.index);
    if (!accounts.length) return [];
    const values = await this.redis.client.mget(accounts.map((a) => this.keyOf(a)));
    const rows: (AccountActivityRow & { t: number })[] = [];
    accounts.forEach((account, i) => {
      const raw = values[i];
      if (!raw) return;
      const s = JSON.parse(raw) as Stored;
      if (userName && s.u.toLowerCase() !== userName.toLowerCase()) return;
      rows.push({ account, userName: s.u, ...s.a, t: s.t });
    });
    return rows.sort((x, y) => y.t - x.t).map(({ t: _t, ...r }) => r);
  }

  async reset(userName: string, location?: Location): Promise<number> {
    let n = 0;
    for (const row of await this.list(userName)) {
      await this.apply(row.account, row.userName, (a) => ({
        next: {
          ...a,
          ...(location !== 'unknown' ? { badFamiliar: 0, lastBadFamiliar: 0 } : {}),
          ...(location !== 'familiar' ? { badUnknown: 0, lastBadUnknown: 0 } : {}),
        },
        result: undefined,
      }));
      n++;
    }
    return n;
  }
}
