// Client access policies per relying party, one decision for every protocol: groups made in the Samba DC
// with samba-tool (nested), the corporate network (127.0.0.0/8 here, the extranet proxy marker puts a
// request outside), the protocol endpoint and the X-MS-Client-Application header Exchange Online sends.
// WS-Federation, SAML 2.0 (an @node-saml/node-saml SP) and WS-Trust (the SOAP client rich clients use).
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Browser, type Page } from '../support/http.js';
import { startGatehouse, testKeys, type RunningGatehouse } from '../support/gatehouse.js';
import { DC, samba } from '../support/directory.js';
import { makeSp, type TestSp } from '../saml2/sp.js';
import { expectErrorPage, follow, posted, redirectUrlOf } from '../saml2/support.js';
import { buildRst, fault, V13, V2005, type Version } from '../wstrust/soap-client.js';
import { parseXml } from '../support/xml.js';

const M365 = 'urn:federation:MicrosoftOnline';
const APP = { id: 'urn:test:access-app', name: 'Payroll', replyUrls: ['https://payroll.test.invalid/acs'] };
const GROUPS = { staff: 'gh-access-staff', legacy: 'gh-access-legacy-mail', payroll: 'gh-access-payroll' };
const groupDn = (cn: string) => `CN=${cn},CN=Users,${DC.baseDn}`;
const PASSWORD = 'Passw0rd!Access1';
// mia: in payroll, and in legacy-mail through staff (nested); noah: in no group.
const USERS = { mia: 'gh-access-mia', noah: 'gh-access-noah' };
const upn = (sam: string) => `${sam}@${DC.realm}`;
const PROXY = { 'x-ms-proxy': 'wap01' };
const DENIED_MAIL = 'Outlook and phones reach mail from outside the office only for the legacy-mail group.';
const PAYROLL_OUTSIDE = 'Payroll is open only from the office network.';

let gh: RunningGatehouse;
let sp: TestSp;

function recreate(kind: 'group' | 'user', name: string, ...args: string[]) {
  try {
    samba(kind, 'delete', name);
  } catch {
    // not there (a fresh DC)
  }
  samba(kind, kind === 'user' ? 'create' : 'add', name, ...args);
}

beforeAll(async () => {
  for (const g of Object.values(GROUPS)) recreate('group', g);
  for (const u of Object.values(USERS)) recreate('user', u, PASSWORD);
  samba('group', 'addmembers', GROUPS.legacy, GROUPS.staff);
  samba('group', 'addmembers', GROUPS.staff, USERS.mia);
  samba('group', 'addmembers', GROUPS.payroll, USERS.mia);

  const dir = mkdtempSync(join(tmpdir(), 'access-policy-'));
  sp = makeSp(dir, 'sp-access', testKeys().certPem, 'http://placeholder/adfs/ls/');
  gh = await startGatehouse((cfg) => {
    cfg.network = { corporate: ['127.0.0.0/8'], extranetHeader: 'x-ms-proxy' };
    // The test's connections (127.0.0.1) stand for the reverse proxy in front of Gatehouse: its
    // X-Forwarded-For and, on WS-Trust, X-MS-Forwarded-Client-IP are believed when it sends them.
    cfg.trustedProxies = ['127.0.0.1'];
    cfg.relyingParties = [
      ...cfg.relyingParties,
      {
        // The built-in Microsoft 365 entry, with ADFS's usual client access policy.
        id: M365,
        accessPolicy: {
          rules: [
            { name: 'no-activesync-basic-auth', effect: 'deny', clientApplication: ['Microsoft.Exchange.ActiveSync'], protocol: ['ws-trust'], network: 'outside' },
            // Where the client itself is: Exchange Online's forwarded client address, when a trusted proxy passed it.
            { name: 'legacy-mail-outside', effect: 'deny', protocol: ['ws-trust'], clientNetwork: 'outside', notMemberOf: [groupDn(GROUPS.legacy)], message: DENIED_MAIL },
          ],
        },
      },
      {
        ...APP,
        accessPolicy: {
          default: 'deny',
          rules: [
            { name: 'payroll-office-only', effect: 'deny', network: 'outside', message: PAYROLL_OUTSIDE },
            { name: 'payroll-staff', effect: 'allow', memberOf: [groupDn(GROUPS.payroll)] },
          ],
        },
      },
      {
        id: sp.entityId, name: 'SAML app', protocol: 'saml2', metadataFile: sp.metadataFile,
        accessPolicy: { rules: [{ name: 'saml-inside-only', effect: 'deny', network: 'outside', endpoint: ['saml2'] }] },
      },
    ];
  });
  sp.saml.options.entryPoint = `${gh.url}/adfs/ls/`;
  sp.saml.options.idpIssuer = gh.config.issuer;
});
afterAll(async () => gh?.close());

