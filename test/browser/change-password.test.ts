// Changing a password in Chromium: a user whom AD sends to the change-password page (must change at next
// logon, or password expired) types the old password, gets clear errors for mismatching and too-simple new
// passwords, then a good one: AD has the new password (and no longer the old one) and the browser ends on
// the relying party with a token for that user. The relying party is a local HTTP server that records
// what the browser POSTs. Password changes go over StartTLS, verified with Samba's CA.
import { randomBytes } from 'node:crypto';
import type { Browser, Page } from 'playwright-core';
import { startFormCatcher, type FormCatcher } from '../support/form-catcher.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGatehouse, type RunningGatehouse } from '../support/gatehouse.js';
import { DC, ldapBind, unlockUser } from '../support/directory.js';
import { adPassword, freshUser, ntHash } from '../support/users.js';
import { attributes, count } from '../support/wsfed.js';
import { parseXml, SAML11_ID, xmlsecVerify } from '../support/xml.js';
import { launchChromium, watch, type PageLog } from '../support/chromium.js';

const REALM = 'urn:test:change-password';
const UPN_CLAIM = 'http://schemas.xmlsoap.org/claims/UPN';
const WAIT = { timeout: 10_000 };
const MISMATCH = 'The new passwords do not match.';
const REJECTED = 'The new password was not accepted. It may be too short, too simple, used before, or changed too recently.';

let gh: RunningGatehouse;
let browser: Browser;
let rp: FormCatcher;
let acsUrl: string;
/** Form posts the relying party received, newest last. */
let received: URLSearchParams[] = [];

const users = {
  mustChange: freshUser('chg-must', 'Passw0rd!Must1', { mustChange: true }),
  expired: freshUser('chg-expired', 'Passw0rd!Exp1', { passwordAgeDays: 50 }),
};

beforeAll(async () => {
  rp = await startFormCatcher();
  ({ acsUrl, received } = rp);
  gh = await startGatehouse((c) => {
    c.relyingParties.push({ id: REALM, name: 'Change-password RP', replyUrls: [acsUrl] });
    // ldap:// stays; the product upgrades with StartTLS for the change, verifying the DC's certificate.
    c.directory.caFile = DC.caFile;
    c.directory.tlsServerName = DC.tlsServerName;
  });
  browser = await launchChromium();
});

afterAll(async () => {
  // Browser first: its keep-alive connections would otherwise hold the servers open.
  await browser?.close();
  await rp?.close();
  await gh?.close();
  for (const u of Object.values(users)) unlockUser(u.sam);
});

const signInUrl = () => `${gh.url}/adfs/ls/?wa=wsignin1.0&wtrealm=${encodeURIComponent(REALM)}&wctx=chg`;

/** Submits the change-password form and waits for Gatehouse's answer to load. */
async function submitChange(page: Page, old: string, next: string, confirm: string) {
  await page.locator('#OldPassword').fill(old);
  await page.locator('#NewPassword').fill(next);
  await page.locator('#ConfirmPassword').fill(confirm);
  const [response] = await Promise.all([
    page.waitForResponse((r) => r.request().method() === 'POST' && r.url() === signInUrl(), WAIT),
    page.locator('#submitButton').click(),
  ]);
  await page.waitForLoadState('domcontentloaded');
  return response.status();
}

/** The error shown on the re-rendered change-password page, with the form ready for another try. */
async function expectChangeError(page: Page, status: number, expectedStatus: number, message: string, upn: string) {
  expect(status).toBe(expectedStatus);
  await page.locator('#error').waitFor(WAIT);
  expect((await page.locator('#error').textContent())?.trim()).toBe(message);
  expect(await page.locator('#UserName').inputValue()).toBe(upn);
  expect(await page.locator('#OldPassword').inputValue()).toBe('');
  expect(received).toEqual([]);
}

async function reachRp(page: Page, log: PageLog) {
  await page.waitForURL(acsUrl, WAIT).catch((err: unknown) => {
    expect(log.cspViolations).toEqual([]);
    throw err;
  });
}

