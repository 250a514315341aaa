// The sync worker under failure: killed mid-cycle (full and incremental) and throttled by Graph.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DC } from '../support/directory.js';
import { TestDirectory, runSync, spawnSync, startHarness, summaryOf, writeSyncConfig, type SyncHarness } from './support.js';

const OU = `OU=SyncResume,${DC.baseDn}`;
let h: SyncHarness;
let ad: TestDirectory;
let config: string;
/** Users deleted in AD that stay in Entra, disabled (deleteAction: disable). */
let disabledInCloud = 0;

const ours = () => h.graph.users.all().filter((u) => u.userPrincipalName.startsWith('sync-r'));
const isBatch = (d: { method: string; url: string; sub: boolean }) => d.method === 'POST' && d.url === '/v1.0/$batch' && !d.sub;
const creates = () => h.graph.ctx.log.filter((r) => r.sub && r.method === 'POST' && r.url === '/v1.0/users');

async function addUsers(from: number, to: number): Promise<void> {
  for (let i = from; i < to; i++) await ad.addUser(`sync-r${String(i).padStart(3, '0')}`, { ou: OU });
}

/** Starts a sync, waits until Graph has applied `atLeast` of our users (the answer held back), then SIGKILLs it. */
async function killMidCycle(atLeast: number): Promise<void> {
  h.graph.ctx.delays = [{ match: isBatch, ms: 1500 }];
  const { child, done } = spawnSync(h, config, ['--once']);
  const deadline = Date.now() + 20_000;
  while (ours().length < atLeast) {
    if (Date.now() > deadline) throw new Error(`sync did not reach ${atLeast} users: ${(await done).stderr}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  child.kill('SIGKILL');
  const run = await done;
  expect(run.signal).toBe('SIGKILL');
  h.graph.ctx.delays = [];
}

function expectEachUserOnce(expected: number): void {
  const users = ours();
  expect(users).toHaveLength(expected);
  expect(new Set(users.map((u) => u.onPremisesImmutableId)).size).toBe(expected);
  expect(new Set(users.map((u) => u.userPrincipalName)).size).toBe(expected);
}

beforeAll(async () => {
  h = await startHarness();
  ad = await TestDirectory.open();
  await ad.resetOu(OU);
  await addUsers(0, 30);
  config = writeSyncConfig(h, { scope: { ous: [OU] }, batchSize: 5 });
}, 60_000);

afterAll(async () => {
  await ad?.close();
  await h?.graph.close();
});

describe('gatehouse sync, interrupted and throttled', () => {
  it('a full cycle killed while Graph holds a batch answer resumes without losing or duplicating a user', async () => {
    await killMidCycle(10);
    const before = ours().length;
    expect(before).toBeGreaterThanOrEqual(10);
    expect(before).toBeLessThan(30);
    const run = await runSync(h, config);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(run.stdout).toMatch(/full cycle finished/); // no high-water mark was recorded: still a full cycle
    expectEachUserOnce(30);
    expect(creates().filter((r) => r.status === 201)).toHaveLength(30);
    expect(summaryOf(run.stdout)).toMatchObject({ created: 30 - before, errors: 0 });
  });

  it('an incremental cycle killed mid-batch resumes the same way (look-up by onPremisesImmutableId)', async () => {
    await addUsers(30, 45);
    await killMidCycle(35);
    const run = await runSync(h, config);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(run.stdout).toMatch(/incremental cycle finished/);
    expectEachUserOnce(45);
    expect(creates().filter((r) => r.status === 201)).toHaveLength(45);
    expect(creates().filter((r) => r.status === 400)).toHaveLength(0);
    const again = await runSync(h, config);
    expect(summaryOf(again.stdout)).toMatchObject({ created: 0, updated: 0, errors: 0 });
  });

  it('users whose create was never confirmed and who then leave AD are found in Entra and disabled, not forgotten', async () => {
    await addUsers(45, 50);
    await killMidCycle(46);
    const sent = ours().filter((u) => u.userPrincipalName >= 'sync-r045');
    expect(sent.length).toBeGreaterThanOrEqual(1);
    disabledInCloud = sent.length;
    for (let i = 45; i < 50; i++) await ad.delete(`CN=sync-r${String(i).padStart(3, '0')},${OU}`);
    const run = await runSync(h, config);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    const left = ours().filter((u) => u.userPrincipalName >= 'sync-r045');
    expect(left.map((u) => u.userPrincipalName).sort()).toEqual(sent.map((u) => u.userPrincipalName).sort());
    for (const u of left) expect(u.accountEnabled, u.userPrincipalName).toBe(false);
    expect(summaryOf(run.stdout)).toMatchObject({ disabled: sent.length, errors: 0 });
  });

  it('honours Retry-After on throttled $batch sub-requests and on a whole 429/503', async () => {
    h.graph.ctx.options.writeLimit = { writes: 5, windowSeconds: 1 };
    h.graph.ctx.faults.push({ match: isBatch, status: 503, times: 1 }, { match: isBatch, status: 429, retryAfterSeconds: 1, times: 1 });
    await addUsers(50, 65);
    const started = Date.now();
    const run = await runSync(h, config);
    h.graph.ctx.options.writeLimit = undefined;
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expectEachUserOnce(60 + disabledInCloud);
    const throttled = h.graph.ctx.log.filter((r) => r.at >= started && r.status === 429);
    expect(throttled.filter((r) => r.sub).length).toBeGreaterThan(0);
    expect(throttled.filter((r) => !r.sub)).toHaveLength(1);
    expect(h.graph.ctx.retryAfterViolations).toBe(0);
    expect(run.stdout).toMatch(/throttled [1-9]/);
    expect(Date.now() - started).toBeGreaterThanOrEqual(2000); // 15 writes at 5 per second
  });
});
