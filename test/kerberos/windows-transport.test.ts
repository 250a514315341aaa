// WS-Trust windowstransport against real Kerberos: the Samba DC is the KDC, the service principal and its
// keytab come from samba-tool, MIT kinit gets tickets for alice and for a computer account (the hybrid
// Entra join of a domain-joined PC), and the tokens are checked claim by claim after xmlsec1 verified them.
// This file's service host is wst.localhost (its own service account, so it runs beside the browser
// tests of windows-sign-in.test.ts, which own HTTP/localhost); tokens are made for that name and sent to
// 127.0.0.1, and curl is told where the name points.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGatehouse, type RunningGatehouse } from '../support/gatehouse.js';
import { DC, USERS, objectGuidBase64, samba } from '../support/directory.js';
import { attributes, INSIDE_CORPORATE_NETWORK } from '../support/wsfed.js';
import { parseXml, SAML11_ID, xmlsecVerify } from '../support/xml.js';
import { curlNegotiate, kerberosLab, negotiateToken, REALM, type KerberosLab } from '../support/kerberos.js';
import { V13, V2005, buildRst, fault, value, NS, type Version } from '../wstrust/soap-client.js';
import { writeFileSync } from 'node:fs';
import { XMLSerializer } from '@xmldom/xmldom';
import { parse } from 'node-html-parser';
import { Browser, Page } from '../support/http.js';
import { join } from 'node:path';

const HOST = 'wst.localhost';
const M365 = 'urn:federation:MicrosoftOnline';
const WINDOWS = 'urn:federation:authentication:windows';
const DOMAIN = DC.realm.toLowerCase();
const CLAIM = {
  upn: 'http://schemas.xmlsoap.org/claims/UPN',
  immutableId: 'http://schemas.microsoft.com/LiveID/Federation/2008/05/ImmutableID',
  accountType: 'http://schemas.microsoft.com/ws/2012/01/accounttype',
  onPremObjectGuid: 'http://schemas.microsoft.com/identity/claims/onpremobjectguid',
  primarySid: 'http://schemas.microsoft.com/ws/2008/06/identity/claims/primarysid',
  issuerId: 'http://schemas.microsoft.com/ws/2008/06/identity/claims/issuerid',
  amr: 'http://schemas.microsoft.com/claims/authnmethodsreferences',
  authnInstant: 'http://schemas.microsoft.com/ws/2008/06/identity/claims/authenticationinstant',
};
const WINDOWS_AMR = 'http://schemas.microsoft.com/ws/2008/06/identity/authenticationmethod/windows';
const NTLM_TYPE1 = 'TlRMTVNTUAABAAAAB4IIogAAAAAAAAAAAAAAAAAAAAAGAbEdAAAADw==';
// A domain-joined workstation of this file only.
const PC = { name: 'WST-PC01', sam: 'WST-PC01$', password: 'Passw0rd!WstPc01' };

/** The windowstransport endpoint of a version, for the test client. */
const windows = (v: Version): Version => ({ ...v, path: v.path.replace('usernamemixed', 'windowstransport') });
const W13 = windows(V13);
const W2005 = windows(V2005);

let lab: KerberosLab;
let gh: RunningGatehouse;
let aliceCache: string;
let pcCache: string;

beforeAll(async () => {
  lab = kerberosLab();
  process.env.KRB5_CONFIG = lab.krb5Conf;
  process.env.KRB5RCACHEDIR = lab.dir;
  lab.addService('svc-gh-wst', HOST);
  samba('computer', 'create', PC.name);
  samba('user', 'setpassword', PC.sam, `--newpassword=${PC.password}`);
  aliceCache = lab.kinit(USERS.alice.sam, USERS.alice.password);
  pcCache = lab.kinit(PC.sam, PC.password);
  gh = await startGatehouse((c) => {
    c.network = { corporate: ['127.0.0.0/8', '::1/128'] };
    c.federatedDomains = [DOMAIN];
    c.kerberos = { enabled: true, keytab: lab.keytab, servicePrincipal: `HTTP/${HOST}`, userAgents: ['^curl/'] };
    // MFA only when a relying party asks for it (wauth): what wiaormultiauthn falls back to.
    c.mfa = { enabled: true };
  });
}, 60_000);

afterAll(async () => gh?.close());

