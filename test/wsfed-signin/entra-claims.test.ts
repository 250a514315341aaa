// The claims about the sign-in that Entra ID reads (ADFS's Microsoft 365 rule set): insidecorporatenetwork
// from network.corporate and the extranet proxy marker, psso after "Keep me signed in", and
// authenticationinstant, the instant the password was typed (kept by single sign-on). WS-Federation and
// WS-Trust against the Samba DC; Gatehouse's clients connect from 127.0.0.1, a corporate range here.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Browser, type Page } from '../support/http.js';
import { startGatehouse, type RunningGatehouse } from '../support/gatehouse.js';
import { USERS } from '../support/directory.js';
import { attributes, AUTHN_INSTANT, INSIDE_CORPORATE_NETWORK, PSSO, value } from '../support/wsfed.js';
import { parseXml } from '../support/xml.js';
import { wsTrustToken } from '../rollover/support.js';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeSp, type TestSp } from '../saml2/sp.js';
import { posted, redirectUrlOf, val } from '../saml2/support.js';
import { testKeys } from '../support/gatehouse.js';

const M365 = 'urn:federation:MicrosoftOnline';
const A = '/t:RequestSecurityTokenResponse/t:RequestedSecurityToken/saml:Assertion';
let gh: RunningGatehouse;
let sp: TestSp;

beforeAll(async () => {
  // A SAML 2.0 relying party without claim rules: the microsoft365 preset, as Entra over SAML-P gets it.
  sp = makeSp(mkdtempSync(join(tmpdir(), 'entra-claims-')), 'sp-entra-claims', testKeys().certPem, 'http://placeholder/adfs/ls/');
  gh = await startGatehouse((cfg) => {
    cfg.relyingParties.push({ id: sp.entityId, protocol: 'saml2', metadataFile: sp.metadataFile });
    cfg.session = { ...cfg.session, keepMeSignedIn: true, keepMeSignedInMinutes: 7 * 24 * 60 };
    cfg.network = { corporate: ['127.0.0.0/8'], extranetHeader: 'x-ms-proxy' };
    // The test's own connections come from 127.0.0.1: as a trusted reverse proxy, its X-Forwarded-For counts.
    cfg.trustedProxies = ['127.0.0.1'];
  });
});
afterAll(async () => gh?.close());

beforeAll(() => {
  sp.saml.options.entryPoint = `${gh.url}/adfs/ls/`;
});

const signInUrl = () => `${gh.url}/adfs/ls/?${new URLSearchParams({ wa: 'wsignin1.0', wtrealm: M365 })}`;

/** The claims of the token a page posts to Microsoft 365, and its AuthenticationStatement's instant. */
function claimsOf(page: Page) {
  const wresult = page.form().fields.wresult;
  expect(wresult, page.body.slice(0, 300)).toBeTruthy();
  const doc = parseXml(wresult!);
  return { claims: attributes(doc), statementInstant: value(doc, `${A}/saml:AuthenticationStatement/@AuthenticationInstant`)! };
}

async function signIn(b: Browser, kmsi: boolean): Promise<Page> {
  const login = await b.get(signInUrl());
  const form = login.form();
  expect(form.fields).toHaveProperty('Password');
  const fields: Record<string, string> = { ...form.fields, UserName: USERS.alice.upn, Password: USERS.alice.password };
  // An unticked checkbox is not sent (the form reader lists every input).
  if (kmsi) fields.Kmsi = 'true';
  else delete fields.Kmsi;
  return b.post(new URL(form.action, gh.url).toString(), fields);
}

