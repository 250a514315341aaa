// The activity view in farm mode: two servers share their audit events in a real redis-server, so a spray
// spread over both shows as one source on either server's page and in `gatehouse activity`; the sorted
// sets expire with activity.retentionDays.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { startGatehouse, type RunningGatehouse } from '../support/gatehouse.js';
import { freshUser } from '../support/users.js';
import { attempt, helpDeskGroup, openActivityPage, rows, SPRAYER } from '../activity/support.js';
import { RedisServer } from './support.js';
import { sample } from '../support/metrics.js';
import { registry } from '../../src/metrics/metrics.js';

describe('activity view in a farm (Redis)', () => {
  let redis: RedisServer;
  let a: RunningGatehouse;
  let b: RunningGatehouse;
  let admin: ReturnType<typeof freshUser>;

  beforeAll(async () => {
    redis = await RedisServer.create();
    admin = freshUser('farm-act-admin', 'Passw0rd!FarmAdm1');
    const group = helpDeskGroup('farm-act-helpdesk', [admin.sam]);
    const farm = (c: Record<string, any>) => {
      c.trustedProxies = ['127.0.0.1'];
      c.state = { redis: { url: redis.url } };
      c.activity = { adminGroup: group, retentionDays: 2 };
    };
    a = await startGatehouse(farm);
    b = await startGatehouse(farm);
    // Three names on each server, from one address.
    for (const [i, gh] of [a, a, a, b, b, b].entries()) expect((await attempt(gh, SPRAYER, `farm-spray-${i}@corp.example.test`, 'Winter2026!')).status).toBe(401);
    await a.app.gatehouse.activity.flush();
    await b.app.gatehouse.activity.flush();
  }, 60_000);

  afterAll(async () => {
    await a?.close();
    await b?.close();
    await redis?.stop();
  });

  it("either server's page shows the whole farm's spray", async () => {
    for (const gh of [a, b]) {
      const { page } = await openActivityPage(gh, admin.upn, admin.password);
      expect(page.status).toBe(200);
      expect(rows(page, 'spray')[0]!.slice(0, 3)).toEqual([SPRAYER, '6', '6']);
      expect(rows(page, 'events').filter((e) => e[1]!.startsWith('farm-spray-'))).toHaveLength(6);
    }
  });

  it('gatehouse activity reads the events from Redis', () => {
    const r = runCli(['activity', 'show', '-c', join(a.dir, 'gatehouse.yaml'), '--user', 'FARM-SPRAY-4@corp.example.test', '--json'], { cwd: a.dir });
    expect(r.stderr).toBe('');
    const json = JSON.parse(r.stdout);
    expect(json.spray[0]).toMatchObject({ address: SPRAYER, failures: 6, users: 6 });
    expect(json.events).toHaveLength(1);
    expect(json.events[0]).toMatchObject({ kind: 'signin_attempt', user: 'farm-spray-4@corp.example.test', outcome: 'failure', reason: 'GH_AUTHN_FAILED', addresses: [SPRAYER] });
  });

  it('keeps the events in sorted sets that expire with the retention', async () => {
    expect(Number(await redis.cli('ZCARD', 'gatehouse:activity:bad'))).toBe(6);
    const ttl = Number(await redis.cli('PTTL', 'gatehouse:activity:all'));
    expect(ttl).toBeGreaterThan(2 * 86_400_000 - 60_000);
    expect(ttl).toBeLessThanOrEqual(2 * 86_400_000 + 60_000);
    // A set per real account (the admin signed in on the page above); none per made-up name of the spray.
    expect(Number(await redis.cli('PTTL', `gatehouse:activity:user:${admin.upn.toLowerCase()}`))).toBeGreaterThan(0);
    expect(await redis.cli('EXISTS', 'gatehouse:activity:user:farm-spray-0@corp.example.test')).toBe('0');
  });

  it('while Redis is away, sign-ins go on and the lost events are counted', async () => {
    await redis.stop();
    try {
      expect((await attempt(a, SPRAYER, 'farm-spray-away@corp.example.test', 'Winter2026!')).status).toBe(401);
      await a.app.gatehouse.activity.flush();
      expect(sample(await registry.metrics(), 'gatehouse_activity_events_dropped_total')).toBeGreaterThanOrEqual(1);
      expect(a.logs.some((l) => l.event === 'activity_store')).toBe(true);
    } finally {
      await redis.start();
      // Both servers back on Redis (and their subscriptions renewed) before the test closes them.
      const deadline = Date.now() + 15_000;
      while (!(a.app.gatehouse.state.redis?.ok && b.app.gatehouse.state.redis?.ok) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      await new Promise((r) => setTimeout(r, 1000));
    }
  });
});
