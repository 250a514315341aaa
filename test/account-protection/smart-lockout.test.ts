import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Browser } from '../support/http.js';
import { startGatehouse, type RunningGatehouse } from '../support/gatehouse.js';
import { freshUser, adBadPwdCount } from '../support/users.js';
import { samba, unlockUser } from '../support/directory.js';
import { runCli } from '../support/cli.js';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));

const M365 = 'urn:federation:MicrosoftOnline';
const FAMILIAR = '198.51.100.7';
const ATTACKER = '203.0.113.66';

/** Gatehouse behind a "proxy" at 127.0.0.1, so X-Forwarded-For sets the client address. */
function behindProxy(extra: (c: Record<string, any>) => void = () => {}) {
  return (c: Record<string, any>) => {
    c.trustedProxies = ['127.0.0.1'];
    delete c.lockout.threshold; // default: half of AD's lockoutThreshold (3) = 1
    extra(c);
  };
}

async function attempt(gh: RunningGatehouse, from: string, username: string, password: string) {
  const browser = new Browser({ 'x-forwarded-for': from });
  const login = await browser.get(`${gh.url}/adfs/ls/?wa=wsignin1.0&wtrealm=${encodeURIComponent(M365)}`);
  const form = login.form();
  const page = await browser.post(new URL(form.action, gh.url).toString(), { ...form.fields, UserName: username, Password: password });
  return { status: page.status, token: page.body.includes('name="wresult"'), error: page.text('#error') };
}

describe('smart lockout (enforce)', () => {
  const user = freshUser('prot-spray', 'Passw0rd!Spray1');
  let gh: RunningGatehouse;
  beforeAll(async () => {
    gh = await startGatehouse(behindProxy());
  });
  afterAll(async () => {
    await gh?.close();
    unlockUser(user.sam);
  });

  it("takes half of AD's lockoutThreshold by default", () => {
    const ready = gh.logs.find((l) => l.msg === 'smart lockout ready');
    expect(ready).toMatchObject({ mode: 'enforce', threshold: 1, adThreshold: 3 });
  });

  it('a spray from an unknown address never reaches AD after the threshold, and the user still signs in from a familiar one', async () => {
    expect((await attempt(gh, FAMILIAR, user.upn, user.password)).token).toBe(true); // FAMILIAR is now familiar
    const before = adBadPwdCount(user.sam);
    for (let i = 0; i < 6; i++) {
      const r = await attempt(gh, ATTACKER, user.upn, `Spray-${i}!x`);
      expect(r).toMatchObject({ status: 401, token: false, error: 'The user name or password is incorrect.' });
    }
    // Only the first bad password reached AD; the other five were refused by Gatehouse.
    expect(adBadPwdCount(user.sam) - before).toBe(1);
    expect(gh.logs.filter((l) => l.event === 'extranet_lockout' && l.enforced)).toHaveLength(5);
    // Even the right password is refused from the unknown address while it is locked...
    expect(await attempt(gh, ATTACKER, user.upn, user.password)).toMatchObject({ status: 401, token: false });
    // ...while the user signs in from the familiar address, and AD never locked the account.
    expect((await attempt(gh, FAMILIAR, user.upn, user.password)).token).toBe(true);
    expect(adBadPwdCount(user.sam)).toBeLessThan(3);
  });

  it('writes one audit line per attempt, with address, relying party, outcome and reason, and no password', () => {
    const lines = gh.logs.filter((l) => l.event === 'signin_attempt');
    expect(lines.length).toBeGreaterThanOrEqual(9);
    expect(lines).toContainEqual(expect.objectContaining({ addresses: [ATTACKER], realm: M365, outcome: 'failure', reason: 'GH_EXTRANET_LOCKOUT' }));
    expect(lines).toContainEqual(expect.objectContaining({ addresses: [FAMILIAR], realm: M365, outcome: 'success', user: user.upn }));
    const tokens = gh.logs.filter((l) => l.event === 'token_issued');
    expect(tokens).toContainEqual(expect.objectContaining({ realm: M365, user: user.upn, addresses: [FAMILIAR] }));
    expect(JSON.stringify(gh.logs)).not.toContain(user.password);
    expect(JSON.stringify(gh.logs)).not.toContain('Spray-0!x');
  });

  it('counters survive a restart, and the admin command lists and resets them', async () => {
    const stateDir = gh.config.stateDir;
    await gh.close();
    gh = await startGatehouse(behindProxy((c) => (c.stateDir = stateDir)));
    expect(await attempt(gh, ATTACKER, user.upn, user.password)).toMatchObject({ status: 401, token: false });

    const cfgFile = join(gh.dir, 'admin.yaml');
    writeFileSync(cfgFile, stringify({ ...gh.configRaw, stateDir }));
    const cli = (...args: string[]) => runCli([...args, '--config', cfgFile], { cwd: root });
    const list = cli('lockout', 'list', '--user', user.upn, '--json');
    expect(list.status, list.stderr).toBe(0);
    const [row] = JSON.parse(list.stdout);
    expect(row).toMatchObject({ userName: user.upn, badUnknown: 1, familiarAddresses: [FAMILIAR] });

    const reset = cli('lockout', 'reset', user.upn, '--location', 'unknown');
    expect(reset.status, reset.stderr).toBe(0);
    expect((await attempt(gh, ATTACKER, user.upn, user.password)).token).toBe(true);
    expect(cli('lockout', 'reset', 'nobody@nowhere').stderr).toContain('no lockout state for nobody@nowhere');
  });
});