/** The SAML 2.0 sign-in: Gatehouse's login page (a redirect away) and the page after the password. */
async function samlSignIn(b: Browser, sam: string): Promise<Page> {
  return (await follow(gh, b, await b.get(await redirectUrlOf(sp)), { upn: upn(sam), password: PASSWORD })).page;
}

/** Follows the login form through; the page after the password. */
async function withPassword(b: Browser, first: Page, sam: string): Promise<Page> {
  expect(first.status, first.body.slice(0, 300)).toBe(200);
  const form = first.form();
  expect(form.fields).toHaveProperty('Password');
  return b.post(new URL(form.action, gh.url).toString(), { ...form.fields, UserName: upn(sam), Password: PASSWORD });
}

const wsfedUrl = (realm: string) => `${gh.url}/adfs/ls/?${new URLSearchParams({ wa: 'wsignin1.0', wtrealm: realm })}`;

function deniedLogs(from: number) {
  return gh.logs.slice(from).filter((l) => l.event === 'access_denied');
}

describe('client access policy: WS-Federation', () => {
  it('an app only for a group: its member gets a token, anyone else an error page saying so, audited with the rule', async () => {
    const mia = new Browser();
    const ok = await withPassword(mia, await mia.get(wsfedUrl(APP.id)), USERS.mia);
    expect(ok.form().action).toBe(APP.replyUrls[0]);
    expect(ok.form().fields.wresult).toBeTruthy();

    const logged = gh.logs.length;
    const b = new Browser();
    const denied = await withPassword(b, await b.get(wsfedUrl(APP.id)), USERS.noah);
    expectErrorPage(denied, 403, /not allowed to use this application from here/);
    expect(denied.body).not.toMatch(/wresult/);
    expect(deniedLogs(logged)).toEqual([
      expect.objectContaining({ realm: APP.id, user: upn(USERS.noah), protocol: 'wsfed', endpoint: 'wsfed', rule: 'default', insideCorporateNetwork: true }),
    ]);
    // noah still has no session from it: the next application asks for the password again.
    expect(b.cookies.has(gh.config.session.cookieName)).toBe(false);
  });

  it('the Microsoft 365 policy names WS-Trust only: a browser from outside is not affected', async () => {
    const b = new Browser(PROXY);
    const page = await withPassword(b, await b.get(wsfedUrl(M365)), USERS.noah);
    expect(page.form().fields.wresult).toBeTruthy();
  });
});

describe('client access policy: SAML 2.0', () => {
  it('inside the corporate network: a token; through the extranet proxy: refused', async () => {
    const inside = new Browser();
    const token = posted(await samlSignIn(inside, USERS.noah));
    expect(token.action).toBe(sp.acs);

    const logged = gh.logs.length;
    const outside = new Browser(PROXY);
    const page = await samlSignIn(outside, USERS.noah);
    expectErrorPage(page, 403, /not allowed to use this application from here/);
    expect(deniedLogs(logged)).toEqual([
      expect.objectContaining({ realm: sp.entityId, protocol: 'saml2', endpoint: 'saml2', rule: 'saml-inside-only', insideCorporateNetwork: false }),
    ]);
  });

  it('single sign-on does not bypass it: a session made inside is refused once the request comes through the proxy', async () => {
    const b = new Browser();
    posted(await samlSignIn(b, USERS.mia));
    b.headers['x-ms-proxy'] = 'wap01';
    const again = await follow(gh, b, await b.get(await redirectUrlOf(sp)));
    expect(again.prompted).toBe(false);
    expectErrorPage(again.page, 403);
  });
});

