// Hostile inputs against the browser endpoints (/adfs/ls/ and /adfs/portal/updatepassword). Each one must
// get a clear refusal: the right status, the page's #error text, no token (no wresult), nothing internal
// in the page, and the same security headers as every other page. Also "keep me signed in" and session
// key rotation, which decide how long a stolen or old cookie is worth anything.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Browser, Page } from '../support/http.js';
import { startGatehouse, TEST_RP, type RunningGatehouse } from '../support/gatehouse.js';
import { freshUser, adBadPwdCount } from '../support/users.js';
import { unlockUser } from '../support/directory.js';
import { ensureBuilt, ROOT, runCli } from '../support/cli.js';
import { SessionCodec } from '../../src/authn/session.js';
import { ldapDuration } from '../../src/metrics/metrics.js';

const M365 = 'urn:federation:MicrosoftOnline';
const M365_REPLY = 'https://login.microsoftonline.com/login.srf';
const MSG = {
  csrf: 'This form has expired. Go back, reload the page and try again.',
  rate: 'Too many sign-in attempts. Wait a minute and try again.',
  bad: 'The sign-in request is not valid.',
  wrong: 'The user name or password is incorrect.',
  empty: 'Enter your password.',
  mismatch: 'The new passwords do not match.',
};

// A user of this file only: its right password is used wherever a missing check would hand out a token.
const user = freshUser('hard-web', 'Passw0rd!Hard1');
/** Nobody: for attempts that must not touch any real account's counters (rate limits). */
const NOBODY = 'hard-nobody@corp.example.test';

/** Lockout off: its counters would get in the way of attempts that are refused for other reasons. */
const noLockout = (extra: (c: Record<string, any>) => void = () => {}) => (c: Record<string, any>) => {
  c.lockout = { mode: 'off' };
  extra(c);
};

let gh: RunningGatehouse;
beforeAll(async () => {
  gh = await startGatehouse(noLockout());
});
afterAll(async () => {
  await gh?.close();
  unlockUser(user.sam);
});

const signInUrl = (g: RunningGatehouse, params: Record<string, string> = { wtrealm: M365 }) =>
  `${g.url}/adfs/ls/?${new URLSearchParams({ wa: 'wsignin1.0', ...params })}`;

/** Opens the login page as a browser would; returns where its form posts and the fields it carries. */
async function openLogin(browser: Browser, g = gh, params?: Record<string, string>) {
  const page = await browser.get(signInUrl(g, params));
  expect(page.status).toBe(200);
  const form = page.form();
  return { page, action: new URL(form.action, g.url).toString(), fields: form.fields };
}

/** A request outside Browser's form-urlencoded post (raw bodies, other content types). */
async function raw(url: string, init: RequestInit): Promise<Page> {
  return Page.from(await fetch(url, { redirect: 'manual', ...init }));
}

