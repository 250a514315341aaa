// MFA policy and the tokens it gives, over HTTP against the Samba DC: by AD group (nested), by network
// (inside network.corporate or not, through a trusted proxy), WS-Trust (refused, or password only for the
// relying parties allowed it, never claiming MFA), and SAML 2.0 with @node-saml/node-saml as the SP:
// a RequestedAuthnContext asking for multipleauthn forces the second step inside a password-only session,
// and the assertion's AuthnContextClassRef is then that one value (xmlsec1 verifies the signature).
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Secret, TOTP } from 'otpauth';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Browser, type Page } from '../support/http.js';
import { startGatehouse, testKeys, type RunningGatehouse } from '../support/gatehouse.js';
import { DC, USERS, samba } from '../support/directory.js';
import { attributes, value } from '../support/wsfed.js';
import { parseXml, SAML11_ID, xmlsecVerify } from '../support/xml.js';
import { V13, buildRst, fault, postSoap, value as soapValue } from '../wstrust/soap-client.js';
import { makeSp, type TestSp } from '../saml2/sp.js';
import { ensureBuilt, runCli } from '../support/cli.js';
import { SAML2_ASSERTION_ID, count as count2, val } from '../saml2/support.js';

const REALM = 'urn:test:mfa:policy';
const RICH = 'urn:test:mfa:rich';
const M365 = 'urn:federation:MicrosoftOnline';
const MULTIPLE_AUTHN = 'http://schemas.microsoft.com/claims/multipleauthn';
const AMR = 'http://schemas.microsoft.com/claims/authnmethodsreferences';
const PPT = 'urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport';
const GROUPS = { outer: 'gh-mfa-required', inner: 'gh-mfa-team' };
const groupDn = (cn: string) => `CN=${cn},CN=Users,${DC.baseDn}`;
const { alice, bob } = USERS;

let gh: RunningGatehouse;
let sp: TestSp;

function recreateGroup(name: string): void {
  try {
    samba('group', 'delete', name);
  } catch {
    // not there (a fresh DC)
  }
  samba('group', 'add', name);
}

beforeAll(async () => {
  recreateGroup(GROUPS.outer);
  recreateGroup(GROUPS.inner);
  samba('group', 'addmembers', GROUPS.outer, GROUPS.inner);
  samba('group', 'addmembers', GROUPS.inner, alice.sam);
  sp = makeSp(mkdtempSync(join(tmpdir(), 'mfa-sp-')), 'mfa-wiki', testKeys().certPem, 'http://placeholder/adfs/ls/');
  gh = await startGatehouse((c) => {
    c.trustedProxies = ['127.0.0.1'];
    c.network = { corporate: ['127.0.0.0/8'] };
    c.relyingParties.push(
      { id: REALM, name: 'Policy RP', replyUrls: ['https://rp.test.invalid/mfa'] },
      { id: RICH, name: 'Rich client RP', replyUrls: ['https://rich.test.invalid/'] },
      { id: sp.entityId, name: 'MFA Wiki', protocol: 'saml2', metadataFile: sp.metadataFile },
    );
    c.mfa = { enabled: true, require: { groups: [groupDn(GROUPS.outer)], outsideCorporateNetwork: true }, wsTrustPasswordOnly: [M365] };
  });
  sp.saml.options.entryPoint = `${gh.url}/adfs/ls/`;
});
afterAll(async () => {
  await gh?.close();
  for (const g of Object.values(GROUPS)) samba('group', 'delete', g);
});

const wsfedUrl = (extra = '') => `${gh.url}/adfs/ls/?wa=wsignin1.0&wtrealm=${encodeURIComponent(REALM)}${extra}`;
const abs = (url: string) => new URL(url, gh.url).toString();
const totp = (secret: string, offset = 0) =>
  new TOTP({ secret: Secret.fromBase32(secret), algorithm: 'SHA1', digits: 6, period: 30 }).generate({ timestamp: Date.now() + offset * 30_000 });

/** Types the password on the login page (following a redirect to it first). */
async function password(browser: Browser, first: Page, user: { upn: string; password: string }): Promise<Page> {
  let page = first;
  if (page.status === 303) page = await browser.get(abs(page.headers.get('location')!));
  expect(page.body).toContain('name="Password"');
  const form = page.form();
  return browser.post(abs(form.action), { ...form.fields, UserName: user.upn, Password: user.password });
}