describe('client access policy: WS-Trust (rich clients through Exchange Online)', () => {
  async function wsTrust(v: Version, sam: string, headers: Record<string, string>) {
    const res = await fetch(`${gh.url}${v.path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/soap+xml; charset=utf-8', ...headers },
      body: buildRst(v, { baseUrl: gh.url, username: upn(sam), password: PASSWORD }),
    });
    const body = await res.text();
    return { status: res.status, body, doc: parseXml(body) };
  }

  it('inside: everyone gets a token', async () => {
    for (const sam of [USERS.mia, USERS.noah]) {
      const r = await wsTrust(V2005, sam, {});
      expect(r.status, r.body.slice(0, 300)).toBe(200);
      expect(r.body).toContain('RequestedSecurityToken');
    }
  });

  it('outside: only the legacy-mail group (nested membership counts), on both WS-Trust versions', async () => {
    for (const v of [V2005, V13]) {
      const ok = await wsTrust(v, USERS.mia, PROXY);
      expect(ok.status, ok.body.slice(0, 300)).toBe(200);
      const logged = gh.logs.length;
      const refused = await wsTrust(v, USERS.noah, PROXY);
      expect(fault(refused.doc).subcode).toBe('FailedAuthentication');
      expect(refused.body).not.toContain('RequestedSecurityToken');
      expect(deniedLogs(logged)).toEqual([
        expect.objectContaining({ realm: M365, protocol: 'ws-trust', endpoint: `ws-trust-${v === V2005 ? '2005' : '1.3'}`, rule: 'legacy-mail-outside' }),
      ]);
    }
  });

  it('outside, ActiveSync (X-MS-Client-Application) is refused even for the legacy-mail group', async () => {
    const logged = gh.logs.length;
    const r = await wsTrust(V2005, USERS.mia, { ...PROXY, 'x-ms-client-application': 'Microsoft.Exchange.ActiveSync' });
    expect(fault(r.doc).subcode).toBe('FailedAuthentication');
    expect(deniedLogs(logged)).toEqual([expect.objectContaining({ rule: 'no-activesync-basic-auth', clientApplication: 'Microsoft.Exchange.ActiveSync' })]);
    // Another client application from outside: the group rule decides.
    const owa = await wsTrust(V2005, USERS.mia, { ...PROXY, 'x-ms-client-application': 'Microsoft.Exchange.Autodiscover' });
    expect(owa.status, owa.body.slice(0, 300)).toBe(200);
  });
});

describe('client access policy: WS-Trust relayed by Exchange Online (clientNetwork, X-MS-Forwarded-Client-IP)', () => {
  async function relayed(sam: string, headers: Record<string, string>) {
    const res = await fetch(`${gh.url}${V2005.path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/soap+xml; charset=utf-8', ...headers },
      body: buildRst(V2005, { baseUrl: gh.url, username: upn(sam), password: PASSWORD }),
    });
    const body = await res.text();
    return { status: res.status, body, doc: parseXml(body) };
  }
  // Exchange Online's call comes from Microsoft's address through the reverse proxy, marked as extranet.
  const EXO = { 'x-forwarded-for': '52.98.10.20', ...PROXY };

  it("a client in the office (its forwarded address corporate) gets a token although Exchange Online's call is outside", async () => {
    const r = await relayed(USERS.noah, { ...EXO, 'x-ms-forwarded-client-ip': '127.0.0.77' });
    expect(r.status, r.body.slice(0, 300)).toBe(200);
    expect(r.body).toContain('RequestedSecurityToken');
  });

  it('a client elsewhere is refused by the rule, audited with where the client is', async () => {
    const logged = gh.logs.length;
    const r = await relayed(USERS.noah, { ...EXO, 'x-ms-forwarded-client-ip': '203.0.113.9' });
    expect(fault(r.doc).subcode).toBe('FailedAuthentication');
    expect(r.body).not.toContain('RequestedSecurityToken');
    expect(deniedLogs(logged)).toEqual([
      expect.objectContaining({
        realm: M365, protocol: 'ws-trust', rule: 'legacy-mail-outside', insideCorporateNetwork: false, clientInsideCorporateNetwork: false,
        addresses: ['52.98.10.20', '203.0.113.9'],
      }),
    ]);
    // The group's member is let through from anywhere.
    expect((await relayed(USERS.mia, { ...EXO, 'x-ms-forwarded-client-ip': '203.0.113.9' })).status).toBe(200);
  });

  it('the header is believed only on a request a trusted proxy passed on: a client sending it itself is judged by its own place', async () => {
    const logged = gh.logs.length;
    // No X-Forwarded-For: a request the proxy did not pass on from anyone (see clientAddresses).
    const r = await relayed(USERS.noah, { ...PROXY, 'x-ms-forwarded-client-ip': '127.0.0.77' });
    expect(fault(r.doc).subcode).toBe('FailedAuthentication');
    expect(deniedLogs(logged)).toEqual([expect.objectContaining({ rule: 'legacy-mail-outside', clientInsideCorporateNetwork: false })]);
  });
});

describe("client access policy: a deny rule's own message", () => {
  it('is what the browser shows, in place of the general one', async () => {
    const b = new Browser(PROXY);
    const page = await withPassword(b, await b.get(wsfedUrl(APP.id)), USERS.mia);
    expectErrorPage(page, 403, /Payroll is open only from the office network\./);
    expect(page.body).not.toMatch(/not allowed to use this application/);
  });
});