/** Every refusal page: nothing about the server's insides. */
function expectNothingInternal(page: Page) {
  expect(page.body).not.toContain('Error:');
  expect(page.body).not.toMatch(/^\s*at /m); // a stack frame line
  expect(page.body).not.toMatch(/\bat [\w.$<>]+ \(/);
  expect(page.body).not.toMatch(/\bat (?:file|node):/);
  expect(page.body).not.toContain('/src/');
  expect(page.body).not.toContain('/dist/');
  expect(page.body).not.toContain('node_modules');
  expect(page.body).not.toMatch(/FST_|GH_[A-Z_]+/); // internal error codes
}

/** Every page, refusals included: the strict CSP and the helmet headers. */
function expectSecurityHeaders(page: Page) {
  const csp = page.headers.get('content-security-policy') ?? '';
  expect(csp).toContain("frame-ancestors 'none'");
  expect(csp).toContain("default-src 'none'");
  expect(csp).toContain("script-src 'none'");
  expect(page.headers.get('x-content-type-options')).toBe('nosniff');
  expect(page.headers.get('cache-control')).toBe('no-store');
  expect(page.headers.get('content-type')).toMatch(/^text\/html/);
}

/** A clear refusal: status, the page's #error, no token, nothing internal, security headers. */
function expectRefusal(page: Page, status: number, message: string | RegExp) {
  expect(page.status, page.body.slice(0, 400)).toBe(status);
  if (typeof message === 'string') expect(page.text('#error')).toBe(message);
  else expect(page.text('#error')).toMatch(message);
  expect(page.body).not.toContain('wresult');
  expectNothingInternal(page);
  expectSecurityHeaders(page);
}

/** A token page for the user, posting to `replyUrl`. */
function expectToken(page: Page, replyUrl = M365_REPLY) {
  expect(page.status, page.body.slice(0, 400)).toBe(200);
  const form = page.form();
  expect(form.action).toBe(replyUrl);
  expect(form.fields.wresult).toContain(user.upn);
  return form;
}

function cookieLine(page: Page, name: string): string | undefined {
  return page.headers.getSetCookie().find((l) => l.startsWith(`${name}=`));
}

describe('CSRF: every form needs the token and its cookie', () => {
  it('sign-in without _csrf, with a wrong one, with a token but no cookie, or with another browser’s token: 403', async () => {
    const cases: [string, (b: Browser, fields: Record<string, string>) => Record<string, string>][] = [
      ['missing _csrf', (_b, { _csrf, ...rest }) => rest],
      ['wrong _csrf', (_b, f) => ({ ...f, _csrf: 'x'.repeat(f._csrf!.length) })],
      ['no gatehouse_csrf cookie', (b, f) => (b.cookies.delete('gatehouse_csrf'), f)],
    ];
    for (const [name, tamper] of cases) {
      const browser = new Browser();
      const { action, fields } = await openLogin(browser);
      expect(browser.cookies.has('gatehouse_csrf')).toBe(true);
      const page = await browser.post(action, tamper(browser, { ...fields, UserName: user.upn, Password: user.password }));
      expect(page.status, name).toBe(403);
      expectRefusal(page, 403, MSG.csrf);
      expect(browser.cookies.has('gatehouse_session'), name).toBe(false);
    }
    // A forged cross-site post: the attacker's own valid token, the victim's cookie.
    const victim = new Browser();
    await openLogin(victim);
    const attacker = await openLogin(new Browser());
    const page = await victim.post(attacker.action, { ...attacker.fields, UserName: user.upn, Password: user.password });
    expectRefusal(page, 403, MSG.csrf);
  });

  it('the change-password portal: the same three refusals', async () => {
    const url = `${gh.url}/adfs/portal/updatepassword`;
    // Mismatching new passwords: even if the CSRF check were missing, no password could change here
    // (the page would answer 400 "do not match" instead, and the test would still fail).
    const body = { Action: 'changePassword', UserName: user.upn, OldPassword: user.password, NewPassword: 'N3w-Passw0rd!x1', ConfirmPassword: 'N3w-Passw0rd!x2' };
    const cases: [string, (b: Browser, fields: Record<string, string>) => Record<string, string>][] = [
      ['missing _csrf', (_b, { _csrf, ...rest }) => rest],
      ['wrong _csrf', (_b, f) => ({ ...f, _csrf: 'x'.repeat(f._csrf!.length) })],
      ['no gatehouse_csrf cookie', (b, f) => (b.cookies.delete('gatehouse_csrf'), f)],
    ];
    for (const [name, tamper] of cases) {
      const browser = new Browser();
      const form = (await browser.get(url)).form();
      expect(form.fields._csrf).toBeTruthy();
      const page = await browser.post(new URL(form.action, gh.url).toString(), tamper(browser, { ...form.fields, ...body }));
      expect(page.status, name).toBe(403);
      expectRefusal(page, 403, MSG.csrf);
    }
    // The control: with token and cookie the same post reaches the password check.
    const browser = new Browser();
    const form = (await browser.get(url)).form();
    const ok = await browser.post(new URL(form.action, gh.url).toString(), { ...form.fields, ...body });
    expect(ok.status).toBe(400);
    expect(ok.text('#error')).toBe(MSG.mismatch);
  });
});

describe('rate limits on the credential endpoints', () => {
  it('per address: the 4th post in a minute gets 429 with Retry-After; other addresses and GETs are not limited', async () => {
    const g = await startGatehouse(
      noLockout((c) => {
        c.trustedProxies = ['127.0.0.1'];
        c.rateLimit = { perAddressPerMinute: 3, globalPerMinute: 100_000 };
      }),
    );
    try {
      const a = new Browser({ 'x-forwarded-for': '198.51.100.21' });
      const { action, fields } = await openLogin(a, g);
      for (let i = 0; i < 3; i++) expectRefusal(await a.post(action, { ...fields, UserName: NOBODY, Password: `Wrong-${i}!x` }), 401, MSG.wrong);
      // The 4th is refused even with the right password: the limit comes before any password check.
      const limited = await a.post(action, { ...fields, UserName: user.upn, Password: user.password });
      expectRefusal(limited, 429, MSG.rate);
      const retryAfter = Number(limited.headers.get('retry-after'));
      expect(retryAfter).toBeGreaterThan(0);
      expect(retryAfter).toBeLessThanOrEqual(60);
      expect(a.cookies.has('gatehouse_session')).toBe(false);

      // Showing the login page is not limited.
      for (let i = 0; i < 5; i++) expect((await a.get(signInUrl(g))).status).toBe(200);
      // Another client address has its own allowance.
      const b = new Browser({ 'x-forwarded-for': '198.51.100.22' });
      const other = await openLogin(b, g);
      expectToken(await b.post(other.action, { ...other.fields, UserName: user.upn, Password: user.password }));
    } finally {
      await g.close();
    }
  });

  it('a refused address: its next posts are refused before the directory is asked who the user is', async () => {
    const g = await startGatehouse(noLockout((c) => (c.rateLimit = { perAddressPerMinute: 2, globalPerMinute: 100_000 })));
    const searches = async () => (await ldapDuration.get()).values.filter((v) => v.labels.operation === 'search' && v.metricName?.endsWith('_count')).reduce((n, v) => n + v.value, 0);
    try {
      const start = await searches();
      const b = new Browser();
      const { action, fields } = await openLogin(b, g);
      const wrong = { ...fields, UserName: NOBODY, Password: 'Wrong-1!x' };
      for (let i = 0; i < 2; i++) expectRefusal(await b.post(action, wrong), 401, MSG.wrong);
      // The verdict of a password post travels while the user is looked up, so the first refusal still
      // costs one look-up (finishing after the answer); from then on this address is refused up front.
      expectRefusal(await b.post(action, wrong), 429, MSG.rate);
      await expect.poll(searches).toBe(start + 3);
      for (let i = 0; i < 5; i++) expectRefusal(await b.post(action, wrong), 429, MSG.rate);
      expect(await searches()).toBe(start + 3);
      expect(g.logs.filter((l) => l.event === 'signin_attempt')).toHaveLength(2);
    } finally {
      await g.close();
    }
  });

  it('per address: one allowance for every credential endpoint, not one per route', async () => {
    const g = await startGatehouse(noLockout((c) => (c.rateLimit = { perAddressPerMinute: 3, globalPerMinute: 100_000 })));
    try {
      const b = new Browser();
      const { action, fields } = await openLogin(b, g);
      const wrong = { ...fields, UserName: NOBODY, Password: 'Wrong-1!x' };
      expectRefusal(await b.post(action, wrong), 401, MSG.wrong); // /adfs/ls/
      expectRefusal(await b.post(action.replace('/adfs/ls/?', '/adfs/ls?'), wrong), 401, MSG.wrong); // /adfs/ls
      const portal = (await b.get(`${g.url}/adfs/portal/updatepassword`)).form();
      const change = { ...portal.fields, UserName: NOBODY, OldPassword: 'Wrong-2!x', NewPassword: 'N3w-Passw0rd!x1', ConfirmPassword: 'N3w-Passw0rd!x1' };
      expectRefusal(await b.post(`${g.url}/adfs/portal/updatepassword`, change), 401, MSG.wrong);
      // The 4th password from this address in the minute, whichever endpoint it comes to.
      const limited = await b.post(action, { ...fields, UserName: user.upn, Password: user.password });
      expectRefusal(limited, 429, MSG.rate);
      expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    } finally {
      await g.close();
    }
  });

  it('global: the limit counts every address together', async () => {
    const g = await startGatehouse(
      noLockout((c) => {
        c.trustedProxies = ['127.0.0.1'];
        c.rateLimit = { perAddressPerMinute: 100, globalPerMinute: 2 };
      }),
    );
    try {
      const post = async (ip: string, password: string) => {
        const b = new Browser({ 'x-forwarded-for': ip });
        const { action, fields } = await openLogin(b, g);
        return b.post(action, { ...fields, UserName: NOBODY, Password: password });
      };
      expectRefusal(await post('203.0.113.1', 'Wrong-1!x'), 401, MSG.wrong);
      expectRefusal(await post('203.0.113.2', 'Wrong-2!x'), 401, MSG.wrong);
      const limited = await post('203.0.113.3', 'Wrong-3!x');
      expectRefusal(limited, 429, MSG.rate);
      expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
      expect(g.logs.filter((l) => l.event === 'signin_attempt')).toHaveLength(2); // the third never reached the check
    } finally {
      await g.close();
    }
  });
});

describe('oversized input', () => {
  it('a 300-character user name: 400', async () => {
    const browser = new Browser();
    const { action, fields } = await openLogin(browser);
    expectRefusal(await browser.post(action, { ...fields, UserName: 'a'.repeat(300), Password: user.password }), 400, MSG.bad);
  });

  it('a 100 KB body: refused with a page (the body limit is 64 KB), and the server carries on', async () => {
    const browser = new Browser();
    const { action, fields } = await openLogin(browser);
    const body = new URLSearchParams({ ...fields, UserName: user.upn, Password: 'x'.repeat(100 * 1024) }).toString();
    expect(body.length).toBeGreaterThan(100 * 1024);
    const page = await raw(action, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: `gatehouse_csrf=${browser.cookies.get('gatehouse_csrf')}` },
      body,
    });
    expect([400, 413]).toContain(page.status);
    expectRefusal(page, page.status, MSG.bad);
    expect((await new Browser().get(signInUrl(gh))).status).toBe(200);
  });

  it('a 600-character password (above the form limit): 400', async () => {
    const browser = new Browser();
    const { action, fields } = await openLogin(browser);
    expectRefusal(await browser.post(action, { ...fields, UserName: user.upn, Password: 'p'.repeat(600) }), 400, MSG.bad);
  });

  it('a 5000-character wctx: 400', async () => {
    expectRefusal(await new Browser().get(signInUrl(gh, { wtrealm: M365, wctx: 'c'.repeat(5000) })), 400, MSG.bad);
  });
});