const rstPath = (v: Version) =>
  v.name === '1.3'
    ? '/s:Envelope/s:Body/trust:RequestSecurityTokenResponseCollection/trust:RequestSecurityTokenResponse'
    : '/s:Envelope/s:Body/t:RequestSecurityTokenResponse';
const assertionPath = (v: Version) => `${rstPath(v)}/${v.name === '1.3' ? 'trust' : 't'}:RequestedSecurityToken/saml:Assertion`;

/** An RST as MSAL's integrated Windows authentication sends it: no wsse:Security header at all. */
const rst = (v: Version, extra: Partial<Parameters<typeof buildRst>[1]> = {}) => buildRst(v, { baseUrl: gh.url, username: '', password: '', noSecurity: true, ...extra });

async function post(v: Version, headers: Record<string, string> = {}, body = rst(v)) {
  const res = await fetch(`${gh.url}${v.path}`, { method: 'POST', headers: { 'content-type': 'application/soap+xml; charset=utf-8', ...headers }, body });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text, doc: parseXml(text) };
}

/** The signed assertion of an answer, verified by xmlsec1 with the server's signing certificate. */
function verifiedAssertion(v: Version, answer: { status: number; body: string; doc: Document }): Document {
  expect(answer.status, answer.body.slice(0, 500)).toBe(200);
  const assertion = answer.doc.getElementsByTagNameNS(NS.saml, 'Assertion')[0]!;
  // The whole answer, and the assertion alone (as Entra gets it), both verify.
  expect(xmlsecVerify(answer.body, gh.certPem, SAML11_ID).ok).toBe(true);
  const xml = new XMLSerializer().serializeToString(assertion as never);
  const verified = xmlsecVerify(xml, gh.certPem, SAML11_ID);
  expect(verified.ok, verified.output).toBe(true);
  expect(value(answer.doc, `${assertionPath(v)}/@AssertionID`)).toBe(assertion.getAttribute('AssertionID'));
  return parseXml(xml);
}

const A = '/saml:Assertion';