/** On the enrolment page: the secret read off it, the first code, Continue past the recovery codes. */
async function enrol(browser: Browser, page: Page): Promise<{ page: Page; secret: string }> {
  const secret = /id="secret">([A-Z2-7 ]+)</.exec(page.body)?.[1]?.replace(/ /g, '');
  expect(secret, page.body.slice(0, 400)).toBeDefined();
  const form = page.form();
  const codes = await browser.post(abs(form.action), { ...form.fields, Code: totp(secret!) });
  expect(codes.body).toContain('id="recoveryCodes"');
  const next = codes.form();
  return { page: await browser.post(abs(next.action), next.fields), secret: secret! };
}

const isEnrolPage = (p: Page) => p.body.includes('name="Enrolment"');
const isTokenPage = (p: Page) => p.body.includes('name="wresult"') || p.body.includes('name="SAMLResponse"');

function wsfedToken(page: Page): Document {
  const wresult = page.form().fields.wresult!;
  expect(xmlsecVerify(wresult, gh.certPem, SAML11_ID).ok).toBe(true);
  return parseXml(wresult);
}

describe('MFA policy', () => {
  it('by AD group, nested: alice (a member through a nested group) is taken to enrolment after her password', async () => {
    const browser = new Browser();
    const page = await password(browser, await browser.get(wsfedUrl()), alice);
    expect(isEnrolPage(page)).toBe(true);
    const { page: done } = await enrol(browser, page);
    const doc = wsfedToken(done);
    expect(value(doc, '//saml:AuthenticationStatement/@AuthenticationMethod')).toBe(MULTIPLE_AUTHN);
    expect(attributes(doc)[AMR]).toEqual([MULTIPLE_AUTHN]);
    expect(gh.logs.some((l) => l.event === 'mfa_enrolled' && l.user === alice.upn)).toBe(true);
  });

  it('by network: bob (no group) gets a password-only token inside the corporate network, and enrolment from outside', async () => {
    const inside = new Browser();
    const page = await password(inside, await inside.get(wsfedUrl()), bob);
    expect(isTokenPage(page)).toBe(true);
    const doc = wsfedToken(page);
    expect(value(doc, '//saml:AuthenticationStatement/@AuthenticationMethod')).toBe(PPT);
    expect(attributes(doc)[AMR]).toBeUndefined();

    const outside = new Browser({ 'x-forwarded-for': '203.0.113.7' });
    expect(isEnrolPage(await password(outside, await outside.get(wsfedUrl()), bob))).toBe(true);
  });

  it('WS-Trust cannot ask for a second factor: refused, or a password-only token for the relying parties allowed it', async () => {
    const refused = await postSoap(`${gh.url}${V13.path}`, buildRst(V13, { baseUrl: gh.url, username: alice.upn, password: alice.password, appliesTo: RICH }));
    expect(refused.status).toBe(500);
    // A refusal of the user's sign-in, as for a wrong password; the log says why.
    expect(fault(refused.doc).subcode).toBe('FailedAuthentication');
    expect(gh.logs.some((l) => /GH_MFA_NOT_POSSIBLE/.test(JSON.stringify(l)))).toBe(true);

    const allowed = await postSoap(`${gh.url}${V13.path}`, buildRst(V13, { baseUrl: gh.url, username: alice.upn, password: alice.password, appliesTo: M365 }));
    expect(allowed.status, allowed.body).toBe(200);
    const method = soapValue(allowed.doc, '//saml:AuthenticationStatement/@AuthenticationMethod');
    expect(method).toBe('urn:oasis:names:tc:SAML:1.0:am:password');
    expect(allowed.body).not.toContain(MULTIPLE_AUTHN);
    expect(gh.logs.some((l) => l.event === 'mfa_skipped' && l.realm === M365)).toBe(true);
  });
});

