// Issue 18, item 2: a session cookie must not outlive sign-out, a password change or an admin's revoke.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Browser } from '../support/http.js';
import { startGatehouse, TEST_RP, type RunningGatehouse } from '../support/gatehouse.js';
import { USERS } from '../support/directory.js';
import { ensureBuilt, runCli } from '../support/cli.js';

let gh: RunningGatehouse;
beforeAll(async () => {
  ensureBuilt();
  gh = await startGatehouse();
});
afterAll(async () => gh?.close());

const signInUrl = () => `${gh.url}/adfs/ls/?wa=wsignin1.0&wtrealm=${encodeURIComponent(TEST_RP.id)}`;

async function signIn(user: { upn: string; password: string }): Promise<Browser> {
  const b = new Browser();
  const form = (await b.get(signInUrl())).form();
  const page = await b.post(form.action, { ...form.fields, UserName: user.upn, Password: user.password });
  expect(page.form().fields.wresult).toBeTruthy();
  return b;
}

/** A second browser holding a copy of the first one's session cookie (what an attacker would have). */
function copyOf(b: Browser): Browser {
  const thief = new Browser();
  thief.cookies.set(gh.config.session.cookieName, b.cookies.get(gh.config.session.cookieName)!);
  return thief;
}

async function gotToken(b: Browser): Promise<boolean> {
  const page = await b.get(signInUrl());
  return page.status === 200 && page.body.includes('name="wresult"');
}

describe('server-side session revocation', () => {
  it('a copied cookie stops working when its browser signs out (wsignout1.0)', async () => {
    const b = await signIn(USERS.alice);
    const thief = copyOf(b);
    expect(await gotToken(thief)).toBe(true);
    await b.get(`${gh.url}/adfs/ls/?wa=wsignout1.0`);
    expect(b.cookies.has(gh.config.session.cookieName)).toBe(false);
    expect(await gotToken(thief)).toBe(false);
    expect(gh.logs.some((l) => l.event === 'session_revoked_used')).toBe(true);
    // A new sign-in works as before.
    expect(await gotToken(await signIn(USERS.alice))).toBe(true);
  });

  it("'gatehouse sessions revoke USER' ends every session of the account, on a running server", async () => {
    const one = await signIn(USERS.ivan);
    const two = await signIn(USERS.ivan);
    const other = await signIn(USERS.alice);
    const file = join(gh.dir, 'cli.yaml');
    writeFileSync(file, stringify(gh.configRaw));
    const r = runCli(['sessions', 'revoke', 'ivan', '--config', file], { cwd: gh.dir });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('revoked every session of ivan@corp.example.test');
    expect(await gotToken(one)).toBe(false);
    expect(await gotToken(two)).toBe(false);
    expect(await gotToken(other)).toBe(true);
    // Signing in again starts a session that is not revoked.
    expect(await gotToken(await signIn(USERS.ivan))).toBe(true);
    const unknown = runCli(['sessions', 'revoke', 'nobody-here', '--config', file], { cwd: gh.dir });
    expect(unknown.status).toBe(1);
    expect(unknown.stderr).toContain('no account matches');
  });
});