describe.each([W13, W2005])('WS-Trust $name windowstransport', (v) => {
  it("issues alice's token for her Kerberos ticket: Windows authentication, no password in the message", async () => {
    const messageId = `urn:uuid:${crypto.randomUUID()}`;
    const answer = await post(v, { authorization: `Negotiate ${await negotiateToken(lab, aliceCache, HOST)}` }, rst(v, { messageId }));
    const doc = verifiedAssertion(v, answer);
    expect(value(answer.doc, '/s:Envelope/s:Header/a:RelatesTo')).toBe(messageId);
    // Mutual authentication: the server's answer token.
    expect(answer.headers.get('www-authenticate')).toMatch(/^Negotiate [A-Za-z0-9+/]+=*$/);
    expect(value(doc, `${A}/saml:AuthenticationStatement/@AuthenticationMethod`)).toBe(WINDOWS);
    const immutableId = objectGuidBase64(USERS.alice.sam);
    expect(value(doc, `${A}/saml:AttributeStatement/saml:Subject/saml:NameIdentifier`)).toBe(immutableId);
    const { [CLAIM.authnInstant]: instant, ...claims } = attributes(doc);
    expect(instant).toHaveLength(1);
    // One federated domain: the Issuer is `issuer`, and users get no issuerid (nor accounttype: ADFS only
    // "adds" User to its own pipeline).
    expect(claims).toEqual({
      [CLAIM.upn]: [USERS.alice.upn],
      [CLAIM.immutableId]: [immutableId],
      [INSIDE_CORPORATE_NETWORK]: ['true'],
      [CLAIM.amr]: [WINDOWS_AMR],
    });
    expect(value(doc, `${A}/@Issuer`)).toBe(gh.config.issuer);
    expect(gh.logs.find((l) => l.msg === 'windows sign-in: accepted' && l.protocol === `ws-trust-${v.name}-windowstransport`)).toMatchObject({
      principal: `${USERS.alice.sam}@${REALM}`,
    });
  });

  it("issues the computer's token for its machine account (hybrid join): accounttype DJ, onpremobjectguid, primarysid, ImmutableID, issuerid", async () => {
    const answer = await post(v, { authorization: `Negotiate ${await negotiateToken(lab, pcCache, HOST)}` });
    const doc = verifiedAssertion(v, answer);
    expect(value(doc, `${A}/saml:AuthenticationStatement/@AuthenticationMethod`)).toBe(WINDOWS);
    // What the directory says about the computer, read without Gatehouse.
    const guid = objectGuidBase64(PC.sam);
    const sid = /^objectSid: (S-1-5-21-[\d-]+)$/m.exec(samba('computer', 'show', PC.name))?.[1];
    expect(sid).toBeTruthy();
    for (const stmt of ['saml:AttributeStatement', 'saml:AuthenticationStatement']) {
      expect(value(doc, `${A}/${stmt}/saml:Subject/saml:NameIdentifier`)).toBe(guid);
    }
    const { [CLAIM.authnInstant]: instant, ...claims } = attributes(doc);
    expect(instant).toHaveLength(1);
    expect(claims).toEqual({
      [CLAIM.immutableId]: [guid],
      [CLAIM.accountType]: ['DJ'],
      [CLAIM.onPremObjectGuid]: [guid],
      [CLAIM.primarySid]: [sid],
      [CLAIM.issuerId]: [`http://${DOMAIN}/adfs/services/trust/`],
      [INSIDE_CORPORATE_NETWORK]: ['true'],
      [CLAIM.amr]: [WINDOWS_AMR],
    });
    expect(value(doc, `${A}/@Issuer`)).toBe(gh.config.issuer);
    expect(gh.logs.find((l) => l.msg === 'windows sign-in: accepted' && l.principal === `${PC.sam}@${REALM}`)).toBeDefined();
  });

  it('the same message, sent first without a ticket and again with one after the 401 (as WinHTTP does), gets its token', async () => {
    const body = rst(v);
    expect((await post(v, {}, body)).status).toBe(401);
    verifiedAssertion(v, await post(v, { authorization: `Negotiate ${await negotiateToken(lab, aliceCache, HOST)}` }, body));
    // ...and only once.
    const again = await post(v, { authorization: `Negotiate ${await negotiateToken(lab, aliceCache, HOST)}` }, body);
    expect(again.status).toBe(500);
    expect(fault(again.doc).subcode).toBe('InvalidRequest');
  });

  it('without a ticket: 401 with WWW-Authenticate: Negotiate and a SOAP fault, no token', async () => {
    const answer = await post(v);
    expect(answer.status).toBe(401);
    expect(answer.headers.get('www-authenticate')).toBe('Negotiate');
    expect(answer.headers.get('content-type')).toMatch(/^application\/soap\+xml/);
    expect(fault(answer.doc)).toMatchObject({ code: 's:Sender', subcode: 'FailedAuthentication', subcodeNs: v.trustNs });
    expect(answer.body).not.toContain('Assertion');
  });
});

