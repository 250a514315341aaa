// Every page Gatehouse shows (the second-factor pages, the self-service page, the password-expiry notice and the help desk's activity page too), in Chromium, with branding on: axe-core finds no WCAG 2.1 AA violation in
// English, German and Arabic (right to left); nothing scrolls sideways on a phone (390 px) or at 200 % zoom;
// fields an error is about say so (aria-invalid, aria-describedby); the organisation's override file and
// a relying party's own line show. Screenshots of each page (desktop and phone, each language) go to
// <run dir>/screenshots, which `npm test` copies to var/screenshots/ for a person (and CI) to look at.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, BrowserContext, Cookie, Page } from 'playwright-core';
import { Secret, TOTP } from 'otpauth';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGatehouse, type RunningGatehouse } from '../support/gatehouse.js';
import { USERS } from '../support/directory.js';
import { freshUser } from '../support/users.js';
import { launchChromium, watch } from '../support/chromium.js';
import { attempt, helpDeskGroup } from '../activity/support.js';

/** A text of the shipped Arabic catalogue. */
const arabic = async (key: string): Promise<string> => (JSON.parse(readFileSync(join(import.meta.dirname, '../../locales/ar.json'), 'utf8')) as Record<string, string>)[key]!;
const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
const SHOTS = join(process.env.GATEHOUSE_TEST_RUN_DIR ?? tmpdir(), 'screenshots');
const REALM = 'urn:test:pages';
const REPLY = 'http://127.0.0.1:9/acs';
/** A relying party that always asks for a second factor. */
const MFA_REALM = 'urn:test:pages:mfa';
const WAIT = { timeout: 10_000 };

const LOGO = `<svg xmlns="http://www.w3.org/2000/svg" width="40" height="40" viewBox="0 0 40 40"><rect width="40" height="40" rx="8" fill="#6b2c91"/><path d="M10 28 L20 10 L30 28 Z" fill="#fff"/></svg>`;
const ILLUSTRATION = `<svg xmlns="http://www.w3.org/2000/svg" width="800" height="600"><defs><linearGradient id="g" x1="0" y1="0" x2="1" y2="1"><stop offset="0" stop-color="#e9d8f4"/><stop offset="1" stop-color="#8fb8de"/></linearGradient></defs><rect width="800" height="600" fill="url(#g)"/><circle cx="620" cy="140" r="90" fill="#fff" opacity=".35"/></svg>`;

let gh: RunningGatehouse;
let browser: Browser;

/** Never enrolled: always gets the enrolment page. Enrolled in beforeAll: gets the code page. Old password: the notice. */
const mfaNew = freshUser('pages-mfa-new', 'Passw0rd!MfaNew1');
const mfaApp = freshUser('pages-mfa-app', 'Passw0rd!MfaApp1');
const expiring = freshUser('pages-expiring', 'Passw0rd!Expiring1', { passwordAgeDays: 30 });
/** The help desk's activity page: a member of activity.adminGroup; a bad password of another user fills its tables. */
const helpDesk = freshUser('pages-helpdesk', 'Passw0rd!HelpDesk1');
const helpDeskDn = helpDeskGroup('pages-helpdesk-group', [helpDesk.sam]);
const victim = freshUser('pages-act-victim', 'Passw0rd!Victim1');

