// The sync worker end to end: Samba AD -> `gatehouse sync` (the built CLI) -> Graph emulator over HTTPS.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DC, objectGuidBase64, samba } from '../support/directory.js';
import { startGatehouse } from '../support/gatehouse.js';
import { Browser } from '../support/http.js';
import { attributes } from '../support/wsfed.js';
import { parseXml } from '../support/xml.js';
import { OU, OUT_OU, TestDirectory, runSync, startHarness, summaryOf, writeSyncConfig, CERT_CLIENT_ID, type SyncHarness } from './support.js';

const R = DC.realm;
const SIGNIN_PASSWORD = 'Passw0rd!SyncSignin1';
let h: SyncHarness;
let ad: TestDirectory;
let config: string;
const dn: Record<string, string> = {};
let scopeGroup: string;
/** Entra object ids of u1..u5 before the rename/disable/move/removal/deletion test. */
let cloudIds: Record<string, string> = {};
let nestedGroup: string;
const consistencyGuid = Buffer.from('00112233445566778899aabbccddeeff', 'hex');

const cloudUpns = () => h.graph.users.all().map((u) => u.userPrincipalName).filter((u) => u.startsWith('sync-')).sort();
const cloud = (upn: string) => h.graph.users.byUpn(upn);
const writesSince = (mark: number) => h.graph.ctx.writes().filter((r) => r.at >= mark);

beforeAll(async () => {
  h = await startHarness();
  ad = await TestDirectory.open();
  await ad.resetOu(OUT_OU);
  await ad.resetOu(OU);
  for (const n of ['u1', 'u2', 'u3', 'u4', 'u5', 'n1', 'n2', 'nogroup']) dn[n] = await ad.addUser(`sync-${n}`, { givenName: n.toUpperCase(), sn: 'Tester', title: 'Engineer' });
  dn.u6 = await ad.addUser('sync-u6', { consistencyGuid });
  dn.legacy = await ad.addUser('sync-legacy', { upn: 'sync-legacy@legacy.local' });
  dn.bad = await ad.addUser('sync-bad', { upn: 'sync-bad@unfederated.example' });
  samba('user', 'create', 'sync-signin', SIGNIN_PASSWORD, '--userou=OU=SyncTest');
  dn.signin = `CN=sync-signin,${OU}`;
  nestedGroup = await ad.addGroup('sync-nested', [dn.n1!, dn.n2!]);
  scopeGroup = await ad.addGroup('sync-scope', [dn.u1!, dn.u2!, dn.u3!, dn.u4!, dn.u5!, dn.u6!, dn.legacy!, dn.bad!, dn.signin, nestedGroup]);
  // pageSize 10: the 12 users in scope take two LDAP pages, so full cycles stage and plan more than one page.
  config = writeSyncConfig(h, { scope: { ous: [OU], group: scopeGroup }, upnSuffixMap: { 'legacy.local': R }, deleteAction: 'delete', batchSize: 4, pageSize: 10 });
}, 60_000);

afterAll(async () => {
  await ad?.close();
  await h?.graph.close();
});

