// The self-service page (/adfs/portal/mfa) in real Chromium with the DevTools protocol's virtual
// authenticators: a first passkey added on the page after the password, a second one after a sign-in with
// the first, renaming and removing, the last factor kept for a user whose group requires MFA (and let go,
// with an explanation, for one whom no rule always covers), new recovery codes (the old ones refused at the
// next sign-in, a new one accepted), a stale or half-finished sign-in refused for every change, and a
// first factor from outside refused when enrolment is for the office only. Every page passes axe-core at
// 390 px under the strict CSP.
import type { Browser, BrowserContext, CDPSession, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFormCatcher, type FormCatcher } from '../support/form-catcher.js';
import { startGatehouse, type RunningGatehouse } from '../support/gatehouse.js';
import { DC, samba } from '../support/directory.js';
import { freshUser } from '../support/users.js';
import { Browser as HttpClient } from '../support/http.js';
import { value } from '../support/wsfed.js';
import { parseXml, SAML11_ID, xmlsecVerify } from '../support/xml.js';
import { launchChromium, watch, type PageLog } from '../support/chromium.js';
import { axeViolations, fitsWidth } from '../support/axe.js';
import { SessionCodec, newSessionId } from '../../src/authn/session.js';
import { loadSessionKeys } from '../../src/keys/keystore.js';
import { MfaService } from '../../src/mfa/service.js';

const REALM = 'urn:test:mfa:self-service';
const MULTIPLE_AUTHN = 'http://schemas.microsoft.com/claims/multipleauthn';
const GROUP = 'selfsvc-mfa-required';
const WAIT = { timeout: 10_000 };
const PHONE = { viewport: { width: 390, height: 844 } };
const VIRTUAL_AUTHENTICATOR = {
  options: { protocol: 'ctap2', transport: 'internal', hasResidentKey: true, hasUserVerification: true, isUserVerified: true, automaticPresenceSimulation: true },
} as const;

/** In GROUP: every sign-in needs the second factor, so the page keeps the last one. */
const kim = freshUser('selfsvc-kim', 'Passw0rd!SelfKim1');
/** In no group: the relying party alone asks, so the last factor may go. */
const lee = freshUser('selfsvc-lee', 'Passw0rd!SelfLee1');

let gh: RunningGatehouse;
let browser: Browser;
let rp: FormCatcher;
let context: BrowserContext;
let page: Page;
let cdp: CDPSession;
let authenticatorId: string;
let firstCodes: string[] = [];
let newCodes: string[] = [];

