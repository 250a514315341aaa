// Passkeys in real Chromium with the DevTools protocol's virtual authenticator (platform authenticator
// with user verification): registration on the enrolment page, then sign-in with the key on the code page,
// the browser helper served by Gatehouse itself under a CSP that allows only its own script files. The
// relying-party ID is publicUrl's host, so the server is addressed as localhost (WebAuthn refuses an IP).
import type { Browser, BrowserContext, CDPSession, Page } from 'playwright-core';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startFormCatcher, type FormCatcher } from '../support/form-catcher.js';
import { startGatehouse, type RunningGatehouse } from '../support/gatehouse.js';
import { USERS } from '../support/directory.js';
import { attributes, value } from '../support/wsfed.js';
import { parseXml, SAML11_ID, xmlsecVerify } from '../support/xml.js';
import { launchChromium, watch, type PageLog } from '../support/chromium.js';
import { axeViolations, fitsWidth } from '../support/axe.js';

const REALM = 'urn:test:mfa:passkey';
const MULTIPLE_AUTHN = 'http://schemas.microsoft.com/claims/multipleauthn';
const AMR = 'http://schemas.microsoft.com/claims/authnmethodsreferences';
const ivan = USERS.ivan;
const WAIT = { timeout: 10_000 };

let gh: RunningGatehouse;
let browser: Browser;
let rp: FormCatcher;
let context: BrowserContext;
let page: Page;
let cdp: CDPSession;
let authenticatorId: string;

beforeAll(async () => {
  rp = await startFormCatcher();
  gh = await startGatehouse(
    (c) => {
      c.relyingParties.push({ id: REALM, name: 'Passkey RP', replyUrls: [rp.acsUrl] });
      c.mfa = { enabled: true, require: { relyingParties: [REALM] } };
    },
    { publicHost: 'localhost' },
  );
  browser = await launchChromium({ resolve: ['localhost'] });
  context = await browser.newContext({ viewport: { width: 390, height: 844 } });
  page = await context.newPage();
  cdp = await context.newCDPSession(page);
  await cdp.send('WebAuthn.enable');
  ({ authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: { protocol: 'ctap2', transport: 'internal', hasResidentKey: true, hasUserVerification: true, isUserVerified: true, automaticPresenceSimulation: true },
  }));
});

afterAll(async () => {
  await browser?.close();
  await rp?.close();
  await gh?.close();
});

beforeEach(() => {
  rp.received.length = 0;
});

const signInUrl = () => `${gh.url}/adfs/ls/?wa=wsignin1.0&wtrealm=${encodeURIComponent(REALM)}`;

async function password(p: Page) {
  await p.goto(signInUrl());
  await p.locator('#UserName').fill(ivan.upn);
  await p.locator('#Password').fill(ivan.password);
  await p.locator('#Password').press('Enter');
}

async function expectAccessible(p: Page, log: PageLog) {
  expect(await axeViolations(p)).toEqual([]);
  expect(await fitsWidth(p)).toBe(true);
  expect(log.cspViolations).toEqual([]);
}

function expectMfaToken() {
  expect(rp.received).toHaveLength(1);
  const wresult = rp.received[0]!.get('wresult')!;
  expect(xmlsecVerify(wresult, gh.certPem, SAML11_ID).ok).toBe(true);
  const doc = parseXml(wresult);
  expect(value(doc, '//saml:AuthenticationStatement/@AuthenticationMethod')).toBe(MULTIPLE_AUTHN);
  expect(attributes(doc)[AMR]).toEqual([MULTIPLE_AUTHN]);
}

describe('passkeys (WebAuthn) in Chromium with a virtual authenticator', () => {
  it('registers a passkey on the enrolment page (user verification), then the token says multipleauthn', async () => {
    const log = watch(page);
    await password(page);
    await page.locator('#webauthnButton').waitFor({ state: 'visible', ...WAIT });
    await expectAccessible(page, log);
    await page.locator('#KeyName').fill('Test laptop');
    await page.locator('#webauthnButton').click();
    await page.locator('#recoveryCodes').waitFor(WAIT);
    const { credentials } = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
    expect(credentials).toHaveLength(1);
    expect(credentials[0]!.rpId).toBe('localhost');
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.waitForURL(rp.acsUrl, WAIT);
    expectMfaToken();
    expect(gh.logs.some((l) => l.event === 'mfa_enrolled' && l.method === 'webauthn')).toBe(true);
    expect(log.cspViolations).toEqual([]);
    // Only this server's own scripts ran: the helper came from /adfs/portal, no CDN.
    expect(log.offLoopback.filter((u) => !u.startsWith(gh.url))).toEqual([]);
  });

  it('signs in with the passkey on the code page (a new session), twice (the signature counter moves on)', async () => {
    for (let round = 0; round < 2; round++) {
      rp.received.length = 0;
      await context.clearCookies();
      const log = watch(page);
      await password(page);
      await page.locator('#webauthnButton').waitFor({ state: 'visible', ...WAIT });
      // No authenticator app enrolled: no code field, the passkey and the recovery codes.
      expect(await page.locator('#Code').count()).toBe(0);
      if (round === 0) await expectAccessible(page, log);
      await page.locator('#webauthnButton').click();
      await page.waitForURL(rp.acsUrl, WAIT);
      expectMfaToken();
    }
    expect(gh.logs.filter((l) => l.event === 'mfa_verified' && l.method === 'webauthn')).toHaveLength(2);
  });
});