describe('gatehouse sync', () => {
  it('a first full cycle creates every user in scope (OU, nested group, UPN rule) with its ImmutableID', async () => {
    const run = await runSync(h, config);
    expect(run.stderr).not.toMatch(/cycle failed/);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(run.stdout).toMatch(/full cycle finished/);
    expect(summaryOf(run.stdout)).toMatchObject({ created: 10, updated: 0, skipped: 1, errors: 0 });
    expect(run.stdout).toContain('  skip     CN=sync-bad');
    expect(run.stdout).toContain('UPN suffix "unfederated.example" is not a federated domain');
    expect(cloudUpns()).toEqual(
      ['legacy', 'n1', 'n2', 'signin', 'u1', 'u2', 'u3', 'u4', 'u5', 'u6'].map((n) => `sync-${n}@${R}`).sort(),
    );
    // ImmutableID = base64(objectGUID), read by ldapsearch independently of Gatehouse; ms-DS-ConsistencyGuid wins when set.
    for (const n of ['u1', 'n2', 'signin', 'legacy']) expect(cloud(`sync-${n}@${R}`)!.onPremisesImmutableId).toBe(objectGuidBase64(`sync-${n}`));
    expect(cloud(`sync-u6@${R}`)!.onPremisesImmutableId).toBe(consistencyGuid.toString('base64'));
    const u1 = cloud(`sync-u1@${R}`)!;
    expect(u1).toMatchObject({ accountEnabled: true, displayName: 'Sync sync-u1', givenName: 'U1', surname: 'Tester', jobTitle: 'Engineer', mailNickname: 'sync-u1' });
    // Graph writes went through $batch (batchSize 4), never one request per user.
    const direct = h.graph.ctx.log.filter((r) => !r.sub && r.method === 'POST' && r.url.startsWith('/v1.0/users'));
    expect(direct).toHaveLength(0);
  });

  it('the ImmutableID in Graph equals the one in the WS-Fed token Gatehouse issues for the user', async () => {
    const gh = await startGatehouse();
    try {
      const browser = new Browser();
      const login = await browser.get(`${gh.url}/adfs/ls/?wa=wsignin1.0&wtrealm=urn:federation:MicrosoftOnline`);
      const form = login.form();
      const page = await browser.post(new URL(form.action, gh.url).toString(), { ...form.fields, UserName: `sync-signin@${R}`, Password: SIGNIN_PASSWORD });
      const claims = attributes(parseXml(page.form().fields.wresult!));
      const tokenId = claims['http://schemas.microsoft.com/LiveID/Federation/2008/05/ImmutableID']![0];
      expect(tokenId).toBeTruthy();
      expect(cloud(`sync-signin@${R}`)!.onPremisesImmutableId).toBe(tokenId);
    } finally {
      await gh.close();
    }
  });

  it('a second cycle with no change in AD is incremental and makes zero writes', async () => {
    const mark = Date.now();
    const run = await runSync(h, config);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/incremental cycle finished/);
    expect(writesSince(mark)).toHaveLength(0);
    expect(summaryOf(run.stdout)).toMatchObject({ created: 0, updated: 0, disabled: 0, deleted: 0, errors: 0 });
  });

  it('--dry-run prints the plan with the changed attributes and writes nothing', async () => {
    await ad.replace(dn.u1!, 'displayName', 'Renamed One');
    const mark = Date.now();
    const run = await runSync(h, config, ['--dry-run']);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain(`update   sync-u1@${R}  displayName: "Sync sync-u1" -> "Renamed One"`);
    expect(writesSince(mark)).toHaveLength(0);
    expect(cloud(`sync-u1@${R}`)!.displayName).toBe('Sync sync-u1');
  });

  it('a rename, a disable, a move out of the OU, a group removal and a deletion are one write each', async () => {
    await ad.replace(dn.u2!, 'userAccountControl', '546');
    await ad.move(dn.u3!, OUT_OU);
    await ad.removeMember(scopeGroup, dn.u4!);
    await ad.delete(dn.u5!);
    const ids = Object.fromEntries(['u1', 'u2', 'u3', 'u4', 'u5'].map((n) => [n, cloud(`sync-${n}@${R}`)!.id]));
    cloudIds = ids;
    const mark = Date.now();
    const run = await runSync(h, config);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(run.stdout).toMatch(/incremental cycle finished/);
    const writes = writesSince(mark).map((w) => `${w.method} ${w.url}`).sort();
    expect(writes).toEqual(
      [`PATCH /v1.0/users/${ids.u1}`, `PATCH /v1.0/users/${ids.u2}`, `DELETE /v1.0/users/${ids.u3}`, `DELETE /v1.0/users/${ids.u4}`, `DELETE /v1.0/users/${ids.u5}`].sort(),
    );
    expect(cloud(`sync-u1@${R}`)!.displayName).toBe('Renamed One');
    expect(cloud(`sync-u2@${R}`)!.accountEnabled).toBe(false);
    for (const n of ['u3', 'u4', 'u5']) expect(h.graph.users.deleted.has(ids[n]!)).toBe(true);
    expect(summaryOf(run.stdout)).toMatchObject({ updated: 2, deleted: 3, created: 0, errors: 0 });
  });

  it('a user the sync deleted who comes back into scope gets the same cloud object back (restored, not created anew)', async () => {
    const u3 = cloudIds.u3!;
    expect(h.graph.users.deleted.has(u3)).toBe(true);
    await ad.move(`CN=sync-u3,${OUT_OU}`, OU);
    const dry = await runSync(h, config, ['--dry-run']);
    expect(dry.stdout).toContain(`update   sync-u3@${R} [restore of deleted cloud user ${u3}]`);
    const mark = Date.now();
    const run = await runSync(h, config);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(writesSince(mark).map((w) => `${w.method} ${w.url}`)).toEqual([`POST /v1.0/directory/deletedItems/${u3}/restore`, `PATCH /v1.0/users/${u3}`]);
    expect(h.graph.users.deleted.has(u3)).toBe(false);
    expect(cloud(`sync-u3@${R}`)).toMatchObject({ id: u3, accountEnabled: true, onPremisesImmutableId: objectGuidBase64('sync-u3') });
    expect(summaryOf(run.stdout)).toMatchObject({ created: 0, updated: 1, errors: 0 });

    // Past Entra's 30 days the deleted object is gone for good: the user is created again.
    const u4 = cloudIds.u4!;
    h.graph.users.deleted.delete(u4);
    await ad.addMembers(scopeGroup, [dn.u4!]);
    const again = await runSync(h, config);
    expect(again.code, again.stdout + again.stderr).toBe(0);
    expect(summaryOf(again.stdout)).toMatchObject({ created: 1, updated: 0, errors: 0 });
    expect(cloud(`sync-u4@${R}`)).toMatchObject({ accountEnabled: true, onPremisesImmutableId: objectGuidBase64('sync-u4') });
    expect(cloud(`sync-u4@${R}`)!.id).not.toBe(u4);
  });

  it('the deletion threshold stops a mass removal before any write, until run with --allow-deletions', async () => {
    const strict = writeSyncConfig(h, { scope: { ous: [OU], group: scopeGroup }, upnSuffixMap: { 'legacy.local': R }, deleteAction: 'delete', batchSize: 4, deletionThreshold: 1 }, 'strict.yaml');
    await ad.removeMember(scopeGroup, nestedGroup); // n1 and n2 leave the scope at once
    const mark = Date.now();
    const stopped = await runSync(h, strict);
    expect(stopped.code).toBe(3);
    expect(stopped.stdout).toContain('stopped-deletion-threshold-exceeded');
    expect(stopped.stdout).toMatch(/2 users would be deleted, more than sync.deletionThreshold \(1\)/);
    expect(writesSince(mark)).toHaveLength(0);
    const again = await runSync(h, strict); // still stopped: nothing was forgotten
    expect(again.code).toBe(3);
    const allowed = await runSync(h, strict, ['--once', '--allow-deletions']);
    expect(allowed.code, allowed.stderr).toBe(0);
    expect(summaryOf(allowed.stdout)).toMatchObject({ deleted: 2 });
    expect(writesSince(mark).map((w) => w.method)).toEqual(['DELETE', 'DELETE']);
  });

  it('authenticates with a certificate (client_assertion) as well as a secret', async () => {
    // The OU listed twice (as overlapping OUs would): every user is still considered once.
    const certConfig = writeSyncConfig(
      h,
      { clientId: CERT_CLIENT_ID, clientSecret: undefined, clientCertificateFile: h.certClient.pemFile, scope: { ous: [OU, OU], group: scopeGroup }, upnSuffixMap: { 'legacy.local': R }, deleteAction: 'delete', batchSize: 4, pageSize: 10 },
      'cert.yaml',
    );
    const mark = Date.now();
    const run = await runSync(h, certConfig, ['--once', '--full']);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(run.stdout).toMatch(/full cycle finished/);
    expect(writesSince(mark)).toHaveLength(0); // a full cycle after the incremental ones finds nothing to do
    expect(summaryOf(run.stdout)).toMatchObject({ created: 0, updated: 0, skipped: 1, errors: 0 });
    expect(h.graph.ctx.log.some((r) => r.url.includes('/oauth2/v2.0/token') && r.status === 200 && r.at >= mark)).toBe(true);
  });
});