describe('change an expired or must-change password in Chromium, then finish signing in', () => {
  it.each([
    ['must change at next logon', 'mustChange', 'You must change your password before you can sign in.', '773'],
    ['password expired', 'expired', 'Your password has expired and must be changed before you can sign in.', '532'],
  ] as const)('%s', async (_case, key, reason, adData) => {
    const user = users[key];
    // Before: AD refuses the bind with the state's own code, which is what sends the user to the page.
    expect(ldapBind(user.upn, user.password).data).toBe(adData);
    received.length = 0;
    const newPassword = `N3w-Passw0rd!${randomBytes(3).toString('hex')}`;

    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      const log = watch(page);
      await page.goto(signInUrl());
      await page.locator('#UserName').fill(user.upn);
      await page.locator('#Password').fill(user.password);
      await page.locator('#Password').press('Enter');

      await page.locator('#reason').waitFor(WAIT);
      expect((await page.locator('#reason').textContent())?.trim()).toBe(reason);
      expect(await page.title()).toBe('Change your password');
      expect(await page.locator('#UserName').inputValue()).toBe(user.upn);
      await expect.poll(() => page.locator('#OldPassword').evaluate((el) => el === document.activeElement)).toBe(true);

      const mismatch = await submitChange(page, user.password, newPassword, `${newPassword}x`);
      await expectChangeError(page, mismatch, 400, MISMATCH, user.upn);
      // The explanation of why the page is shown stays with the error.
      expect((await page.locator('#reason').textContent())?.trim()).toBe(reason);

      const tooSimple = await submitChange(page, user.password, 'abc', 'abc');
      await expectChangeError(page, tooSimple, 400, REJECTED, user.upn);
      // What AD answered, as the audit line records it (never the passwords themselves).
      const refusal = gh.logs.filter((l) => l.event === 'password_change' && l.username === user.upn && l.outcome === 'failure').at(-1);
      expect(refusal).toMatchObject({ reason: 'GH_PASSWORD_REJECTED' });
      expect(refusal?.detail).toMatch(/0000052D/i);
      // Neither refusal changed anything in AD.
      expect(ldapBind(user.upn, user.password).data).toBe(adData);

      await page.locator('#OldPassword').fill(user.password);
      await page.locator('#NewPassword').fill(newPassword);
      await page.locator('#ConfirmPassword').fill(newPassword);
      await page.locator('#ConfirmPassword').press('Enter');
      await reachRp(page, log);

      expect(await page.locator('#rp').textContent()).toBe('received');
      expect(received).toHaveLength(1);
      const form = received[0]!;
      expect(form.get('wa')).toBe('wsignin1.0');
      expect(form.get('wctx')).toBe('chg');
      const wresult = form.get('wresult')!;
      const doc = parseXml(wresult);
      expect(count(doc, '//saml:Assertion[@MajorVersion="1" and @MinorVersion="1"]')).toBe(1);
      expect(attributes(doc)[UPN_CLAIM]).toEqual([user.upn]);
      expect(xmlsecVerify(wresult, gh.certPem, SAML11_ID).ok).toBe(true);

      const posts = log.navigations.filter((n) => n.startsWith('POST '));
      // The password, two refused changes, the good one, then the auto-post to the relying party.
      expect(posts).toEqual([...Array(4).fill(`POST ${signInUrl()}`), `POST ${acsUrl}`]);
      expect(log.cspViolations).toEqual([]);
      expect(log.offLoopback).toEqual([]);

      // AD: the new password binds, and it is the one AD holds now, set just now.
      expect(ldapBind(user.upn, newPassword)).toMatchObject({ ok: true, data: null });
      const stored = adPassword(user.sam);
      expect(stored.ntHash).toBe(ntHash(newPassword));
      expect(stored.ntHash).not.toBe(ntHash(user.password));
      expect(Math.abs(stored.pwdLastSet.getTime() - Date.now())).toBeLessThan(5 * 60_000);
      // The old password no longer binds -- except that Samba, like Windows' OldPasswordAllowedPeriod,
      // still accepts the previous password for "old password allowed period" (default 60 minutes) after a
      // change, and applies that to LDAP simple binds too. So a bind with it either fails with 52e, or
      // succeeds only inside that window (checked above: the stored hash is the new password's).
      const oldBind = ldapBind(user.upn, user.password);
      if (oldBind.ok) expect(Date.now() - stored.pwdLastSet.getTime()).toBeLessThan(60 * 60_000);
      else expect(oldBind.data).toBe('52e');
      // Nothing in the log carries a password.
      const logText = JSON.stringify(gh.logs);
      for (const pw of [user.password, newPassword, `${newPassword}x`]) expect(logText).not.toContain(pw);
    } finally {
      await context.close();
    }
  });
});
