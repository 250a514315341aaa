// Every error a user may need to report shows a reference id that is in the log (issue 11, item 12).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Browser } from '../support/http.js';
import { startGatehouse, type RunningGatehouse } from '../support/gatehouse.js';
import { USERS } from '../support/directory.js';

let gh: RunningGatehouse;
beforeAll(async () => {
  // A domain controller that is not there (a closed loopback port): sign-in is unavailable.
  gh = await startGatehouse((c) => {
    c.directory.urls = ['ldap://127.0.0.1:1'];
    c.directory.timeoutMs = 500;
    c.lockout = { mode: 'off' };
  });
});
afterAll(async () => gh?.close());

describe('error pages', () => {
  it('the login form says sign-in is unavailable and shows the reference id that the log has', async () => {
    const b = new Browser();
    const form = (await b.get(`${gh.url}/adfs/ls/?wa=wsignin1.0&wtrealm=urn%3Atest%3Arp`)).form();
    const page = await b.post(form.action, { ...form.fields, UserName: USERS.alice.upn, Password: USERS.alice.password });
    expect(page.status).toBe(503);
    expect(page.text('#error')).toMatch(/unavailable/);
    const ref = page.text('#correlation');
    expect(ref).toMatch(/^[0-9a-f-]{36}$/);
    expect(gh.logs.some((l) => l.correlationId === ref && l.reason === 'GH_DIRECTORY_UNAVAILABLE')).toBe(true);
  });

  it('the change-password page does too', async () => {
    const b = new Browser();
    const form = (await b.get(`${gh.url}/adfs/portal/updatepassword`)).form();
    const page = await b.post(form.action, { ...form.fields, UserName: USERS.alice.upn, OldPassword: 'x', NewPassword: 'N3w-Passw0rd!', ConfirmPassword: 'N3w-Passw0rd!' });
    expect(page.status).toBe(503);
    expect(page.text('#correlation')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('error pages (unknown relying party) and not-found pages show it', async () => {
    const b = new Browser();
    for (const url of [`${gh.url}/adfs/ls/?wa=wsignin1.0&wtrealm=urn%3Anot%3Aregistered`, `${gh.url}/no/such/page`]) {
      const page = await b.get(url);
      expect(page.status).toBeGreaterThanOrEqual(400);
      expect(page.text('#correlation')).toMatch(/^[0-9a-f-]{36}$/);
    }
  });
});