describe('claims about the sign-in for Microsoft 365', () => {
  it('"Keep me signed in": psso=true, a persistent cookie, and insidecorporatenetwork=true from a corporate address', async () => {
    const b = new Browser();
    const login = await b.get(signInUrl());
    expect(login.body).toMatch(/name="Kmsi"/);
    const page = await signIn(b, true);
    const setCookie = page.headers.getSetCookie().find((c) => c.startsWith(`${gh.config.session.cookieName}=`));
    expect(setCookie).toMatch(/Expires=/i);
    const { claims, statementInstant } = claimsOf(page);
    expect(claims[PSSO]).toEqual(['true']);
    expect(claims[INSIDE_CORPORATE_NETWORK]).toEqual(['true']);
    expect(new Date(claims[AUTHN_INSTANT]![0]!).getTime()).toBe(new Date(statementInstant).getTime());
  });

  it('without it: no psso claim, a session cookie', async () => {
    const b = new Browser();
    const page = await signIn(b, false);
    const setCookie = page.headers.getSetCookie().find((c) => c.startsWith(`${gh.config.session.cookieName}=`));
    expect(setCookie).not.toMatch(/Expires=/i);
    const { claims } = claimsOf(page);
    expect(claims[PSSO]).toBeUndefined();
    expect(claims[INSIDE_CORPORATE_NETWORK]).toEqual(['true']);
  });

  it('through the extranet proxy (its X-MS-Proxy marker): insidecorporatenetwork=false', async () => {
    const b = new Browser({ 'x-ms-proxy': 'wap01' });
    const { claims } = claimsOf(await signIn(b, false));
    expect(claims[INSIDE_CORPORATE_NETWORK]).toEqual(['false']);
  });

  it('a client address outside network.corporate (behind a trusted proxy): insidecorporatenetwork=false', async () => {
    const outside = claimsOf(await signIn(new Browser({ 'x-forwarded-for': '203.0.113.7' }), false));
    expect(outside.claims[INSIDE_CORPORATE_NETWORK]).toEqual(['false']);
    const inside = claimsOf(await signIn(new Browser({ 'x-forwarded-for': '127.0.0.9' }), false));
    expect(inside.claims[INSIDE_CORPORATE_NETWORK]).toEqual(['true']);
  });

  it('single sign-on keeps authenticationinstant at the password, and psso with the persistent session', async () => {
    const b = new Browser();
    const first = claimsOf(await signIn(b, true));
    await new Promise((r) => setTimeout(r, 1100));
    const again = await b.get(signInUrl());
    const second = claimsOf(again);
    expect(second.claims[AUTHN_INSTANT]).toEqual(first.claims[AUTHN_INSTANT]);
    expect(new Date(second.statementInstant).getTime()).toBe(new Date(first.statementInstant).getTime());
    expect(second.claims[PSSO]).toEqual(['true']);
  });

  it('WS-Trust: insidecorporatenetwork and authenticationinstant, never psso (no browser session)', async () => {
    const before = Date.now();
    const rstr = await wsTrustToken(gh.url);
    const doc = parseXml(rstr);
    const claims = attributes(doc);
    expect(claims[INSIDE_CORPORATE_NETWORK]).toEqual(['true']);
    expect(claims[PSSO]).toBeUndefined();
    expect(new Date(claims[AUTHN_INSTANT]![0]!).getTime()).toBeGreaterThanOrEqual(before - 1000);
  });

  it('SAML 2.0: the same claims, named by their URIs, with the AuthnStatement instant', async () => {
    const b = new Browser({ 'x-ms-proxy': 'wap01' });
    // The login page (one redirect away); the password posted without ticking Keep me signed in.
    const first = await b.get(await redirectUrlOf(sp));
    const page = await b.get(new URL(first.headers.get('location')!, gh.url).toString());
    const form = page.form();
    const { Kmsi: _unticked, ...fields } = form.fields;
    const r = posted(await b.post(new URL(form.action, gh.url).toString(), { ...fields, UserName: USERS.alice.upn, Password: USERS.alice.password }));
    const attr = (name: string) => val(r.doc, `//saml:AttributeStatement/saml:Attribute[@Name="${name}"]/saml:AttributeValue`);
    expect(attr(INSIDE_CORPORATE_NETWORK)).toBe('false');
    expect(attr(PSSO)).toBeUndefined();
    expect(new Date(attr(AUTHN_INSTANT)!).getTime()).toBe(new Date(val(r.doc, '//saml:AuthnStatement/@AuthnInstant')!).getTime());
  });

  it('SAML 2.0 after "Keep me signed in" from inside: psso=true, insidecorporatenetwork=true', async () => {
    const b = new Browser();
    const first = await b.get(await redirectUrlOf(sp));
    const page = await b.get(new URL(first.headers.get('location')!, gh.url).toString());
    const form = page.form();
    const r = posted(await b.post(new URL(form.action, gh.url).toString(), { ...form.fields, Kmsi: 'true', UserName: USERS.alice.upn, Password: USERS.alice.password }));
    const attr = (name: string) => val(r.doc, `//saml:AttributeStatement/saml:Attribute[@Name="${name}"]/saml:AttributeValue`);
    expect(attr(PSSO)).toBe('true');
    expect(attr(INSIDE_CORPORATE_NETWORK)).toBe('true');
  });
});