describe('SAML 2.0 RequestedAuthnContext with @node-saml/node-saml', () => {
  it('asking for multipleauthn inside a password-only session forces the second step; the assertion names it alone', async () => {
    const browser = new Browser();
    // Without RequestedAuthnContext for MFA (node-saml asks for PasswordProtectedTransport): the password only.
    let page = await password(browser, await browser.get(await sp.saml.getAuthorizeUrlAsync('', undefined, {})), bob);
    expect(isTokenPage(page)).toBe(true);
    let xml = Buffer.from(page.form().fields.SAMLResponse!, 'base64').toString('utf8');
    expect(val(parseXml(xml), '//saml:AuthnStatement/saml:AuthnContext/saml:AuthnContextClassRef')).toBe(PPT);
    await sp.saml.validatePostResponseAsync({ SAMLResponse: page.form().fields.SAMLResponse! });
    const passwordAt = Date.parse(val(parseXml(xml), '//saml:AuthnStatement/@AuthnInstant')!);

    sp.saml.options.authnContext = [MULTIPLE_AUTHN];
    try {
      page = await browser.get(await sp.saml.getAuthorizeUrlAsync('step-up', undefined, {}));
    } finally {
      sp.saml.options.authnContext = [PPT];
    }
    // To the sign-in page, where the second step is asked (no password: the session has it).
    expect(page.status).toBe(303);
    page = await browser.get(abs(page.headers.get('location')!));
    expect(page.body).not.toContain('name="Password"');
    expect(isEnrolPage(page)).toBe(true);
    ({ page } = await enrol(browser, page));
    const form = page.form();
    expect(form.fields.RelayState).toBe('step-up');
    const { profile } = await sp.saml.validatePostResponseAsync({ SAMLResponse: form.fields.SAMLResponse! });
    expect(profile?.[AMR]).toBe(MULTIPLE_AUTHN);
    xml = Buffer.from(form.fields.SAMLResponse!, 'base64').toString('utf8');
    expect(xmlsecVerify(xml, gh.certPem, SAML2_ASSERTION_ID).ok).toBe(true);
    const doc = parseXml(xml);
    expect(count2(doc, '//saml:AuthnStatement/saml:AuthnContext/saml:AuthnContextClassRef')).toBe(1);
    expect(val(doc, '//saml:AuthnStatement/saml:AuthnContext/saml:AuthnContextClassRef')).toBe(MULTIPLE_AUTHN);
    // The instant of the last full sign-in: the second step, after the password.
    expect(Date.parse(val(doc, '//saml:AuthnStatement/@AuthnInstant')!)).toBeGreaterThanOrEqual(passwordAt);
  });
});

describe('gatehouse mfa', () => {
  it('list shows who enrolled what (no secret); reset removes a user\'s factors with an audit line, and the next sign-in enrols again', async () => {
    ensureBuilt();
    const cfg = ['--config', join(gh.dir, 'gatehouse.yaml')];
    const list = runCli(['mfa', 'list', ...cfg, '--json'], { cwd: gh.dir });
    expect(list.status, list.stderr).toBe(0);
    const rows = JSON.parse(list.stdout) as { user: string; factors: string[] }[];
    expect(rows.map((r) => r.user).sort()).toEqual([alice.upn, bob.upn].sort());
    expect(rows[0]!.factors).toEqual(['totp', 'recovery']);
    expect(list.stdout).not.toMatch(/secret|sealed/i);
    const one = runCli(['mfa', 'list', ...cfg, '--user', alice.upn], { cwd: gh.dir });
    expect(one.stdout).toMatch(new RegExp(`^${alice.upn}\\ttotp,recovery\\t`));

    const reset = runCli(['mfa', 'reset', `CORP\\${alice.sam}`, ...cfg], { cwd: gh.dir });
    expect(reset.status, reset.stderr).toBe(0);
    expect(reset.stdout).toBe(`removed every second factor of ${alice.upn}\n`);
    const audit = JSON.parse(reset.stderr.trim().split('\n').pop()!);
    expect(audit).toMatchObject({ event: 'mfa_reset', user: alice.upn, removed: true });
    expect(runCli(['mfa', 'list', ...cfg, '--user', alice.upn], { cwd: gh.dir }).stdout).toBe(`${alice.upn} has no second factor enrolled\n`);

    // runCli blocked this thread for seconds: let fetch notice the keep-alive sockets the server closed meanwhile.
    await new Promise((r) => setTimeout(r, 100));
    const browser = new Browser();
    expect(isEnrolPage(await password(browser, await browser.get(wsfedUrl()), alice))).toBe(true);
  });
});