beforeAll(async () => {
  try {
    samba('group', 'delete', GROUP);
  } catch {
    // not there
  }
  samba('group', 'add', GROUP);
  samba('group', 'addmembers', GROUP, kim.sam);
  rp = await startFormCatcher();
  gh = await startGatehouse(
    (c) => {
      c.relyingParties.push({ id: REALM, name: 'Self-service RP', replyUrls: [rp.acsUrl] });
      c.mfa = { enabled: true, require: { relyingParties: [REALM], groups: [`CN=${GROUP},CN=Users,${DC.baseDn}`] } };
    },
    { publicHost: 'localhost' },
  );
  browser = await launchChromium({ resolve: ['localhost'] });
  context = await browser.newContext(PHONE);
  page = await context.newPage();
  cdp = await context.newCDPSession(page);
  await cdp.send('WebAuthn.enable');
  ({ authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', VIRTUAL_AUTHENTICATOR));
});

afterAll(async () => {
  await browser?.close();
  await rp?.close();
  await gh?.close();
  try {
    samba('group', 'delete', GROUP);
  } catch {
    // already gone
  }
});

const portal = () => `${gh.url}/adfs/portal/mfa`;

async function expectAccessible(p: Page, log: PageLog) {
  expect(await axeViolations(p)).toEqual([]);
  expect(await fitsWidth(p)).toBe(true);
  expect(log.cspViolations).toEqual([]);
}

async function password(p: Page, user: { upn: string; password: string }) {
  await p.locator('#UserName').fill(user.upn);
  await p.locator('#Password').fill(user.password);
  await Promise.all([p.waitForLoadState('load'), p.locator('#submitButton').click()]);
}

const keyNames = (p: Page) => p.locator('#keys .key-name').allTextContents();

/** The user's factors as stored (through the running server's own service). */
async function factorsOf(user: { dn: string }) {
  const { mfa, directory } = gh.app.gatehouse;
  return MfaService.summary(await mfa!.factorsOf((await directory.findByDn(user.dn))!));
}

describe('the self-service page in Chromium', () => {
  it('asks for the password first; a user without a factor adds a passkey there and gets recovery codes once', async () => {
    const log = watch(page);
    await page.goto(portal());
    await page.locator('#Password').waitFor(WAIT);
    await password(page, kim);
    await page.locator('#webauthnButton').waitFor({ state: 'visible', ...WAIT });
    expect(await page.locator('#portal-user').textContent()).toBe(kim.upn);
    expect(await page.locator('#keys-none').count()).toBe(1);
    await expectAccessible(page, log);
    await page.locator('#KeyName').fill('Work laptop');
    await page.locator('#webauthnButton').click();
    await page.locator('#recoveryCodes').waitFor(WAIT);
    firstCodes = await page.locator('#recoveryCodes code').allTextContents();
    expect(firstCodes).toHaveLength(10);
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.locator('#keys').waitFor(WAIT);
    expect(await keyNames(page)).toEqual(['Work laptop']);
    // Kim's group requires MFA: the page says the last key stays.
    expect(await page.locator('#last-factor').textContent()).toMatch(/cannot be removed/);
    expect(gh.logs.some((l) => l.event === 'mfa_factor_added' && l.user === kim.upn && l.method === 'webauthn' && l.realm === 'mfa-portal')).toBe(true);
  });

  it('a new sign-in needs the passkey too; then a second passkey (another authenticator), renamed; the first removed', async () => {
    await context.clearCookies();
    const log = watch(page);
    await page.goto(portal());
    await password(page, kim);
    // The second step on the page's own sign-in: the code page with the passkey.
    await page.locator('#webauthnButton').waitFor({ state: 'visible', ...WAIT });
    expect(await page.locator('h1').textContent()).toBe('Verify your identity');
    await page.locator('#webauthnButton').click();
    await page.locator('#keys').waitFor(WAIT);
    expect(gh.logs.some((l) => l.event === 'mfa_verified' && l.user === kim.upn && l.realm === 'mfa-portal')).toBe(true);

    // The first authenticator already holds a key for kim (the options exclude it): a second device.
    await cdp.send('WebAuthn.removeVirtualAuthenticator', { authenticatorId });
    ({ authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', VIRTUAL_AUTHENTICATOR));
    await page.reload();
    await page.locator('#KeyName').fill('Spare key');
    await page.locator('#webauthnButton').click();
    await page.locator('#done').waitFor(WAIT);
    expect(await page.locator('#done').textContent()).toBe('Your passkey or security key was added.');
    expect(await keyNames(page)).toEqual(['Work laptop', 'Spare key']);
    // Kim had recovery codes already: none shown again, the same 10 left.
    expect(await page.locator('#recovery-left').textContent()).toBe('10 of 10 left.');
    expect(await page.locator('#last-factor').count()).toBe(0);
    await expectAccessible(page, log);

    await page.locator('#KeyName-1').fill('YubiKey 5C');
    await page.locator('#rename-1').click();
    await page.locator('#done').waitFor(WAIT);
    expect(await page.locator('#done').textContent()).toBe('Your passkey or security key was renamed.');
    expect(await keyNames(page)).toEqual(['Work laptop', 'YubiKey 5C']);

    await page.locator('#remove-0').click();
    await page.locator('#done').waitFor(WAIT);
    expect(await page.locator('#done').textContent()).toBe('Your passkey or security key was removed.');
    expect(await keyNames(page)).toEqual(['YubiKey 5C']);
    const stored = await factorsOf(kim);
    expect(stored.keys.map((k) => k.name)).toEqual(['YubiKey 5C']);
    expect(log.cspViolations).toEqual([]);
    expect(gh.logs.filter((l) => l.user === kim.upn && ['mfa_factor_renamed', 'mfa_factor_removed'].includes(l.event)).map((l) => l.event)).toEqual([
      'mfa_factor_renamed',
      'mfa_factor_removed',
    ]);
  });

  it('the last factor of a user whose group requires MFA is kept, with the reason', async () => {
    const log = watch(page);
    await page.locator('#remove-0').click();
    await page.locator('#error').waitFor(WAIT);
    expect(await page.locator('#error').textContent()).toMatch(/your account needs a second step/);
    expect(await keyNames(page)).toEqual(['YubiKey 5C']);
    expect((await factorsOf(kim)).keys).toHaveLength(1);
    await expectAccessible(page, log);
  });

  it('new recovery codes: shown once, the old ones refused at the next sign-in, a new one accepted', async () => {
    const log = watch(page);
    await page.goto(portal());
    await page.locator('#newRecoveryCodes').click();
    await page.locator('#recoveryCodes').waitFor(WAIT);
    await expectAccessible(page, log);
    expect(await page.locator('main p').first().textContent()).toMatch(/the old ones no longer work/);
    newCodes = await page.locator('#recoveryCodes code').allTextContents();
    expect(newCodes).toHaveLength(10);
    expect(newCodes.some((c) => firstCodes.includes(c))).toBe(false);
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.locator('#recovery-left').waitFor(WAIT);
    expect(gh.logs.some((l) => l.event === 'mfa_recovery_codes_renewed' && l.user === kim.upn)).toBe(true);
    // Never a code in the log.
    const logText = JSON.stringify(gh.logs);
    for (const c of [...firstCodes, ...newCodes]) expect(logText).not.toContain(c);

    // At a relying party's sign-in, in another browser: the old code refused, a new one accepted.
    const other = await browser.newContext(PHONE);
    try {
      const p2 = await other.newPage();
      await p2.goto(`${gh.url}/adfs/ls/?wa=wsignin1.0&wtrealm=${encodeURIComponent(REALM)}`);
      await password(p2, kim);
      for (const [code, ok] of [
        [firstCodes[0]!, false],
        [newCodes[0]!, true],
      ] as const) {
        // The disclosure stays open after a refused code.
        if (!(await p2.locator('details.recovery').evaluate((d: HTMLDetailsElement) => d.open))) await p2.locator('details.recovery summary').click();
        await p2.locator('#RecoveryCode').fill(code);
        await p2.locator('#RecoveryCode').press('Enter');
        if (!ok) {
          await p2.locator('#error').waitFor(WAIT);
          expect(rp.received).toHaveLength(0);
        } else {
          await p2.waitForURL(rp.acsUrl, WAIT);
        }
      }
      expect(rp.received).toHaveLength(1);
      const wresult = rp.received[0]!.get('wresult')!;
      expect(xmlsecVerify(wresult, gh.certPem, SAML11_ID).ok).toBe(true);
      expect(value(parseXml(wresult), '//saml:AuthenticationStatement/@AuthenticationMethod')).toBe(MULTIPLE_AUTHN);
    } finally {
      await other.close();
    }
    expect((await factorsOf(kim)).recoveryLeft).toBe(9);
  });

  it('a user no rule always covers may remove the last factor: the page explains, and the recovery codes go with it', async () => {
    const c = await browser.newContext(PHONE);
    try {
      const p = await c.newPage();
      const log = watch(p);
      // Lee enrols an authenticator app on the page (the enrolment page of the sign-in, the key read off it).
      await p.goto(portal());
      await password(p, lee);
      await p.locator('#addTotp').click();
      const secret = (await p.locator('#secret').textContent(WAIT))!.replace(/\s+/g, '');
      await expectAccessible(p, log);
      const { Secret, TOTP } = await import('otpauth');
      await p.locator('#Code').fill(new TOTP({ secret: Secret.fromBase32(secret), digits: 6, period: 30 }).generate());
      await p.locator('#Code').press('Enter');
      await p.locator('#recoveryCodes').waitFor(WAIT);
      await p.getByRole('button', { name: 'Continue' }).click();
      await p.locator('#removeTotp').waitFor(WAIT);
      expect(await p.locator('#last-factor').textContent()).toMatch(/recovery codes go with it/);
      await p.locator('#removeTotp').click();
      await p.locator('#done').waitFor(WAIT);
      expect(await p.locator('#done').textContent()).toBe('Your authenticator app was removed.');
      expect(await p.locator('#addTotp').count()).toBe(1);
      const stored = await factorsOf(lee);
      expect(stored).toEqual({ totp: undefined, keys: [], recoveryLeft: 0 });
      expect(gh.logs.some((l) => l.event === 'mfa_factor_removed' && l.user === lee.upn && l.method === 'totp')).toBe(true);
      expect(JSON.stringify(gh.logs)).not.toContain(secret);
    } finally {
      await c.close();
    }
  });
});

describe('what a session cookie alone cannot do', () => {
  /** A session cookie for kim sealed with the server's own key, its sign-in `minutesAgo` old. */
  function cookieFor(minutesAgo: number, withSecondFactor: boolean): string {
    const codec = new SessionCodec(loadSessionKeys(gh.config.session.keyFile));
    const at = Date.now() - minutesAgo * 60_000;
    return codec.seal({
      sid: newSessionId(),
      dn: kim.dn,
      upn: kim.upn,
      authInstant: at,
      expires: Date.now() + 3_600_000,
      realms: [],
      ...(withSecondFactor ? { mfa: { at: at + 1000, methods: ['webauthn'] } } : {}),
    });
  }

  /** The portal over plain HTTP with that cookie: the page it shows, then a change posted with the form's CSRF token. */
  async function tryRemove(cookie: string) {
    const http = new HttpClient();
    http.cookies.set(gh.config.session.cookieName, cookie);
    const base = gh.url.replace('localhost', '127.0.0.1');
    const shown = await http.get(`${base}/adfs/portal/mfa`);
    const { fields } = shown.form();
    const { keys } = await factorsOf(kim);
    const posted = await http.post(`${base}/adfs/portal/mfa`, { _csrf: fields._csrf!, Action: 'mfaRemoveKey', KeyId: keys[0]!.id });
    return { shown, posted };
  }

  it('a stale session (its sign-in older than mfa.selfService.freshMinutes) gets the sign-in again, and no change happens', async () => {
    const before = (await factorsOf(kim)).keys.length;
    const { shown, posted } = await tryRemove(cookieFor(11, true));
    expect(shown.status).toBe(200);
    expect(shown.body).toContain('id="Password"');
    expect(shown.text('#rp-text')).toMatch(/sign in again/);
    expect(posted.body).toContain('id="Password"');
    expect(posted.body).not.toContain('id="keys"');
    expect((await factorsOf(kim)).keys).toHaveLength(before);
    expect(gh.logs.some((l) => l.event === 'mfa_portal_refused' && l.stage === 'signIn' && l.stale === true)).toBe(true);
  });

  it('a recent password without the second factor gets the code page, and no change happens', async () => {
    const before = (await factorsOf(kim)).keys.length;
    const { shown, posted } = await tryRemove(cookieFor(1, false));
    expect(shown.body).toContain('name="Action" value="mfaWebauthn"');
    expect(shown.body).not.toContain('id="keys"');
    expect(posted.body).toContain('name="Action" value="mfaWebauthn"');
    expect((await factorsOf(kim)).keys).toHaveLength(before);
    expect(gh.logs.some((l) => l.event === 'mfa_portal_refused' && l.stage === 'secondFactor')).toBe(true);
  });

  it('a change posted without the form\'s CSRF token is refused', async () => {
    const http = new HttpClient();
    http.cookies.set(gh.config.session.cookieName, cookieFor(1, true));
    const base = gh.url.replace('localhost', '127.0.0.1');
    const res = await http.post(`${base}/adfs/portal/mfa`, { Action: 'mfaNewRecoveryCodes' });
    expect(res.status).toBe(403);
    expect((await factorsOf(kim)).recoveryLeft).toBe(9);
  });
});

describe('a first factor from outside the corporate network', () => {
  it('is refused on the page when mfa.enrolment.onlyFromCorporateNetwork (a stolen password alone enrols nothing)', async () => {
    const outsider = freshUser('selfsvc-out', 'Passw0rd!SelfOut1');
    const office = await startGatehouse((c) => {
      c.mfa = { enabled: true, require: { always: true }, enrolment: { onlyFromCorporateNetwork: true } };
      c.network = { corporate: ['10.0.0.0/8'] };
    });
    try {
      const http = new HttpClient();
      const login = await http.get(`${office.url}/adfs/portal/mfa`);
      const signedIn = await http.post(`${office.url}/adfs/portal/mfa`, { ...login.form().fields, UserName: outsider.upn, Password: outsider.password });
      expect(signedIn.status).toBe(303);
      const portalPage = await http.get(signedIn.headers.get('location')!);
      expect(portalPage.body).toContain('id="addTotp"');
      const refused = await http.post(`${office.url}/adfs/portal/mfa`, { _csrf: portalPage.form().fields._csrf!, Action: 'mfaAddTotp' });
      expect(refused.text('#error')).toMatch(/only be done from the office network/);
      expect(refused.body).not.toContain('id="secret"');
    } finally {
      await office.close();
    }
  });
});