describe('user names with LDAP filter metacharacters and wildcards match nobody', () => {
  it.each([
    ['*'],
    ['hard-web*'],
    ['hard-w*'],
    ['hard-w*@corp.example.test'],
    ['*@corp.example.test'],
    ['CORP\\hard-w*'],
    ['alice*'],
    ['*)(objectClass=*'],
    ['hard-web)(|(sAMAccountName=*'],
    ['\\2a'],
    ['hard-we\\2a'],
    ['hard-we\\2a@corp.example.test'],
    ['hard-web\u0000'],
    ['\u0000'],
  ])('%j with the right password of hard-web: 401, no token, no bind as the user', async (name) => {
    const before = adBadPwdCount(user.sam);
    const browser = new Browser();
    const { action, fields } = await openLogin(browser);
    const page = await browser.post(action, { ...fields, UserName: name, Password: user.password });
    expectRefusal(page, 401, MSG.wrong);
    expect(adBadPwdCount(user.sam)).toBe(before);
  });

  it('an empty password: "Enter your password." and no bind', async () => {
    const before = adBadPwdCount(user.sam);
    const browser = new Browser();
    const { action, fields } = await openLogin(browser);
    expectRefusal(await browser.post(action, { ...fields, UserName: user.upn, Password: '' }), 401, MSG.empty);
    expect(adBadPwdCount(user.sam)).toBe(before);
  });
});