describe('windowstransport: what it refuses', () => {
  const expectRefused = (answer: { status: number; headers: Headers; body: string; doc: Document }, status: number) => {
    expect(answer.status, answer.body.slice(0, 300)).toBe(status);
    expect(answer.body).not.toContain('Assertion');
    expect(fault(answer.doc).subcode).toBe('FailedAuthentication');
  };

  it('curl --negotiate (a real client doing the HTTP exchange) gets alice her token', async () => {
    const file = join(lab.dir, 'rst.xml');
    writeFileSync(file, rst(W13));
    const port = new URL(gh.url).port;
    const url = `http://${HOST}:${port}${W13.path}`;
    const r = await curlNegotiate(lab, aliceCache, url, ['--resolve', `${HOST}:${port}:127.0.0.1`, '-H', 'content-type: application/soap+xml; charset=utf-8', '--data-binary', `@${file}`]);
    expect(r.trace).toMatch(/> Authorization: Negotiate \S+/);
    expect(r.status, r.body.slice(0, 300)).toBe(200);
    const doc = verifiedAssertion(W13, { status: r.status, body: r.body, doc: parseXml(r.body) });
    expect(attributes(doc)[CLAIM.upn]).toEqual([USERS.alice.upn]);
  });

  it('an NTLM token: refused with a fault and no second challenge', async () => {
    const answer = await post(W13, { authorization: `Negotiate ${NTLM_TYPE1}` });
    expectRefused(answer, 403);
    expect(answer.headers.get('www-authenticate')).toBeNull();
    expect(gh.logs.some((l) => l.reason === 'NTLM token' && l.protocol === 'ws-trust-1.3-windowstransport')).toBe(true);
  });

  it('garbage, truncated and oversized Negotiate headers, and a replayed authenticator: no token, no server error', async () => {
    for (const auth of ['Negotiate !!!', 'Negotiate YIIB', 'Negotiate', `Negotiate ${Buffer.alloc(11_000, 0x60).toString('base64')}`]) {
      const answer = await post(W2005, { authorization: auth });
      expect(answer.status, auth.slice(0, 30)).toBeLessThan(500);
      expect(answer.body).not.toContain('Assertion');
    }
    const token = await negotiateToken(lab, aliceCache, HOST);
    verifiedAssertion(W13, await post(W13, { authorization: `Negotiate ${token}` }));
    expectRefused(await post(W13, { authorization: `Negotiate ${token}` }), 403);
  });

  it('from the extranet (the proxy marker): a clear SOAP fault before any Negotiate, even with a valid ticket', async () => {
    const withTicket: Record<string, string> = { 'x-ms-proxy': 'wap1', authorization: `Negotiate ${await negotiateToken(lab, aliceCache, HOST)}` };
    for (const headers of [{ 'x-ms-proxy': 'wap1' }, withTicket]) {
      const answer = await post(W13, headers);
      expect(answer.status).toBe(403);
      expect(answer.headers.get('www-authenticate')).toBeNull();
      expect(fault(answer.doc)).toMatchObject({ code: 's:Sender', subcode: 'RequestFailed' });
      expect(fault(answer.doc).reason).toContain('only available inside the corporate network');
      expect(answer.body).not.toContain('Assertion');
    }
  });

  it('a password in the message is refused: passwords go to usernamemixed', async () => {
    const body = buildRst(W13, { baseUrl: gh.url, username: USERS.alice.upn, password: USERS.alice.password });
    const answer = await post(W13, { authorization: `Negotiate ${await negotiateToken(lab, aliceCache, HOST)}` }, body);
    expect(answer.status).toBe(500);
    expect(fault(answer.doc).subcode).toBe('InvalidRequest');
    expect(answer.body).not.toContain('Assertion');
  });

  it('a computer disabled in AD after it got its ticket gets no token', async () => {
    const pc2 = { name: 'WST-PC02', sam: 'WST-PC02$', password: 'Passw0rd!WstPc02' };
    samba('computer', 'create', pc2.name);
    samba('user', 'setpassword', pc2.sam, `--newpassword=${pc2.password}`);
    const cache = lab.kinit(pc2.sam, pc2.password);
    verifiedAssertion(W13, await post(W13, { authorization: `Negotiate ${await negotiateToken(lab, cache, HOST)}` }));
    samba('user', 'disable', pc2.sam);
    const answer = await post(W13, { authorization: `Negotiate ${await negotiateToken(lab, cache, HOST)}` });
    expectRefused(answer, 500);
    expect(gh.logs.find((l) => l.msg === 'windows sign-in: refused' && l.principal === `${pc2.sam}@${REALM}`)).toMatchObject({ reason: 'GH_ACCOUNT_DISABLED' });
  });

  it("a computer's ticket does not sign a browser in", async () => {
    const url = `${gh.url}/adfs/ls/?wa=wsignin1.0&wtrealm=${encodeURIComponent(M365)}`;
    const page = await Page.from(await fetch(url, { headers: { 'user-agent': 'curl/8', authorization: `Negotiate ${await negotiateToken(lab, pcCache, HOST)}` } }));
    expect(page.status).toBe(200);
    expect(page.body).not.toContain('wresult');
    expect(parse(page.body).querySelector('#Password')).not.toBeNull();
    expect(gh.logs.some((l) => /computers sign in at windowstransport only/.test(l.detail ?? ''))).toBe(true);
  });
});