beforeAll(async () => {
  gh = await startGatehouse((c) => {
    const dir = c.stateDir as string;
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'logo.svg'), LOGO);
    writeFileSync(join(dir, 'illustration.svg'), ILLUSTRATION);
    writeFileSync(join(dir, 'texts.yaml'), 'de:\n  login.heading: Bei Contoso anmelden\n');
    c.branding = {
      organisationName: 'Contoso',
      logoFile: join(dir, 'logo.svg'),
      illustrationFile: join(dir, 'illustration.svg'),
      accentColor: '#6b2c91',
      helpDesk: 'IT help desk: +41 44 000 00 00',
      helpUrl: 'https://help.example.test/',
      privacyUrl: 'https://example.test/privacy',
      forgotPasswordUrl: 'https://reset.example.test/',
    };
    c.languages = { overridesFile: join(dir, 'texts.yaml') };
    c.relyingParties.push(
      { id: REALM, name: 'Payroll', signInText: 'Use your staff account, not a personal one.', replyUrls: [REPLY] },
      { id: 'urn:test:pages:saml', name: 'Wiki', protocol: 'saml2', replyUrls: ['https://wiki.test.invalid/acs'], idpInitiated: true },
      { id: MFA_REALM, name: 'Finance', replyUrls: [REPLY] },
    );
    // The self-service page's sign-in stays fresh for the whole run (the pages reuse one signed-in browser's cookies).
    c.mfa = { enabled: true, require: { relyingParties: [MFA_REALM] }, selfService: { freshMinutes: 60 } };
    c.passwordExpiry = { noticeDays: 20 };
    c.activity = { adminGroup: helpDeskDn };
  });
  browser = await launchChromium();
  mkdirSync(SHOTS, { recursive: true });
  portalCookies = await enrolAuthenticatorApp(mfaApp);
  await attempt(gh, '127.0.0.1', victim.upn, 'not the password');
  await gh.app.gatehouse.activity.flush();
});

/** The cookies of mfaApp's browser right after enrolment (password and second factor just given): the self-service page opens with them. */
let portalCookies: Cookie[] = [];

async function password(page: Page, url: string, user: { upn: string; password: string }) {
  await page.goto(url);
  await page.locator('#UserName').fill(user.upn);
  await page.locator('#Password').fill(user.password);
  await Promise.all([page.waitForLoadState('load'), page.locator('#submitButton').click()]);
}

/** Enrols the user's authenticator app the way a person does: the key read off the page, its first code. @returns the browser's cookies then */
async function enrolAuthenticatorApp(user: { upn: string; password: string }): Promise<Cookie[]> {
  const c = await browser.newContext();
  try {
    const page = await c.newPage();
    await password(page, signIn('', MFA_REALM), user);
    const secret = (await page.locator('#secret').textContent(WAIT))!.replace(/\s+/g, '');
    await page.locator('#Code').fill(new TOTP({ secret: Secret.fromBase32(secret), digits: 6, period: 30 }).generate());
    await Promise.all([page.waitForLoadState('load'), page.locator('#submitButton').click()]);
    await page.locator('#recoveryCodes').waitFor(WAIT);
    return await c.cookies();
  } finally {
    await c.close();
  }
}

afterAll(async () => {
  await browser?.close();
  await gh?.close();
});

const signIn = (extra = '', realm = REALM) => `${gh.url}/adfs/ls/?wa=wsignin1.0&wtrealm=${encodeURIComponent(realm)}${extra}`;

