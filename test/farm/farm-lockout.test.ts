// Issue 13, tests 1 and 2: smart lockout over a farm of three real servers sharing Redis, behind HAProxy.
// A password spray round-robin over the nodes is counted once for the farm; 64 concurrent wrong passwords
// over three nodes lose no reservation nor settlement.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pino from 'pino';
import { unlockUser } from '../support/directory.js';
import { adBadPwdCount, adLockoutTime, freshUsers } from '../support/users.js';
import { Browser } from '../support/http.js';
import { RedisState } from '../../src/state/redis.js';
import { RedisLockoutStore } from '../../src/lockout/redis-store.js';
import { LockoutStore } from '../../src/lockout/lockout-store.js';
import { openStateDatabase } from '../../src/state/database.js';
import { reserve, settle, type LockoutPolicy } from '../../src/lockout/smart-lockout.js';
import { Farm, M365, RedisServer, formSignIn, until } from './support.js';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const HOME = '198.51.100.30';
const unknown = (i: number) => `203.0.113.${10 + i}`;

let redis: RedisServer;
let farm: Farm;
let users: { sam: string; upn: string; password: string }[];

beforeAll(async () => {
  users = await freshUsers('farm', 2, 'Passw0rd!Farm1');
  redis = await RedisServer.create();
  // The thresholds are derived from AD's policy (lockoutThreshold 3): unknown locations 1, familiar 2.
  farm = await Farm.start({ redis, mutate: (c) => delete c.lockout.threshold });
}, 120_000);

afterAll(async () => {
  await farm?.stop();
  await redis?.stop();
  for (const u of users ?? []) unlockUser(u.sam);
});

const lockoutRow = async (upn: string) => {
  const r = await farm.cli(['lockout', 'list', '--json', '--user', upn]);
  expect(r.status, r.stderr).toBe(0);
  return (JSON.parse(r.stdout) as Record<string, any>[])[0]!;
};

describe('smart lockout shared by the farm', () => {
  it('a spray round-robin over 3 nodes is counted once for the farm; the user still signs in from home on every node', async () => {
    const user = users[0]!;
    expect((await formSignIn(farm.url, HOME, user.upn, user.password)).token).toBe(true);
    const before = adBadPwdCount(user.sam);
    for (let i = 0; i < 9; i++) {
      const r = await formSignIn(farm.url, unknown(i), user.upn, `Spray-${i}-wrong!`);
      expect(r.status).toBe(401);
      expect(r.token).toBe(false);
    }
    // AD saw at most the farm's threshold (1) of bad passwords: far from its own 3.
    expect(adBadPwdCount(user.sam) - before).toBe(1);
    expect(adLockoutTime(user.sam)).toBe(0);
    const row = await lockoutRow(user.upn);
    expect(row.badUnknown).toBe(1);
    expect(row.familiarAddresses).toContain(HOME);
    // Every node refused by the farm's counter ('threshold'), not by its own view of AD's counter.
    await until('8 refusals logged', () => farm.logs().filter((l) => l.event === 'extranet_lockout' && l.user === user.upn).length >= 8, 5000).catch(() => {});
    const refusals = farm.logs().filter((l) => l.event === 'extranet_lockout' && l.user === user.upn);
    expect(refusals).toHaveLength(8);
    expect(new Set(refusals.map((l) => l.reason))).toEqual(new Set(['threshold']));
    expect(new Set(refusals.map((l) => l.node)).size).toBe(3);
    // From home, through the balancer (each of the three posts lands on another node), and on each node directly.
    for (let i = 0; i < 3; i++) expect((await formSignIn(farm.url, HOME, user.upn, user.password)).token).toBe(true);
    for (const node of farm.nodes) expect((await formSignIn(node.url, HOME, user.upn, user.password)).token).toBe(true);
  });

  it('64 concurrent wrong passwords over 3 nodes: one reaches AD, the 63 others are refused, no reservation is lost or left', async () => {
    const user = users[1]!;
    const before = adBadPwdCount(user.sam);
    // The login pages first (each browser gets its CSRF pair), then the 64 posts at once, spread over the nodes.
    const browsers = Array.from({ length: 64 }, (_, i) => new Browser({ 'x-forwarded-for': unknown(100 + i) }));
    const forms = await Promise.all(browsers.map(async (b) => (await b.get(`${farm.url}/adfs/ls/?wa=wsignin1.0&wtrealm=${encodeURIComponent(M365)}`)).form()));
    const pages = await Promise.all(
      browsers.map((b, i) => b.post(farm.nodes[i % 3]!.url + new URL(forms[i]!.action).pathname + new URL(forms[i]!.action).search, { ...forms[i]!.fields, UserName: user.upn, Password: `Wrong-${i}!x` })),
    );
    expect(pages.map((p) => p.status)).toEqual(Array(64).fill(401));
    expect(adBadPwdCount(user.sam) - before).toBe(1);
    expect(adLockoutTime(user.sam)).toBe(0);
    const row = await lockoutRow(user.upn);
    expect(row.badUnknown).toBe(1);
    expect(row.inFlightUnknown ?? []).toEqual([]);
    // The servers' log lines arrive through pipes: wait for the last ones.
    await until('64 audit lines', () => farm.logs().filter((l) => l.event === 'signin_attempt' && l.username === user.upn).length >= 64, 5000).catch(() => {});
    const attempts = farm.logs().filter((l) => l.event === 'signin_attempt' && l.username === user.upn);
    const refusals = farm.logs().filter((l) => l.event === 'extranet_lockout' && l.user === user.upn);
    expect(attempts).toHaveLength(64);
    expect(refusals).toHaveLength(63);
    expect(new Set(attempts.map((l) => l.node)).size).toBe(3);
  });

  it('three servers changing one account 64 times at once: every reservation and settlement is counted', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'farm-store-'));
    const log = pino({ level: 'silent' });
    const cfg = { url: redis.url, sentinels: [], sentinelName: 'mymaster', keyPrefix: 'store-test:', commandTimeoutMs: 2000 };
    const servers = await Promise.all(
      [0, 1, 2].map(async (i) => {
        const r = new RedisState(cfg, log);
        await r.connect();
        return { redis: r, store: new RedisLockoutStore(r, new LockoutStore(openStateDatabase(join(dir, `s${i}`)))) };
      }),
    );
    const policy: LockoutPolicy = { threshold: 1000, familiarThreshold: 1000, observationWindowMs: 60_000, maxFamiliarAddresses: 20, adThreshold: 0, adObservationWindowMs: 0 };
    const now = Date.now();
    const results = await Promise.all(
      Array.from({ length: 64 }, async (_, i) => {
        const { store } = servers[i % 3]!;
        const ticket = `t${i}`;
        const r = await store.apply('acct', 'u@x', (a, ctx) => {
          expect(ctx.fallback).toBe(false);
          const res = reserve(a, 'unknown', policy, undefined, ticket, now);
          return { next: res.next, result: res.refusal };
        });
        await store.apply('acct', 'u@x', (a) => ({ next: settle(a, 'unknown', ticket, 'bad-password', [unknown(i)], policy, now), result: undefined }));
        return r;
      }),
    );
    expect(results.filter(Boolean)).toEqual([]);
    const [row] = await servers[0]!.store.list('u@x');
    expect(row!.badUnknown).toBe(64);
    expect(row!.inFlightUnknown).toEqual([]);
    // The oracle: redis-cli reads the same value.
    expect(JSON.parse(await redis.cli('GET', 'store-test:lockout:acct')).a.badUnknown).toBe(64);
    for (const s of servers) await s.redis.close();
  });
});
