import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Browser } from '../support/http.js';
import { startGatehouse, type RunningGatehouse } from '../support/gatehouse.js';
import { freshUser } from '../support/users.js';
import { DC, ldapBind, unlockUser } from '../support/directory.js';
import { attributes } from '../support/wsfed.js';
import { parseXml } from '../support/xml.js';

const M365 = 'urn:federation:MicrosoftOnline';
const EXPIRY_NS = 'http://schemas.microsoft.com/ws/2012/01';

let gh: RunningGatehouse;
beforeAll(async () => {
  gh = await startGatehouse((c) => {
    // Password changes need an encrypted connection: StartTLS on ldap://, verified with Samba's CA.
    c.directory.caFile = DC.caFile;
    c.directory.tlsServerName = DC.tlsServerName;
  });
});
afterAll(async () => gh?.close());

async function signIn(browser: Browser, username: string, password: string) {
  const login = await browser.get(`${gh.url}/adfs/ls/?wa=wsignin1.0&wtrealm=${encodeURIComponent(M365)}`);
  const form = login.form();
  return browser.post(new URL(form.action, gh.url).toString(), { ...form.fields, UserName: username, Password: password });
}

describe("Microsoft's password-expiry claims", () => {
  it('are sent when the password expires within 14 days (42-day policy, password 35 days old)', async () => {
    const user = freshUser('exp-soon', 'Passw0rd!Soon1', { passwordAgeDays: 35 });
    const page = await signIn(new Browser(), user.upn, user.password);
    const claims = attributes(parseXml(page.form().fields.wresult!));
    expect(claims[`${EXPIRY_NS}/passwordexpirationdays`]).toEqual([expect.stringMatching(/^[67]$/)]);
    const expires = Date.parse(claims[`${EXPIRY_NS}/passwordexpirationtime`]![0]!);
    expect(expires - Date.now()).toBeGreaterThan(6 * 86_400_000);
    expect(expires - Date.now()).toBeLessThan(8 * 86_400_000);
    expect(claims[`${EXPIRY_NS}/passwordchangeurl`]).toEqual([`${gh.url}/adfs/portal/updatepassword`]);
  });

  it('are not sent for a password far from expiry', async () => {
    const user = freshUser('exp-far', 'Passw0rd!Far1');
    const page = await signIn(new Browser(), user.upn, user.password);
    const claims = attributes(parseXml(page.form().fields.wresult!));
    // insidecorporatenetwork shares the namespace; the expiry claims are the password* ones.
    expect(Object.keys(claims).filter((k) => k.startsWith(`${EXPIRY_NS}/password`))).toEqual([]);
  });
});

describe('expired password: change it, then the sign-in finishes', () => {
  const user = freshUser('exp-gone', 'Passw0rd!Gone1', { passwordAgeDays: 50 });
  afterAll(() => unlockUser(user.sam));

  it('changes the password in AD and posts the token', async () => {
    const browser = new Browser();
    const change = await signIn(browser, user.upn, user.password);
    expect(change.text('#reason')).toMatch(/expired/);
    const form = change.form();
    expect(form.fields.Action).toBe('changePassword');
    const post = (fields: Record<string, string>) => browser.post(new URL(form.action, gh.url).toString(), { ...form.fields, ...fields });

    const weak = await post({ OldPassword: user.password, NewPassword: 'abc', ConfirmPassword: 'abc' });
    expect(weak.status).toBe(400);
    expect(weak.text('#error')).toMatch(/not accepted/);

    const newPassword = `N3w-Passw0rd!${Date.now() % 100000}`;
    const done = await post({ OldPassword: user.password, NewPassword: newPassword, ConfirmPassword: newPassword });
    expect(done.form().action).toBe('https://login.microsoftonline.com/login.srf');
    expect(attributes(parseXml(done.form().fields.wresult!))['http://schemas.xmlsoap.org/claims/UPN']).toEqual([user.upn]);
    expect(ldapBind(user.upn, newPassword).ok).toBe(true);
    // (The old password may still bind for a while: Samba, like AD, honours "old password allowed period".)
  });

  it('a wrong current password is a wrong password, and the explanation stays on the page', async () => {
    // Its own user: from an unknown address with AD's threshold at 3, one bad password is all smart lockout
    // lets through before the window passes (docs/account-protection.md).
    const other = freshUser('exp-wrong', 'Passw0rd!Wrong1', { passwordAgeDays: 50 });
    try {
      const browser = new Browser();
      const change = await signIn(browser, other.upn, other.password);
      const form = change.form();
      const wrongOld = await browser.post(form.action, { ...form.fields, OldPassword: 'not-it', NewPassword: 'N3w-Passw0rd!a', ConfirmPassword: 'N3w-Passw0rd!a' });
      expect(wrongOld.status).toBe(401);
      expect(wrongOld.text('#error')).toBe('The user name or password is incorrect.');
      expect(wrongOld.text('#reason')).toMatch(/expired/);
    } finally {
      unlockUser(other.sam);
    }
  });
});

describe('the change-password portal (/adfs/portal/updatepassword)', () => {
  const user = freshUser('portal-user', 'Passw0rd!Portal1', { passwordAgeDays: 3 });
  afterAll(() => unlockUser(user.sam));

  it('changes a valid password without issuing any token', async () => {
    const browser = new Browser();
    const page = await browser.get(`${gh.url}/adfs/portal/updatepassword?username=${encodeURIComponent(user.upn)}`);
    expect(page.status).toBe(200);
    const form = page.form();
    expect(form.fields.UserName).toBe(user.upn);
    const newPassword = `P0rtal-Changed!${Date.now() % 100000}`;
    const mismatch = await browser.post(form.action, { ...form.fields, OldPassword: user.password, NewPassword: newPassword, ConfirmPassword: 'x' });
    expect(mismatch.text('#error')).toBe('The new passwords do not match.');
    const done = await browser.post(form.action, { ...form.fields, OldPassword: user.password, NewPassword: newPassword, ConfirmPassword: newPassword });
    expect(done.status).toBe(200);
    expect(done.text('#done')).toBe('Your password has been changed.');
    expect(done.body).not.toContain('wresult');
    expect(ldapBind(user.upn, newPassword).ok).toBe(true);
  });
});