describe('header injection in wctx', () => {
  const WCTX = 'abc\r\nSet-Cookie: evil=1';
  const WCTX_HTML = 'x\r\nSet-Cookie: evil=2"><b id="injected">x</b>\'';

  it.each([[WCTX], [WCTX_HTML]])('%j is never a header, and comes back only as an escaped form field', async (wctx) => {
    const browser = new Browser();
    const login = await browser.get(signInUrl(gh, { wtrealm: M365, wctx }));
    expect(login.status).toBe(200);
    const action = new URL(login.form().action, gh.url);
    // The login form posts back to the same query: wctx stays percent-encoded in it.
    expect(action.searchParams.get('wctx')).toBe(wctx);
    const page = await browser.post(action.toString(), { ...login.form().fields, UserName: user.upn, Password: user.password });
    for (const p of [login, page]) {
      expect(p.headers.getSetCookie().join('\n')).not.toMatch(/evil/);
      for (const [name, value] of p.headers) {
        expect(name).not.toMatch(/evil|set-cookie: /i);
        expect(value).not.toMatch(/[\r\n]/);
      }
      expect(p.body).not.toContain('id="injected"');
      expect(p.body).not.toContain('"><b');
    }
    expect([...browser.cookies.keys()].sort()).toEqual(['gatehouse_csrf', 'gatehouse_session']);
    const form = expectToken(page);
    expect(form.fields.wctx).toBe(wctx);
  });
});