/** How each page is reached: a URL, and for some a form to submit first. */
const PAGES: Record<string, (page: Page) => Promise<unknown>> = {
  login: (page) => page.goto(signIn()),
  'login-error': async (page) => {
    await page.goto(signIn());
    await page.locator('#UserName').fill('nobody-such@corp.example.test');
    await page.locator('#Password').fill('not the password');
    await Promise.all([page.waitForLoadState('load'), page.locator('#submitButton').click()]);
    await page.locator('#error').waitFor(WAIT);
  },
  'login-disabled': async (page) => {
    await page.goto(signIn());
    await page.locator('#UserName').fill(USERS.carol.upn);
    await page.locator('#Password').fill(USERS.carol.password);
    await Promise.all([page.waitForLoadState('load'), page.locator('#submitButton').click()]);
    await page.locator('#error').waitFor(WAIT);
  },
  'change-password': (page) => page.goto(`${gh.url}/adfs/portal/updatepassword`),
  'change-password-error': async (page) => {
    await page.goto(`${gh.url}/adfs/portal/updatepassword`);
    await page.locator('#UserName').fill('someone@corp.example.test');
    await page.locator('#OldPassword').fill('old one');
    await page.locator('#NewPassword').fill('Passw0rd!New1');
    await page.locator('#ConfirmPassword').fill('Passw0rd!New2');
    await Promise.all([page.waitForLoadState('load'), page.locator('#submitButton').click()]);
    await page.locator('#error').waitFor(WAIT);
  },
  // The auto-post page: the relying party "answers" 204, so the browser stays on it.
  'form-post': async (page) => {
    await page.route(REPLY, (route) => route.fulfill({ status: 204 }));
    await page.goto(signIn());
    await page.locator('#UserName').fill(USERS.ivan.upn);
    await page.locator('#Password').fill(USERS.ivan.password);
    await Promise.all([page.waitForRequest(REPLY, WAIT), page.locator('#submitButton').click()]);
    await page.locator('#autopost').waitFor(WAIT);
    // The script is the layout's last element: the page is whole (footer included) when it submits.
    await page.locator('#help-desk').waitFor(WAIT);
  },
  'mfa-enrol': async (page) => {
    await password(page, signIn('', MFA_REALM), mfaNew);
    await page.locator('#secret').waitFor(WAIT);
  },
  'mfa-code': async (page) => {
    await password(page, signIn('', MFA_REALM), mfaApp);
    await page.locator('#Code').waitFor(WAIT);
  },
  // The self-service page, in the signed-in browser of a user with an authenticator app.
  'mfa-portal': async (page) => {
    await page.context().addCookies(portalCookies);
    await page.goto(`${gh.url}/adfs/portal/mfa`);
    await page.locator('#removeTotp').waitFor(WAIT);
  },
  // The recovery codes, shown once: here the self-service page's new ones.
  'mfa-recovery-codes': async (page) => {
    await PAGES['mfa-portal']!(page);
    await Promise.all([page.waitForLoadState('load'), page.locator('#newRecoveryCodes').click()]);
    await page.locator('#recoveryCodes').waitFor(WAIT);
  },
  'password-expiry-notice': async (page) => {
    await password(page, signIn(), expiring);
    await page.locator('#notice').waitFor(WAIT);
  },
  activity: async (page) => {
    await password(page, `${gh.url}/adfs/portal/activity`, helpDesk);
    await page.locator('#lockouts').waitFor(WAIT);
  },
  'signed-out': (page) => page.goto(`${gh.url}/adfs/ls/?wa=wsignout1.0`),
  'idp-initiated': (page) => page.goto(`${gh.url}/adfs/ls/idpinitiatedsignon`),
  error: (page) => page.goto(`${gh.url}/adfs/ls/?wa=wsignin1.0&wtrealm=urn:not:registered`),
  'not-found': (page) => page.goto(`${gh.url}/no/such/page`),
};

const LANGUAGES = { en: 'en-GB', de: 'de-DE', ar: 'ar-EG' } as const;
type Lang = keyof typeof LANGUAGES;

async function context(lang: Lang, viewport: { width: number; height: number }): Promise<BrowserContext> {
  return browser.newContext({ locale: LANGUAGES[lang], viewport });
}

interface AxeViolation {
  id: string;
  impact: string;
  help: string;
  nodes: { target: string[] }[];
}

/** axe-core in the page, WCAG 2.0/2.1 A and AA rules (evaluated through the DevTools protocol, which the page's CSP does not govern). */
async function axe(page: Page): Promise<string[]> {
  await page.evaluate(AXE_SOURCE);
  const violations = await page.evaluate(async () => {
    const run = (globalThis as unknown as { axe: { run(ctx: unknown, o: unknown): Promise<{ violations: AxeViolation[] }> } }).axe.run;
    const r = await run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } });
    return r.violations;
  });
  return violations.map((v) => `${v.id} (${v.impact}): ${v.help} at ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
}

/** Nothing is wider than the window (WCAG 1.4.10 reflow), and every control is inside it horizontally. */
async function overflow(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const out: string[] = [];
    const width = document.documentElement.clientWidth;
    if (document.documentElement.scrollWidth > width) out.push(`page is ${document.documentElement.scrollWidth}px wide in a ${width}px window`);
    for (const el of Array.from(document.querySelectorAll('input:not([type=hidden]), button, a, h1, p, img, .scroll'))) {
      // A data table may scroll sideways inside its own region (WCAG 1.4.10's exception); the region may not.
      if (el.parentElement?.closest('.scroll')) continue;
      const r = el.getBoundingClientRect();
      if (r.left < -1 || r.right > width + 1) out.push(`${el.tagName.toLowerCase()}#${el.id}: ${Math.round(r.left)}..${Math.round(r.right)}`);
    }
    return out;
  });
}

