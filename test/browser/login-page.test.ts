// The login page in a real browser (Debian's chromium via playwright-core): keyboard sign-in, the
// hash-allowed auto-post script under the page's CSP, the no-JavaScript fallback, errors and focus,
// and single sign-on. The relying party is a local HTTP server that records what the browser POSTs.
import { statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { startFormCatcher, type FormCatcher } from '../support/form-catcher.js';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startGatehouse, type RunningGatehouse } from '../support/gatehouse.js';
import { USERS } from '../support/directory.js';
import { attributes, count } from '../support/wsfed.js';
import { parseXml, SAML11_ID, xmlsecVerify } from '../support/xml.js';
import { launchChromium, watch, type PageLog } from '../support/chromium.js';

const REALM = 'urn:test:browser';
const UPN_CLAIM = 'http://schemas.xmlsoap.org/claims/UPN';
const ivan = USERS.ivan;
// Under vitest's 30 s test timeout, so a stuck page fails with Playwright's message, not a bare timeout.
const WAIT = { timeout: 10_000 };

let gh: RunningGatehouse;
let browser: Browser;
let rp: FormCatcher;
let acsUrl: string;
/** Form posts the relying party received, newest last. */
let received: URLSearchParams[] = [];
/** Kept from the keyboard sign-in for the single sign-on test. */
let signedIn: BrowserContext | undefined;

beforeAll(async () => {
  rp = await startFormCatcher();
  ({ acsUrl, received } = rp);
  gh = await startGatehouse((c) => {
    c.relyingParties.push({ id: REALM, name: 'Browser RP', replyUrls: [acsUrl] });
  });
  browser = await launchChromium();
});

afterAll(async () => {
  // Browser first: its keep-alive connections would otherwise hold the servers open.
  await browser?.close();
  await rp?.close();
  await gh?.close();
});

beforeEach(() => {
  received.length = 0;
});

const signInUrl = () => `${gh.url}/adfs/ls/?wa=wsignin1.0&wtrealm=${encodeURIComponent(REALM)}&wctx=abc`;

async function fillLogin(page: Page, password: string) {
  await page.goto(signInUrl());
  await page.locator('#UserName').fill(ivan.upn);
  await page.locator('#Password').fill(password);
}

/** Waits for the relying party's page; when it never comes, a CSP violation is the likeliest reason, so show it. */
async function reachRp(page: Page, log: PageLog) {
  await page.waitForURL(acsUrl, WAIT).catch((err: unknown) => {
    expect(log.cspViolations).toEqual([]);
    throw err;
  });
}

/** Asserts the relying party got exactly one sign-in response carrying a signed SAML 1.1 token for ivan. */
function expectTokenForIvan() {
  expect(received).toHaveLength(1);
  const form = received[0]!;
  expect(form.get('wa')).toBe('wsignin1.0');
  expect(form.get('wctx')).toBe('abc');
  const wresult = form.get('wresult')!;
  const doc = parseXml(wresult);
  expect(count(doc, '//saml:Assertion[@MajorVersion="1" and @MinorVersion="1"]')).toBe(1);
  expect(attributes(doc)[UPN_CLAIM]).toEqual([ivan.upn]);
  // What the browser re-encoded from the hidden input must still verify byte for byte.
  expect(xmlsecVerify(wresult, gh.certPem, SAML11_ID).ok).toBe(true);
}

describe('login page in Chromium', () => {
  it('signs in with the keyboard and the auto-post script delivers the token without CSP violations', async () => {
    signedIn = await browser.newContext();
    const page = await signedIn.newPage();
    const log = watch(page);
    await fillLogin(page, ivan.password);
    await page.locator('#Password').press('Enter');
    await reachRp(page, log);

    expect(await page.locator('#rp').textContent()).toBe('received');
    expectTokenForIvan();
    // No click anywhere: only the script can have made the second POST.
    expect(log.navigations).toEqual([`GET ${signInUrl()}`, `POST ${signInUrl()}`, `POST ${acsUrl}`]);
    expect(log.cspViolations).toEqual([]);
    expect(log.offLoopback).toEqual([]);
  });

  it('single sign-on: the same browser goes straight to the relying party without the form', async () => {
    expect(signedIn, 'needs the keyboard sign-in test to have run').toBeDefined();
    const page = await signedIn!.newPage();
    const log = watch(page);
    await page.goto(signInUrl());
    await reachRp(page, log);

    expectTokenForIvan();
    // A GET answered with the auto-post page: no password was posted.
    expect(log.navigations).toEqual([`GET ${signInUrl()}`, `POST ${acsUrl}`]);
    expect(log.cspViolations).toEqual([]);
    await signedIn!.close();
  });

  it('without JavaScript shows a visible Continue button that delivers the token', async () => {
    const context = await browser.newContext({ javaScriptEnabled: false });
    try {
      const page = await context.newPage();
      const log = watch(page);
      await fillLogin(page, ivan.password);
      await page.locator('#Password').press('Enter');
      const continueButton = page.getByRole('button', { name: 'Continue' });
      await continueButton.waitFor({ state: 'visible', ...WAIT });
      expect(received).toEqual([]);

      await continueButton.click();
      await reachRp(page, log);
      expectTokenForIvan();
      expect(log.offLoopback).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('wrong password: shows the error, keeps the user name and focuses the Password field', async () => {
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      const log = watch(page);
      await fillLogin(page, 'not-the-password');
      await page.locator('#Password').press('Enter');
      await page.locator('#error').waitFor(WAIT);

      expect((await page.locator('#error').textContent())?.trim()).toBe('The user name or password is incorrect.');
      expect(await page.locator('#UserName').inputValue()).toBe(ivan.upn);
      const password = page.getByLabel('Password');
      expect(await password.inputValue()).toBe('');
      await expect.poll(() => password.evaluate((el) => el === document.activeElement)).toBe(true);

      // Typing straight away goes into the focused field. The success also clears ivan's bad-password
      // count, so repeated runs against a kept DC never lock him out.
      await page.keyboard.type(ivan.password);
      await page.keyboard.press('Enter');
      await reachRp(page, log);
      expectTokenForIvan();
    } finally {
      await context.close();
    }
  });

  it('renders the login page to a screenshot', async () => {
    const context = await browser.newContext({ viewport: { width: 800, height: 700 } });
    try {
      const page = await context.newPage();
      await page.goto(signInUrl());
      const file = join(tmpdir(), 'gatehouse-login.png');
      await page.screenshot({ path: file, fullPage: true });
      expect(statSync(file).size).toBeGreaterThan(0);
    } finally {
      await context.close();
    }
  });
});