describe('unregistered return URLs', () => {
  it.each([
    ['another host', 'https://evil.example/steal'],
    ['a registered URL as a prefix', `${TEST_RP.replyUrls[0]}.evil.example/x`],
    ['user info in front of another host', 'https://rp.test.invalid@evil.example/acs'],
    ['a javascript: URL', 'javascript:alert(document.domain)'],
  ])('sign-in with wreply to %s: the token goes to the registered URL only', async (_what, wreply) => {
    const browser = new Browser();
    const { action, fields } = await openLogin(browser, gh, { wtrealm: TEST_RP.id, wreply });
    const page = await browser.post(action, { ...fields, UserName: user.upn, Password: user.password });
    expectToken(page, TEST_RP.replyUrls[0]);
    expect(page.body).not.toContain('evil.example');
    expect(page.body).not.toContain('javascript:');
    expect(page.headers.get('content-security-policy')).toContain(`form-action 'self' https://rp.test.invalid;`);
    expect(page.headers.get('content-security-policy')).not.toContain('evil');
    // Single sign-on from the session takes the same path.
    const sso = await browser.get(signInUrl(gh, { wtrealm: TEST_RP.id, wreply }));
    expect(sso.form().action).toBe(TEST_RP.replyUrls[0]);
  });

  it.each([['https://evil.example/'], ['//evil.example/'], ['javascript:alert(1)']])('wsignout1.0 with wreply=%s: no redirect to it', async (wreply) => {
    const page = await new Browser().get(`${gh.url}/adfs/ls/?wa=wsignout1.0&wreply=${encodeURIComponent(wreply)}`);
    expect(page.status).toBe(200);
    expect(page.headers.get('location')).toBeNull();
    expect(page.body).toContain('You have signed out');
    expect(page.body).not.toContain('evil.example');
    expectNothingInternal(page);
    expectSecurityHeaders(page);
  });
});

describe('XML is not a form', () => {
  const BOMB = `<?xml version="1.0"?>
<!DOCTYPE lolz [
  <!ENTITY lol "lol">
  <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
  <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
  <!ENTITY xxe SYSTEM "file:///etc/passwd">
]>
<UserName>&lol3;&xxe;</UserName>`;

  it.each([['text/xml'], ['application/xml'], ['application/soap+xml; charset=utf-8']])(
    'a %s body with a DOCTYPE posted to /adfs/ls/ is refused unparsed',
    async (type) => {
      const browser = new Browser();
      const { action } = await openLogin(browser);
      const page = await raw(action, {
        method: 'POST',
        headers: { 'content-type': type, cookie: `gatehouse_csrf=${browser.cookies.get('gatehouse_csrf')}` },
        body: BOMB,
      });
      expect([400, 415]).toContain(page.status);
      expectRefusal(page, page.status, MSG.bad);
      expect(page.body).not.toContain('root:');
      expect(page.body).not.toContain('lollol');
      // Fastify refused the content type itself: no parser ran, and the request never reached the handler.
      const refusal = gh.logs.filter((l) => l.msg === 'request refused').at(-1);
      expect(refusal?.detail).toMatch(/Unsupported Media Type/i);
    },
  );
});

