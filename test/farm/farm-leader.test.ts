// Issue 13, test 6: two servers run `gatehouse sync` against one Graph emulator, sharing Redis. Only the
// holder of the sync lease runs cycles; the leader is killed mid-cycle, the other takes over within the
// lease and finishes the work with no user lost or created twice.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { readFileSync, writeFileSync } from 'node:fs';
import { DC } from '../support/directory.js';
import { TestDirectory, spawnSync, startHarness, writeSyncConfig, type SyncHarness } from '../sync/support.js';
import { RedisServer, until } from './support.js';

const OU = `OU=SyncFarm,${DC.baseDn}`;
const LEASE_S = 3;
let h: SyncHarness;
let ad: TestDirectory;
let redis: RedisServer;
const children: ReturnType<typeof spawnSync>[] = [];

const ours = () => h.graph.users.all().filter((u) => u.userPrincipalName.startsWith('sync-f'));
const isBatch = (d: { method: string; url: string; sub: boolean }) => d.method === 'POST' && d.url === '/v1.0/$batch' && !d.sub;

beforeAll(async () => {
  h = await startHarness();
  ad = await TestDirectory.open();
  await ad.resetOu(OU);
  for (let i = 0; i < 30; i++) await ad.addUser(`sync-f${String(i).padStart(3, '0')}`, { ou: OU });
  redis = await RedisServer.create();
}, 90_000);

afterAll(async () => {
  for (const c of children) c.child.kill('SIGKILL');
  await ad?.close();
  await h?.graph.close();
  await redis?.stop();
});

/** Node `name`'s configuration: its own stateDir, the farm's Redis, a short lease. */
function nodeConfig(name: string): string {
  const file = writeSyncConfig(h, { scope: { ous: [OU] }, batchSize: 5 }, `${name}.yaml`);
  const cfg = parse(readFileSync(file, 'utf8'));
  cfg.stateDir = join(h.dir, name, 'var');
  mkdirSync(cfg.stateDir, { recursive: true });
  cfg.state = { redis: { url: redis.url }, leaseSeconds: LEASE_S };
  writeFileSync(file, stringify(cfg));
  return file;
}

/** The JSON log lines a sync process wrote to stderr. */
const lines = (out: string) =>
  out
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, any>);

describe('the sync worker in a farm', () => {
  it('two servers: one runs cycles at a time; the leader killed mid-cycle, the other finishes with no user lost or duplicated', async () => {
    h.graph.ctx.delays = [{ match: isBatch, ms: 700 }];
    const outs: Record<string, string> = { a: '', b: '' };
    const start = (name: 'a' | 'b') => {
      const run = spawnSync(h, nodeConfig(name), []);
      run.child.stderr!.on('data', (s: string) => (outs[name] += s));
      children.push(run);
      return run;
    };
    const a = start('a');
    const b = start('b');
    const leading = (name: 'a' | 'b') => lines(outs[name]!).filter((l) => l.event === 'farm_leader' && l.leader === true).length > 0;
    await until('one of them leads', () => leading('a') || leading('b'), 10_000);
    expect(leading('a') && leading('b')).toBe(false);
    const [leader, fName] = leading('a') ? [a, 'b' as const] : [b, 'a' as const];
    await until('the leader has created some users', () => ours().length >= 10, 30_000);
    expect(ours().length).toBeLessThan(30);
    // The follower has not written anything: only one cycle at a time.
    expect(lines(outs[fName]!).filter((l) => /^sync: (cycle|waiting for the next)/.test(String(l.msg)))).toEqual([]);
    const killedAt = Date.now();
    leader.child.kill('SIGKILL');
    h.graph.ctx.delays = [];
    await until('the follower leads', () => leading(fName), (LEASE_S + 3) * 1000);
    const tookOver = Date.now() - killedAt;
    expect(tookOver).toBeLessThan((LEASE_S + 2) * 1000);
    await until('the follower finished a cycle', () => lines(outs[fName]!).some((l) => l.msg === 'sync: cycle finished'), 30_000);
    const finished = lines(outs[fName]!).find((l) => l.msg === 'sync: cycle finished')!;
    expect(finished.summary).toMatchObject({ kind: 'full', errors: 0 });
    const users = ours();
    expect(users).toHaveLength(30);
    expect(new Set(users.map((u) => u.onPremisesImmutableId)).size).toBe(30);
    expect(new Set(users.map((u) => u.userPrincipalName)).size).toBe(30);
  });
});
