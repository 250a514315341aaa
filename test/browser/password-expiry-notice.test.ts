// The password-expiry notice in Chromium: a user whose AD password expires within passwordExpiry.noticeDays
// (created 30 days in the past with libfaketime; the test domain's maximum password age is 42 days) signs
// in with the password and sees "your password expires in N days" with a link to the change-password page;
// the token is posted to the relying party (a local form catcher) only on Continue, over WS-Federation and
// SAML 2.0 (an @node-saml/node-saml SP whose ACS is the form catcher). Single sign-on and a user with a
// younger password go straight through.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFormCatcher, type FormCatcher } from '../support/form-catcher.js';
import { startGatehouse, testKeys, type RunningGatehouse } from '../support/gatehouse.js';
import { freshUser } from '../support/users.js';
import { attributes } from '../support/wsfed.js';
import { parseXml } from '../support/xml.js';
import { launchChromium, watch } from '../support/chromium.js';
import { makeSp, type TestSp } from '../saml2/sp.js';
import { redirectUrlOf } from '../saml2/support.js';

const REALM = 'urn:test:expiry-notice';
const UPN_CLAIM = 'http://schemas.xmlsoap.org/claims/UPN';
const WAIT = { timeout: 10_000 };

let gh: RunningGatehouse;
let browser: Browser;
let rp: FormCatcher;
let sp: TestSp;

const users = {
  soon: freshUser('exp-notice-soon', 'Passw0rd!Soon1', { passwordAgeDays: 30 }),
  young: freshUser('exp-notice-young', 'Passw0rd!Young1'),
};

beforeAll(async () => {
  rp = await startFormCatcher();
  sp = makeSp(mkdtempSync(join(tmpdir(), 'expiry-notice-')), 'sp-expiry-notice', testKeys().certPem, 'http://placeholder/adfs/ls/', { callbackUrl: rp.acsUrl });
  gh = await startGatehouse((c) => {
    c.relyingParties.push({ id: REALM, name: 'Expiry notice RP', replyUrls: [rp.acsUrl] });
    c.relyingParties.push({ id: sp.entityId, name: 'Expiry notice SAML app', protocol: 'saml2', metadataFile: sp.metadataFile });
    c.passwordExpiry = { noticeDays: 20 };
  });
  sp.saml.options.entryPoint = `${gh.url}/adfs/ls/`;
  sp.saml.options.idpIssuer = gh.config.issuer;
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await rp?.close();
  await gh?.close();
});

const signInUrl = () => `${gh.url}/adfs/ls/?wa=wsignin1.0&wtrealm=${encodeURIComponent(REALM)}&wctx=notice`;

describe('password expiry notice', () => {
  it('shows the days left and the change-password link, and posts the token only on Continue; once per session', async () => {
    rp.received.length = 0;
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      const log = watch(page);
      await page.goto(signInUrl());
      await page.locator('#UserName').fill(users.soon.upn);
      await page.locator('#Password').fill(users.soon.password);
      await page.locator('#Password').press('Enter');

      await page.locator('#notice').waitFor(WAIT);
      const heading = (await page.locator('#notice').textContent())?.trim();
      const daysLeft = gh.logs.filter((l) => l.event === 'password_expiry_notice' && l.user === users.soon.upn).at(-1)?.daysLeft;
      // 42 days of maximum age less the 30 the password is old (whole days left, rounded down).
      expect(daysLeft).toBeGreaterThanOrEqual(10);
      expect(daysLeft).toBeLessThanOrEqual(12);
      expect(heading).toBe(`Your password expires in ${daysLeft} days`);
      expect(await page.title()).toBe('Your password expires soon');
      // Nothing reached the relying party yet: no automatic post on this page.
      await page.waitForTimeout(300);
      expect(rp.received).toEqual([]);

      const href = await page.locator('#changePassword').getAttribute('href');
      expect(href).toBe(`${gh.url}/adfs/portal/updatepassword?username=${encodeURIComponent(users.soon.upn)}`);
      // The link opens the existing change-password page, with the user name filled in.
      const [portal] = await Promise.all([context.waitForEvent('page', WAIT), page.locator('#changePassword').click()]);
      await portal.waitForLoadState('domcontentloaded');
      expect(await portal.title()).toBe('Change your password');
      expect(await portal.locator('#UserName').inputValue()).toBe(users.soon.upn);
      await portal.close();

      await page.locator('#continueButton').click();
      await page.waitForURL(rp.acsUrl, WAIT);
      expect(rp.received).toHaveLength(1);
      const form = rp.received[0]!;
      expect(form.get('wctx')).toBe('notice');
      expect(attributes(parseXml(form.get('wresult')!))[UPN_CLAIM]).toEqual([users.soon.upn]);
      expect(log.cspViolations).toEqual([]);

      // Single sign-on: straight to the relying party, no second notice.
      await page.goto(signInUrl());
      await page.waitForURL(rp.acsUrl, WAIT);
      expect(rp.received).toHaveLength(2);
      expect(log.cspViolations).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('SAML 2.0: the same notice, and the SAMLResponse is posted only on Continue', async () => {
    rp.received.length = 0;
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      const log = watch(page);
      await page.goto(await redirectUrlOf(sp, 'notice-relay'));
      await page.locator('#UserName').fill(users.soon.upn);
      await page.locator('#Password').fill(users.soon.password);
      await page.locator('#Password').press('Enter');

      await page.locator('#notice').waitFor(WAIT);
      expect((await page.locator('#notice').textContent())?.trim()).toMatch(/^Your password expires in 1[0-2] days$/);
      expect(await page.locator('#changePassword').getAttribute('href')).toBe(`${gh.url}/adfs/portal/updatepassword?username=${encodeURIComponent(users.soon.upn)}`);
      await page.waitForTimeout(300);
      expect(rp.received).toEqual([]);

      await page.locator('#continueButton').click();
      await page.waitForURL(rp.acsUrl, WAIT);
      expect(rp.received).toHaveLength(1);
      const form = rp.received[0]!;
      expect(form.get('RelayState')).toBe('notice-relay');
      // The SP accepts it as it would without the notice: signature, audience, InResponseTo.
      const { profile } = await sp.saml.validatePostResponseAsync({ SAMLResponse: form.get('SAMLResponse')! });
      expect(profile?.nameID).toBeTruthy();
      expect(log.cspViolations).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('a password that expires later than noticeDays: no notice', async () => {
    rp.received.length = 0;
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      await page.goto(signInUrl());
      await page.locator('#UserName').fill(users.young.upn);
      await page.locator('#Password').fill(users.young.password);
      await page.locator('#Password').press('Enter');
      await page.waitForURL(rp.acsUrl, WAIT);
      expect(rp.received).toHaveLength(1);
      expect(gh.logs.some((l) => l.event === 'password_expiry_notice' && l.user === users.young.upn)).toBe(false);
    } finally {
      await context.close();
    }
  });
});