describe('keep me signed in', () => {
  async function signInWith(g: RunningGatehouse, kmsi: boolean) {
    const browser = new Browser();
    const { page: login, action, fields } = await openLogin(browser, g);
    // form() lists the checkbox with its value whether ticked or not; a browser sends it only when ticked.
    const { Kmsi: _checkbox, ...rest } = fields;
    const page = await browser.post(action, { ...rest, UserName: user.upn, Password: user.password, ...(kmsi ? { Kmsi: 'true' } : {}) });
    expectToken(page);
    return { login, page, cookie: cookieLine(page, 'gatehouse_session')! };
  }

  it('when enabled: the checkbox is offered, and ticking it gives a cookie that lasts 24 hours', async () => {
    const g = await startGatehouse(noLockout((c) => (c.session = { ...c.session, keepMeSignedIn: true })));
    try {
      const ticked = await signInWith(g, true);
      expect(ticked.login.body).toMatch(/<input type="checkbox" name="Kmsi" value="true" id="Kmsi">/);
      const expires = /;\s*Expires=([^;]+)/i.exec(ticked.cookie)?.[1];
      expect(expires, ticked.cookie).toBeDefined();
      expect(Math.abs(Date.parse(expires!) - (Date.now() + 24 * 3600_000))).toBeLessThan(5 * 60_000);
      expect(ticked.cookie).toMatch(/HttpOnly/);

      const unticked = await signInWith(g, false);
      expect(unticked.cookie).toBeDefined();
      expect(unticked.cookie).not.toMatch(/Expires|Max-Age/i);
    } finally {
      await g.close();
    }
  });

  it('when not enabled (the default): no checkbox, and Kmsi=true posted anyway gives a session cookie only', async () => {
    const { login, cookie } = await signInWith(gh, true);
    expect(login.body).not.toContain('Kmsi');
    expect(login.text('#Kmsi')).toBeUndefined();
    expect(cookie).toBeDefined();
    expect(cookie).not.toMatch(/Expires|Max-Age/i);
  });
});

describe('session key rotation', () => {
  it('after `certs rotate-session-key` and a restart, old cookies still work and new ones use the new key', async () => {
    ensureBuilt();
    const g1 = await startGatehouse(noLockout());
    const keyFile: string = g1.configRaw.session.keyFile;
    const oldKey = readFileSync(keyFile, 'utf8').trim();
    const browser = new Browser();
    let g2: RunningGatehouse | undefined;
    try {
      const { action, fields } = await openLogin(browser, g1);
      expectToken(await browser.post(action, { ...fields, UserName: user.upn, Password: user.password }));
      const oldCookie = browser.cookies.get('gatehouse_session')!;
      const oldSession = new SessionCodec([Buffer.from(oldKey, 'base64')]).open(oldCookie);
      expect(oldSession?.upn).toBe(user.upn);
      await g1.close();

      const cfgFile = join(g1.dir, 'rotate.yaml');
      writeFileSync(cfgFile, stringify(g1.configRaw));
      const r = runCli(['certs', 'rotate-session-key', '--config', cfgFile], { cwd: ROOT });
      expect(r.status, r.stderr).toBe(0);
      const lines = readFileSync(keyFile, 'utf8').trim().split('\n');
      expect(lines).toHaveLength(2);
      expect(lines[1]).toBe(oldKey);
      expect(lines[0]).not.toBe(oldKey);
      expect(Buffer.from(lines[0]!, 'base64')).toHaveLength(32);
      const newCodec = new SessionCodec([Buffer.from(lines[0]!, 'base64')]);
      const oldCodec = new SessionCodec([Buffer.from(oldKey, 'base64')]);
      expect(newCodec.open(oldCookie)).toBeUndefined();

      // The same files, a new process: the old cookie gives single sign-on (no password form)...
      g2 = await startGatehouse(
        noLockout((c) => {
          c.session.keyFile = keyFile;
          c.signing = g1.configRaw.signing;
          c.stateDir = g1.configRaw.stateDir;
        }),
      );
      const sso = await browser.get(signInUrl(g2, { wtrealm: TEST_RP.id }));
      expectToken(sso, TEST_RP.replyUrls[0]);
      expect(sso.form().fields).not.toHaveProperty('Password');

      // ...and the cookie it writes back is sealed with the new key only, for the same session.
      const newCookie = browser.cookies.get('gatehouse_session')!;
      expect(newCookie).not.toBe(oldCookie);
      const reopened = newCodec.open(newCookie);
      expect(reopened?.sid).toBe(oldSession!.sid);
      expect(reopened?.realms).toEqual([M365, TEST_RP.id]);
      expect(oldCodec.open(newCookie)).toBeUndefined();

      // A fresh sign-in on the restarted server: new key as well.
      const other = new Browser();
      const login = await openLogin(other, g2);
      expectToken(await other.post(login.action, { ...login.fields, UserName: user.upn, Password: user.password }));
      expect(newCodec.open(other.cookies.get('gatehouse_session'))?.upn).toBe(user.upn);
      expect(oldCodec.open(other.cookies.get('gatehouse_session'))).toBeUndefined();
    } finally {
      await g1.close().catch(() => {});
      await g2?.close();
    }
  });
});