describe('wiaormultiauthn (Entra device registration asks for it)', () => {
  const wia = `&wauth=${encodeURIComponent('http://schemas.microsoft.com/claims/wiaormultiauthn')}`;

  it('a password alone does not: the second factor is asked (here, enrolment)', async () => {
    const browser = new Browser({ 'user-agent': 'curl/8' });
    const form = await browser.get(`${gh.url}/adfs/ls/?wa=wsignin1.0&wtrealm=${encodeURIComponent(M365)}${wia}&signin=form`);
    expect(form.status).toBe(200);
    const f = form.form();
    const next = await browser.post(new URL(f.action, gh.url).toString(), { ...f.fields, UserName: USERS.bob.upn, Password: USERS.bob.password });
    expect(next.body).not.toContain('name="wresult"');
    expect(next.body).toContain('name="Enrolment"');
  });

  it('Windows sign-in satisfies it: the token names Windows authentication in authnmethodsreferences', async () => {
    const url = `${gh.url}/adfs/ls/?wa=wsignin1.0&wtrealm=${encodeURIComponent(M365)}&wauth=${encodeURIComponent('http://schemas.microsoft.com/claims/wiaormultiauthn')}`;
    const page = await Page.from(await fetch(url, { headers: { 'user-agent': 'curl/8', authorization: `Negotiate ${await negotiateToken(lab, aliceCache, HOST)}` } }));
    expect(page.status, page.body.slice(0, 300)).toBe(200);
    const wresult = page.form().fields.wresult;
    expect(wresult).toBeDefined();
    expect(xmlsecVerify(wresult!, gh.certPem, SAML11_ID).ok).toBe(true);
    const doc = parseXml(wresult!);
    expect(value(doc, `//saml:AuthenticationStatement/@AuthenticationMethod`)).toBe(WINDOWS);
    expect(attributes(doc)[CLAIM.amr]).toEqual([WINDOWS_AMR]);
  });
});

describe('metadata exchange with windowstransport on', () => {
  it('lists the two windowstransport endpoints with a NegotiateAuthentication policy, after usernamemixed', async () => {
    const xml = await (await fetch(`${gh.url}/adfs/services/trust/mex`)).text();
    const doc = parseXml(xml);
    const addresses = Array.from(doc.getElementsByTagNameNS('http://www.w3.org/2005/08/addressing', 'Address') as unknown as ArrayLike<Element>).map((e) => e.textContent);
    expect(addresses).toEqual([`${gh.url}${V13.path}`, `${gh.url}${V2005.path}`, `${gh.url}${W13.path}`, `${gh.url}${W2005.path}`]);
    const negotiate = Array.from(doc.getElementsByTagNameNS('http://schemas.microsoft.com/ws/06/2004/policy/http', 'NegotiateAuthentication') as unknown as ArrayLike<Element>);
    expect(negotiate).toHaveLength(2);
    // Each such policy is referenced by the binding of a windowstransport port.
    for (const n of negotiate) {
      const policy = n.parentNode!.parentNode!.parentNode as Element;
      const id = policy.getAttributeNS('http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd', 'Id');
      const binding = (id ?? '').replace(/_policy$/, '');
      const port = Array.from(doc.getElementsByTagNameNS('http://schemas.xmlsoap.org/wsdl/', 'port') as unknown as ArrayLike<Element>).find((p) => p.getAttribute('binding') === `tns:${binding}`);
      expect(port?.getElementsByTagNameNS('http://www.w3.org/2005/08/addressing', 'Address')[0]?.textContent).toMatch(/\/windowstransport$/);
    }
  });
});

describe("kerberos.windowsTransport: 'off'", () => {
  it('Windows sign-in stays on for browsers, windowstransport is neither listed nor served', async () => {
    const off = await startGatehouse((c) => {
      c.network = { corporate: ['127.0.0.0/8', '::1/128'] };
      c.kerberos = { enabled: true, keytab: lab.keytab, servicePrincipal: `HTTP/${HOST}`, userAgents: ['^curl/'], windowsTransport: 'off' };
    });
    try {
      const xml = await (await fetch(`${off.url}/adfs/services/trust/mex`)).text();
      expect(xml).toContain('usernamemixed');
      expect(xml).not.toContain('windowstransport');
      const res = await fetch(`${off.url}${W13.path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/soap+xml', authorization: `Negotiate ${await negotiateToken(lab, aliceCache, HOST)}` },
        body: buildRst(W13, { baseUrl: off.url, username: '', password: '', noSecurity: true }),
      });
      expect(res.status).toBe(404);
      const browser = await fetch(`${off.url}/adfs/ls/?wa=wsignin1.0&wtrealm=${encodeURIComponent(M365)}`, { headers: { 'user-agent': 'curl/8' } });
      expect(browser.status).toBe(401);
      expect(browser.headers.get('www-authenticate')).toBe('Negotiate');
    } finally {
      await off.close();
    }
  });
});
