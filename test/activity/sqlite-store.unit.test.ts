// The activity store on one server (SQLite): events per user most recent first, the spray report grouped
// by source, retention; and the recorder that writes them in batches off the sign-in's path.
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { SqliteActivityStore } from '../../src/activity/sqlite-store.js';
import { sprayFrom, type ActivityEvent } from '../../src/activity/events.js';
import { ActivityRecorder } from '../../src/activity/recorder.js';

const HOUR = 3_600_000;
const now = Date.UTC(2026, 10, 30, 12);
const bad = (user: string, from: string, time: number, reason = 'GH_AUTHN_FAILED'): ActivityEvent => ({
  time, kind: 'signin_attempt', user, outcome: 'failure', reason, protocol: 'wsfed', realm: 'urn:federation:MicrosoftOnline', addresses: [from], correlationId: `c-${user}-${time}`,
});

describe('SqliteActivityStore', () => {
  const store = new SqliteActivityStore(new Database(':memory:'));
  store.add([
    ...['a', 'b', 'c', 'd'].map((u, i) => bad(`${u}@corp`, '203.0.113.9', now - i * 60_000)),
    bad('a@corp', '203.0.113.9', now - 2 * HOUR), // before the window
    bad('e@corp', '198.51.100.1', now - 5 * 60_000, 'GH_EXTRANET_LOCKOUT'),
    bad('e@corp', '198.51.100.1', now - 6 * 60_000, 'GH_ACCOUNT_DISABLED'), // not a bad password
    { time: now - 1000, kind: 'token_issued', user: 'A@corp', outcome: 'success', protocol: 'wsfed', addresses: ['192.0.2.1'], detail: 'form-password' },
  ]);

  it('lists a user\'s events most recent first, whatever the case of the name', () => {
    const events = store.recent({ user: 'a@CORP', limit: 10 });
    expect(events.map((e) => [e.kind, e.time])).toEqual([['signin_attempt', now], ['token_issued', now - 1000], ['signin_attempt', now - 2 * HOUR]]);
    expect(events[0]).toEqual(bad('a@corp', '203.0.113.9', now));
    expect(store.recent({ limit: 2 })).toHaveLength(2);
  });

  it('groups the last hour\'s bad passwords by source, most first', () => {
    const spray = store.spray({ since: now - HOUR, limit: 10 });
    expect(spray).toEqual([
      { address: '203.0.113.9', failures: 4, users: 4, first: now - 3 * 60_000, last: now },
      { address: '198.51.100.1', failures: 1, users: 1, first: now - 5 * 60_000, last: now - 5 * 60_000 },
    ]);
    // The same aggregation the Redis store does in memory.
    expect(sprayFrom(store.recent({ limit: 100 }).filter((e) => e.time >= now - HOUR), 10)).toEqual(spray);
  });

  it('forgets events older than the retention', () => {
    store.purge(now - HOUR);
    expect(store.recent({ user: 'a@corp', limit: 10 })).toHaveLength(2);
  });
});

describe('ActivityRecorder', () => {
  it('queues events and writes them in one batch; retention 0 keeps none', async () => {
    const batches: number[] = [];
    const store = new SqliteActivityStore(new Database(':memory:'));
    const counting = { ...store, add: (e: ActivityEvent[]) => (batches.push(e.length), store.add(e)), recent: store.recent.bind(store), spray: store.spray.bind(store), purge: store.purge.bind(store) };
    const recorder = new ActivityRecorder(counting, 7 * 24 * HOUR, { warn: () => {} });
    for (let i = 0; i < 5; i++) recorder.record(bad(`u${i}`, '192.0.2.7', Date.now()));
    expect(store.recent({ limit: 10 })).toHaveLength(0); // nothing written on the sign-in's path
    await recorder.flush();
    expect(batches).toEqual([5]);
    expect(store.recent({ limit: 10 })).toHaveLength(5);
    const off = new ActivityRecorder(counting, 0, { warn: () => {} });
    off.record(bad('x', '192.0.2.7', Date.now()));
    await off.flush();
    expect(batches).toEqual([5]);
  });

  it('a failing store loses the events from the view (counted, warned once), never throws', async () => {
    const warnings: object[] = [];
    const broken = { add: () => Promise.reject(new Error('Redis is away')), recent: () => [], spray: () => [], purge: () => {} };
    const recorder = new ActivityRecorder(broken, HOUR, { warn: (o) => warnings.push(o) });
    recorder.record(bad('u', '192.0.2.7', Date.now()));
    await recorder.flush();
    recorder.record(bad('u', '192.0.2.7', Date.now()));
    await recorder.flush();
    expect(warnings).toEqual([{ event: 'activity_store', dropped: 1, err: 'Redis is away' }]);
  });
});