describe.each(Object.keys(LANGUAGES) as Lang[])('pages in %s', (lang) => {
  for (const name of Object.keys(PAGES)) {
    it(`${name}: no WCAG 2.1 AA violation, no sideways scrolling at 390 px or 200 % zoom; screenshots`, async () => {
      // One visit per page and language, under the real CSP (nothing refused, nothing fetched from
      // elsewhere); then the window takes each shape in turn, as a person turning a phone or zooming would:
      // desktop, phone, and a 1280 px window at 200 % zoom, which lays out as 640 CSS px.
      const c = await browser.newContext({ locale: LANGUAGES[lang], viewport: { width: 1280, height: 800 }, deviceScaleFactor: 1 });
      try {
        const page = await c.newPage();
        const log = watch(page);
        await PAGES[name]!(page);
        expect(await page.locator('html').getAttribute('lang')).toBe(lang);
        expect(await page.locator('html').getAttribute('dir')).toBe(lang === 'ar' ? 'rtl' : 'ltr');
        for (const [shape, viewport] of [
          ['desktop', { width: 1280, height: 800 }],
          ['phone', { width: 390, height: 844 }],
          ['zoom200', { width: 640, height: 400 }],
        ] as const) {
          await page.setViewportSize(viewport);
          expect(await overflow(page), `${name} ${shape}`).toEqual([]);
          if (shape !== 'zoom200') await page.screenshot({ path: join(SHOTS, `${name}.${lang}.${shape}.png`), fullPage: true });
        }
        // Last: axe adds its own nodes to the page while it runs.
        expect(await axe(page)).toEqual([]);
        expect(log.cspViolations).toEqual([]);
        expect(log.offLoopback.filter((u) => u !== REPLY)).toEqual([]);
      } finally {
        await c.close();
      }
    });
  }
});

