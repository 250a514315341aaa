// Issue 13, tests 5 and 4: Redis stopped during a steady sign-in load (the fallback, then shared state
// again without a restart), a node killed during the load (the balancer's health check takes it out; it
// restarts and rejoins), and a node stopped gracefully (SIGTERM: the probe says 503 first, nothing fails).
// The load is bounded (a few workers, a few seconds) and on the test run's own loopback.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { unlockUser } from '../support/directory.js';
import { freshUsers } from '../support/users.js';
import { V13, buildRst } from '../wstrust/soap-client.js';
import { Farm, RedisServer, formSignIn, until, wait } from './support.js';

const INTER_MS = 300;
let redis: RedisServer;
let farm: Farm;
let users: { sam: string; upn: string; password: string }[];

beforeAll(async () => {
  users = await freshUsers('fail', 4, 'Passw0rd!Fail1');
  redis = await RedisServer.create();
  farm = await Farm.start({ redis, interMs: INTER_MS });
}, 120_000);

afterAll(async () => {
  await farm?.stop();
  await redis?.stop();
  for (const u of users ?? []) unlockUser(u.sam);
});

interface Result {
  at: number;
  ok: boolean;
  detail?: string;
}

/** `workers` loops of browser sign-ins through the balancer until stop() (and at most 60 s). */
function steadyLoad(workers = 4) {
  const results: Result[] = [];
  let stopped = false;
  const deadline = Date.now() + 60_000;
  const loops = Array.from({ length: workers }, async (_, w) => {
    const user = users[w % users.length]!;
    while (!stopped && Date.now() < deadline) {
      const at = Date.now();
      try {
        const r = await formSignIn(farm.url, `198.51.100.${50 + w}`, user.upn, user.password);
        results.push({ at, ok: r.token, ...(r.token ? {} : { detail: `${r.status} ${r.body.slice(0, 200)}` }) });
      } catch (err) {
        results.push({ at, ok: false, detail: String(err) });
      }
    }
  });
  return {
    results,
    async stop() {
      stopped = true;
      await Promise.all(loops);
      return results;
    },
  };
}

const probe = async (node: { url: string }) => (await (await fetch(`${node.url}/adfs/probe?verbose=1`)).json()) as Record<string, any>;

describe('Redis stops during the load', () => {
  it('sign-ins keep succeeding under the fallback; when Redis is back, shared state resumes without a restart', async () => {
    const load = steadyLoad();
    await wait(1000);
    await redis.stop();
    await until('every node sees Redis gone', async () => (await Promise.all(farm.nodes.map(probe))).every((p) => p.state.status === 'fallback'), 5000);
    const p = await probe(farm.nodes[0]!);
    expect(p.state).toMatchObject({ backend: 'redis', status: 'fallback', redis: { status: 'unreachable' } });
    // WS-Trust fails closed while the farm's replay cache is unreachable ("try again later").
    const rst = buildRst(V13, { baseUrl: farm.url, username: users[0]!.upn, password: users[0]!.password, messageId: `urn:uuid:${randomUUID()}` });
    const trust = await fetch(`${farm.url}${V13.path}`, { method: 'POST', headers: { 'content-type': 'application/soap+xml; charset=utf-8' }, body: rst });
    expect(trust.status).toBe(500);
    expect(await trust.text()).toContain('Try again later');
    await wait(2000);
    const during = load.results.length;
    await redis.start();
    await until('every node back on Redis', async () => (await Promise.all(farm.nodes.map(probe))).every((p) => p.state.status === 'ok'), 10_000);
    await wait(1000);
    const results = await load.stop();
    expect(results.filter((r) => !r.ok)).toEqual([]);
    expect(during).toBeGreaterThan(5);
    expect(results.length).toBeGreaterThan(during);
    // The loud log lines, once each way, on every node.
    for (const node of farm.nodes) {
      const lines = node.serve.logLines().filter((l) => l.event === 'farm_state');
      expect(lines.some((l) => l.redis === 'unreachable')).toBe(true);
      expect(lines.some((l) => l.redis === 'ok')).toBe(true);
    }
    // Shared again: a wrong password on one node is in Redis (redis-cli sees it) and refused on another.
    const user = users[3]!;
    expect((await formSignIn(farm.nodes[0]!.url, '203.0.113.200', user.upn, 'Wrong-after-outage!1')).status).toBe(401);
    const row = JSON.parse((await farm.cli(['lockout', 'list', '--json', '--user', user.upn])).stdout)[0];
    expect(row.badUnknown).toBe(1);
    expect(Number(await redis.cli('SCARD', 'gatehouse:lockout-accounts'))).toBeGreaterThanOrEqual(1);
    const second = await formSignIn(farm.nodes[1]!.url, '203.0.113.201', user.upn, 'Wrong-after-outage!2');
    expect(second.status).toBe(401);
    // Node 2 counted node 1's wrong password (the farm's counter, not a fallback copy of its own) and refused
    // before AD (whose badPwdCount the first one raised).
    await until('node 2 refused with the shared count', () =>
      farm.logs().some((l) => l.event === 'extranet_lockout' && l.user === user.upn && l.node === 'node2' && l.badPasswords === 1 && !l.fallback), 3000);
  });
});

describe('a node dies during the load', () => {
  it('killed: no sign-in fails once the health check has taken it out; restarted, it rejoins', async () => {
    const victim = farm.nodes[1]!;
    const load = steadyLoad();
    await wait(1500);
    const killedAt = Date.now();
    victim.serve.kill();
    await wait(3000);
    await farm.startNode(victim);
    // Back in the balancer (rise 2): it gets requests again.
    await until('the restarted node has signed someone in', () => victim.serve.logLines().some((l) => l.event === 'token_issued'), 10_000);
    await wait(500);
    const results = await load.stop();
    const afterCheck = results.filter((r) => r.at > killedAt + 2 * INTER_MS + 500);
    expect(afterCheck.length).toBeGreaterThan(10);
    expect(afterCheck.filter((r) => !r.ok)).toEqual([]);
    // HAProxy re-sends a request whose connection failed or got no answer at all: even at the moment of the kill none was lost.
    expect(results.filter((r) => !r.ok)).toEqual([]);
  });

  it('stopped gracefully (SIGTERM): the probe answers 503 while it drains, requests in flight finish, nothing fails', async () => {
    const victim = farm.nodes[2]!;
    const load = steadyLoad();
    await wait(1500);
    const stopping = victim.serve.stop('SIGTERM', 10_000);
    await wait(200);
    const drainProbe = await fetch(`${victim.url}/adfs/probe`).catch(() => undefined);
    expect(drainProbe?.status).toBe(503);
    const { code } = await stopping;
    expect(code).toBe(0);
    await wait(1000);
    const results = await load.stop();
    expect(results.filter((r) => !r.ok)).toEqual([]);
    await farm.startNode(victim);
  });
});