describe('smart lockout (log-only and configuration)', () => {
  const user = freshUser('prot-logonly', 'Passw0rd!LogOnly1');
  afterAll(() => unlockUser(user.sam));

  it('log-only refuses nothing but logs what it would refuse', async () => {
    const gh = await startGatehouse(behindProxy((c) => (c.lockout.mode = 'log-only')));
    try {
      expect((await attempt(gh, ATTACKER, user.upn, 'Wrong-1!x')).status).toBe(401);
      const r = await attempt(gh, ATTACKER, user.upn, user.password);
      expect(r.token).toBe(true);
      expect(gh.logs).toContainEqual(expect.objectContaining({ event: 'extranet_lockout', mode: 'log-only', enforced: false }));
    } finally {
      await gh.close();
    }
  });

  it("refuses to start in enforce mode with a threshold not below AD's", async () => {
    await expect(startGatehouse((c) => (c.lockout = { threshold: 3 }))).rejects.toThrow(
      "lockout.threshold: 3 is not below AD's lockoutThreshold (3)",
    );
  });

  it('off: no counters at all', async () => {
    const gh = await startGatehouse(behindProxy((c) => (c.lockout.mode = 'off')));
    try {
      await attempt(gh, ATTACKER, user.upn, 'Wrong-2!x');
      expect((await attempt(gh, ATTACKER, user.upn, user.password)).token).toBe(true);
      expect(gh.logs.some((l) => l.event === 'extranet_lockout')).toBe(false);
    } finally {
      await gh.close();
    }
  });

  it('the client address comes from X-Forwarded-For only through a trusted proxy', async () => {
    const gh = await startGatehouse(); // no trustedProxies
    try {
      await attempt(gh, ATTACKER, user.upn, user.password);
      const line = gh.logs.find((l) => l.event === 'signin_attempt');
      expect(line?.addresses).toEqual(['127.0.0.1']);
    } finally {
      await gh.close();
    }
  });
});

describe('smart lockout on WS-Trust (Exchange Online relaying basic auth)', () => {
  const user = freshUser('prot-exo', 'Passw0rd!Exo1');
  afterAll(() => unlockUser(user.sam));

  it("counts X-MS-Forwarded-Client-IP's address as the client, and stops the spray before AD", async () => {
    const { buildRst, V13 } = await import('../wstrust/soap-client.js');
    const gh = await startGatehouse(behindProxy());
    try {
      const exo = '52.96.1.1'; // Exchange Online's address, as the proxy reports it in X-Forwarded-For
      const rst = async (password: string) => {
        const res = await fetch(`${gh.url}${V13.path}`, {
          method: 'POST',
          headers: { 'content-type': 'application/soap+xml; charset=utf-8', 'x-forwarded-for': exo, 'x-ms-forwarded-client-ip': ATTACKER },
          body: buildRst(V13, { baseUrl: gh.url, username: user.upn, password }),
        });
        return { status: res.status, body: await res.text() };
      };
      expect((await attempt(gh, FAMILIAR, user.upn, user.password)).token).toBe(true); // FAMILIAR is familiar
      const before = adBadPwdCount(user.sam);
      for (let i = 0; i < 4; i++) expect((await rst(`Exo-Spray-${i}!`)).body).toContain('FailedAuthentication');
      expect(adBadPwdCount(user.sam) - before).toBe(1);
      const locked = gh.logs.filter((l) => l.event === 'extranet_lockout');
      expect(locked.length).toBe(3);
      expect(locked[0]?.addresses).toEqual([exo, ATTACKER]);
      // The user still signs in from the familiar address; the relayed path stays locked.
      expect((await attempt(gh, FAMILIAR, user.upn, user.password)).token).toBe(true);
      expect((await rst(user.password)).body).toContain('FailedAuthentication');
    } finally {
      await gh.close();
    }
  });
});

describe('humane defaults derived from AD (thresholds 3, 5 and 10)', () => {
  const user = freshUser('prot-typo', 'Passw0rd!Typo1');
  const setAdThreshold = (n: number) => samba('domain', 'passwordsettings', 'set', `--account-lockout-threshold=${n}`);
  afterAll(() => {
    setAdThreshold(3);
    unlockUser(user.sam);
  });

  it.each([
    [3, 1, 2],
    [5, 2, 3],
    [10, 5, 5],
  ])('AD threshold %i: unknown %i, familiar %i, a typo then the right password from home is never refused', async (ad, unknown, familiar) => {
    setAdThreshold(ad);
    const gh = await startGatehouse(behindProxy());
    try {
      const ready = gh.logs.find((l) => l.msg === 'smart lockout ready');
      expect(ready).toMatchObject({ threshold: unknown, familiarThreshold: familiar, adThreshold: ad, observationWindowMinutes: 1, adObservationWindowMinutes: 1 });
      expect(ready?.why.join('\n')).toContain('reset account lockout counter after');
      expect((await attempt(gh, FAMILIAR, user.upn, user.password)).token).toBe(true);
      // A sprayer uses up what unknown locations may try...
      for (let i = 0; i < unknown + 2; i++) await attempt(gh, ATTACKER, user.upn, `Typo-spray-${i}!`);
      // ...and the user still gets one typo and then in.
      expect(await attempt(gh, FAMILIAR, user.upn, 'Passw0rd!Typo')).toMatchObject({ status: 401, token: false });
      expect((await attempt(gh, FAMILIAR, user.upn, user.password)).token).toBe(true);
      expect(adBadPwdCount(user.sam)).toBe(0);
    } finally {
      await gh.close();
      unlockUser(user.sam);
    }
  });
});