describe('what the branded pages say', () => {
  it('login: logo, organisation, the relying party\'s own line, help links; the override file\'s German heading', async () => {
    const c = await context('de', { width: 1280, height: 800 });
    try {
      const page = await c.newPage();
      await PAGES.login!(page);
      expect(await page.title()).toBe('Anmelden – Contoso');
      expect(await page.locator('h1').textContent()).toBe('Bei Contoso anmelden');
      expect(await page.locator('img.logo').getAttribute('alt')).toBe('Logo von Contoso');
      expect(await page.locator('img.logo').evaluate((img: HTMLImageElement) => img.naturalWidth)).toBeGreaterThan(0);
      expect(await page.locator('#rp-text').textContent()).toBe('Use your staff account, not a personal one.');
      expect(await page.locator('main p.muted').first().textContent()).toBe('um mit Payroll fortzufahren');
      expect(await page.locator('#help-desk').textContent()).toBe('IT help desk: +41 44 000 00 00');
      expect(await page.locator('#help-link').getAttribute('href')).toBe('https://help.example.test/');
      expect(await page.locator('#forgot-password').textContent()).toBe('Kennwort vergessen?');
      // The accent colour comes from the served stylesheet, not an inline style.
      expect(await page.locator('#submitButton').evaluate((b) => getComputedStyle(b).backgroundColor)).toBe('rgb(107, 44, 145)');
      expect(await page.locator('[style]').count()).toBe(0);
    } finally {
      await c.close();
    }
  });

  it('a wrong password marks both fields invalid and points them at the message; an account problem marks none', async () => {
    const c = await context('en', { width: 1280, height: 800 });
    try {
      const page = await c.newPage();
      await PAGES['login-error']!(page);
      expect(await page.locator('#error').textContent()).toBe('The user name or password is incorrect.');
      for (const id of ['#UserName', '#Password']) {
        expect(await page.locator(id).getAttribute('aria-invalid')).toBe('true');
        expect(await page.locator(id).getAttribute('aria-describedby')).toBe('error');
      }
      await PAGES['login-disabled']!(page);
      expect(await page.locator('#error').textContent()).toBe('Your account is disabled. Contact your help desk.');
      expect(await page.locator('[aria-invalid]').count()).toBe(0);
      await PAGES['change-password-error']!(page);
      expect(await page.locator('[aria-invalid=true]').evaluateAll((els) => els.map((e) => e.id))).toEqual(['NewPassword', 'ConfirmPassword']);
    } finally {
      await c.close();
    }
  });

  it('ui_locales (and lc) win over the browser\'s language; error texts follow', async () => {
    const c = await context('de', { width: 1280, height: 800 });
    try {
      const page = await c.newPage();
      await page.goto(signIn('&ui_locales=fr'));
      expect(await page.locator('h1').textContent()).toBe('Connexion');
      await page.goto(signIn('&lc=1043'));
      expect(await page.locator('h1').textContent()).toBe('Aanmelden');
      await page.goto(`${gh.url}/adfs/ls/?wa=wsignin1.0&wtrealm=urn:not:registered&ui_locales=es`);
      expect(await page.locator('#error').textContent()).toBe('La aplicación que le ha enviado aquí no está registrada en este servicio de inicio de sesión.');
    } finally {
      await c.close();
    }
  });

  it('the second-factor pages and the password-expiry notice speak the page\'s language', async () => {
    // One browser per page: each signs in as another user.
    const visit = async (lang: Lang, name: string, check: (page: Page) => Promise<void>) => {
      const c = await context(lang, { width: 1280, height: 800 });
      try {
        const page = await c.newPage();
        await PAGES[name]!(page);
        await check(page);
      } finally {
        await c.close();
      }
    };
    await visit('ar', 'mfa-code', async (page) => {
      expect(await page.title()).toBe('تحقّق من هويتك – Contoso');
      expect(await page.locator('label[for=Code]').textContent()).toBe('الرمز');
    });
    await visit('ar', 'mfa-enrol', async (page) => {
      expect(await page.locator('h1').textContent()).toBe('إعداد تطبيق المصادقة');
      // The passkey scripts are this server's files, loaded by the layout as the page's last elements.
      expect(await page.locator('body > script').evaluateAll((els) => els.map((e) => e.getAttribute('src')))).toEqual([
        '/adfs/portal/simplewebauthn-browser.js',
        '/adfs/portal/mfa-webauthn.js',
      ]);
    });
    await visit('de', 'mfa-portal', async (page) => {
      expect(await page.locator('h1').textContent()).toBe('Ihre Anmeldemethoden');
      expect(await page.locator('#removeTotp').textContent()).toBe('Authentifizierungs-App entfernen');
    });
    await visit('ar', 'mfa-recovery-codes', async (page) => {
      expect(await page.locator('h1').textContent()).toBe(await arabic('mfaRecoveryCodes.heading'));
      expect(await page.locator('#recoveryCodes').getAttribute('dir')).toBe('ltr');
    });
    await visit('de', 'password-expiry-notice', async (page) => {
      expect(await page.locator('#notice').textContent()).toMatch(/^Ihr Kennwort läuft in \d+ Tagen ab$/);
      expect(await page.locator('#continueButton').textContent()).toBe('Weiter');
    });
  });

  it('the logo is served with its own type, a day\'s caching, nosniff and a sandboxing CSP', async () => {
    const res = await fetch(`${gh.url}/adfs/portal/logo`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('image/svg+xml');
    expect(res.headers.get('cache-control')).toBe('public, max-age=86400');
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('content-security-policy')).toContain('sandbox');
    const page = await fetch(signIn(), { headers: { 'accept-language': 'nl' } });
    expect(page.headers.get('content-language')).toBe('nl');
    expect(page.headers.get('vary')).toContain('Accept-Language');
  });
});
