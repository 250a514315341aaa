// A user deleted in AD, with an OU-only scope. With a service account that cannot list CN=Deleted Objects
// (the default for a non-admin, as the test DC's svc-gatehouse) the tombstone search finds nothing, so
// the incremental cycle must find the deletion by the set difference, and say why it reads every user;
// with one that can (the domain administrator here; the README says how to grant it), the deletion is a
// tombstone among the changes and nothing else is read.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DC } from '../support/directory.js';
import { TestDirectory, runSync, startHarness, summaryOf, writeSyncConfig, type SyncHarness } from './support.js';

const OU = `OU=SyncDel,${DC.baseDn}`;
let h: SyncHarness;
let ad: TestDirectory;
let config: string;
const dn: Record<string, string> = {};

beforeAll(async () => {
  h = await startHarness();
  ad = await TestDirectory.open();
  await ad.resetOu(OU);
  for (const n of ['d1', 'd2', 'd3']) dn[n] = await ad.addUser(`syncdel-${n}`, { ou: OU });
  config = writeSyncConfig(h, { scope: { ous: [OU] } });
}, 60_000);

afterAll(async () => {
  await ad?.close();
  await h?.graph.close();
});

describe('gatehouse sync, deletions without access to CN=Deleted Objects', () => {
  it('an incremental cycle disables a user deleted in AD, and warns that it read every user to find it', async () => {
    const first = await runSync(h, config);
    expect(first.code, first.stdout + first.stderr).toBe(0);
    expect(summaryOf(first.stdout)).toMatchObject({ created: 3, errors: 0 });

    await ad.delete(dn.d2!);
    const run = await runSync(h, config);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(run.stdout).toMatch(/incremental cycle finished/);
    expect(summaryOf(run.stdout)).toMatchObject({ disabled: 1, updated: 0, created: 0, errors: 0 });
    expect(h.graph.users.byUpn(`syncdel-d2@${DC.realm}`)!.accountEnabled).toBe(false);
    expect(h.graph.users.byUpn(`syncdel-d1@${DC.realm}`)!.accountEnabled).toBe(true);
    expect(run.stderr).toContain('cannot list CN=Deleted Objects');
  }, 60_000);

  it('an account that may list CN=Deleted Objects finds the deletion as a tombstone among the changes', async () => {
    const admin = writeSyncConfig(h, { scope: { ous: [OU] } }, 'admin.yaml', { bindDn: DC.admin.dn, bindPassword: DC.admin.password });
    await ad.delete(dn.d3!);
    // The reason tells the paths apart: a tombstone says "deleted in AD", the set difference cannot know.
    const dry = await runSync(h, admin, ['--dry-run']);
    expect(dry.stdout).toContain(`disable  syncdel-d3@${DC.realm}  (deleted in AD; CN=syncdel-d3,${OU})`);
    const run = await runSync(h, admin);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(run.stdout).toMatch(/incremental cycle finished/);
    expect(summaryOf(run.stdout)).toMatchObject({ disabled: 1, updated: 0, created: 0, errors: 0 });
    expect(h.graph.users.byUpn(`syncdel-d3@${DC.realm}`)!.accountEnabled).toBe(false);
    expect(h.graph.users.byUpn(`syncdel-d1@${DC.realm}`)!.accountEnabled).toBe(true);
    expect(run.stderr).not.toContain('cannot list CN=Deleted Objects');
  }, 60_000);
});
