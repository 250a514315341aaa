// Microsoft 365 with several federated domains and an alternate login ID, against the Samba DC: users with
// UPNs in two federated domains, a subdomain, a domain that is not federated, a .local UPN with a routable
// mail, and two users sharing a mail. Tokens of every protocol verified with xmlsec1 (and SAML 2.0 with
// @node-saml/node-saml as an SP with Entra's entity ID and ACS); tenant-setup against the Graph emulator.
import { SAML } from '@node-saml/node-saml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Browser, type Page } from '../support/http.js';
import { objectGuidBase64 } from '../support/directory.js';
import { startGatehouse, testKeys, type RunningGatehouse } from '../support/gatehouse.js';
import { ensureBuilt, writeConfig } from '../support/cli.js';
import { addUpnSuffixes, domainUsers, upnSuffixes, UPN_SUFFIXES, type DomainUser } from '../support/upn-suffixes.js';
import { attributes, value } from '../support/wsfed.js';
import { parseXml, SAML11_ID, xmlsecVerify } from '../support/xml.js';
import { base64, expectErrorPage, follow, PERSISTENT, posted, SAML2_ASSERTION_ID, val } from '../saml2/support.js';
import { buildRst, fault, postSoap, V13, value as soapValue } from '../wstrust/soap-client.js';
import { gatehouse } from '../rollover/support.js';
import { startGraphEmulator, type GraphEmulator } from '../graph-emulator/emulator.js';
import { createTestPki, type TestPki } from '../graph-emulator/test-ca.js';
import { FederationStore, federationRoutes } from '../graph-emulator/domains-routes.js';
import { runSync, startHarness, summaryOf, writeSyncConfig, type SyncHarness } from '../sync/support.js';
import { DC } from '../support/directory.js';

const M365 = 'urn:federation:MicrosoftOnline';
const LOGIN_SRF = 'https://login.microsoftonline.com/login.srf';
const UPN = 'http://schemas.xmlsoap.org/claims/UPN';
const IMMUTABLE_ID = 'http://schemas.microsoft.com/LiveID/Federation/2008/05/ImmutableID';
const ISSUER_ID = 'http://schemas.microsoft.com/ws/2008/06/identity/claims/issuerid';
const ALTERNATE_LOGIN_ID = 'http://schemas.microsoft.com/ws/2013/11/alternateloginid';
const ISSUER = {
  com: 'http://corp.example.com/adfs/services/trust/',
  uk: 'http://corp.example.co.uk/adfs/services/trust/',
};
const PASSWORD = 'Passw0rd!Dom41n';
const TENANT = '99999999-2222-3333-4444-0000000d0a1e';
const APP = 'aaaaaaaa-0000-0000-0000-0000000d0a1e';
const SECRET = 'domains-secret';

let gh: RunningGatehouse;
let u: Record<'com' | 'uk' | 'sub' | 'out' | 'alt' | 'twin1' | 'twin2', DomainUser>;
let sharedMail: string;

beforeAll(async () => {
  await addUpnSuffixes();
  const same = (suffix: string) => ({ upnSuffix: suffix, mail: (sam: string) => `${sam}@${suffix}` });
  sharedMail = `shared.${Date.now().toString(36)}@corp.example.com`;
  u = await domainUsers(PASSWORD, {
    com: same('corp.example.com'),
    uk: same('corp.example.co.uk'),
    sub: same('eu.corp.example.com'),
    out: same('fabrikam.example'),
    alt: { upnSuffix: 'corp.local', mail: (sam) => `first.last.${sam}@corp.example.com` },
    twin1: { upnSuffix: 'corp.local', mail: () => sharedMail },
    twin2: { upnSuffix: 'corp.local', mail: () => sharedMail },
  });
  gh = await startGatehouse((cfg) => {
    cfg.federatedDomains = ['corp.example.com', 'corp.example.co.uk'];
    cfg.directory.loginAttribute = 'mail';
    // No relyingParties entry for Microsoft 365: the built-in one answers WS-Federation and SAML 2.0.
  });
});
afterAll(async () => gh?.close());

async function wsfedSignIn(name: string, password = PASSWORD): Promise<Page> {
  const b = new Browser();
  const login = await b.get(`${gh.url}/adfs/ls/?${new URLSearchParams({ wa: 'wsignin1.0', wtrealm: M365 })}`);
  const form = login.form();
  return b.post(new URL(form.action, gh.url).toString(), { ...form.fields, UserName: name, Password: password });
}

/** A WS-Fed sign-in's SAML 1.1 token, verified by xmlsec1 with the signing certificate: its Issuer and claims. */
async function wsfedToken(name: string): Promise<{ issuer: string; claims: Record<string, string[]> }> {
  const page = await wsfedSignIn(name);
  expect(page.status, page.body.slice(0, 400)).toBe(200);
  const wresult = page.form().fields.wresult!;
  const v = xmlsecVerify(wresult, testKeys().certPem, SAML11_ID);
  expect(v.ok, v.output).toBe(true);
  const doc = parseXml(wresult);
  return { issuer: value(doc, '//saml:Assertion/@Issuer')!, claims: attributes(doc) };
}

const microsoftAuthnRequest = (id: string) =>
  `<samlp:AuthnRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" ID="${id}" Version="2.0" ` +
  `IssueInstant="${new Date().toISOString().replace(/\.\d+Z$/, 'Z')}" AssertionConsumerServiceIndex="0">` +
  `<Issuer xmlns="urn:oasis:names:tc:SAML:2.0:assertion">${M365}</Issuer><samlp:NameIDPolicy Format="${PERSISTENT}"/></samlp:AuthnRequest>`;

/** A SAML-P sign-in to the built-in Microsoft 365 entry, checked by xmlsec1 and by node-saml as Entra would check it. */
async function samlToken(user: DomainUser) {
  const b = new Browser();
  const first = await b.post(`${gh.url}/adfs/ls/`, { SAMLRequest: base64(microsoftAuthnRequest(`_${crypto.randomUUID()}`)) });
  const { page } = await follow(gh, b, first, { upn: user.mail!, password: user.password });
  const r = posted(page);
  expect(r.action).toBe(LOGIN_SRF);
  expect(xmlsecVerify(r.xml, testKeys().certPem, SAML2_ASSERTION_ID).ok).toBe(true);
  const entra = new SAML({
    callbackUrl: LOGIN_SRF,
    entryPoint: `${gh.url}/adfs/ls/`,
    issuer: M365,
    audience: M365,
    idpCert: testKeys().certPem,
    wantAssertionsSigned: true,
    wantAuthnResponseSigned: false,
    validateInResponseTo: 'never' as never,
  });
  const { profile } = await entra.validatePostResponseAsync({ SAMLResponse: r.b64 });
  const claims: Record<string, string[]> = {};
  for (const a of Array.from(r.doc.getElementsByTagNameNS('urn:oasis:names:tc:SAML:2.0:assertion', 'Attribute'))) {
    const name = a.getAttribute('Name')!;
    claims[name === 'IDPEmail' ? UPN : name] = Array.from(a.getElementsByTagNameNS('urn:oasis:names:tc:SAML:2.0:assertion', 'AttributeValue')).map((x) => x.textContent ?? '');
  }
  return { profile, responseIssuer: val(r.doc, '/samlp:Response/saml:Issuer'), assertionIssuer: val(r.doc, '/samlp:Response/saml:Assertion/saml:Issuer'), claims };
}

describe('the test domain', () => {
  it('has the extra UPN suffixes, and users in each', () => {
    expect(upnSuffixes().sort()).toEqual([...UPN_SUFFIXES].sort());
    expect(u.uk.upn).toMatch(/@corp\.example\.co\.uk$/);
    expect(u.alt.upn).toMatch(/@corp\.local$/);
  });
});

describe('several federated domains (federatedDomains)', () => {
  it("WS-Federation: each domain's users get its own IssuerUri and the issuerid claim; a subdomain takes its parent's", async () => {
    const uk = await wsfedToken(u.uk.upn);
    expect(uk.issuer).toBe(ISSUER.uk);
    expect(uk.claims[ISSUER_ID]).toEqual([ISSUER.uk]);
    expect(uk.claims[UPN]).toEqual([u.uk.upn]);
    expect(uk.claims[IMMUTABLE_ID]).toEqual([objectGuidBase64(u.uk.sam)]);
    const com = await wsfedToken(u.com.upn);
    expect(com.issuer).toBe(ISSUER.com);
    expect(com.claims[ISSUER_ID]).toEqual([ISSUER.com]);
    const sub = await wsfedToken(u.sub.upn);
    expect(sub.issuer).toBe(ISSUER.com);
    expect(sub.claims[ISSUER_ID]).toEqual([ISSUER.com]);
  });

  it('WS-Trust (rich clients): the same Issuer and issuerid per domain; a subdomain takes its parent\'s', async () => {
    for (const [user, issuer] of [[u.uk, ISSUER.uk], [u.com, ISSUER.com], [u.sub, ISSUER.com]] as const) {
      const res = await postSoap(`${gh.url}${V13.path}`, buildRst(V13, { baseUrl: gh.url, username: user.upn, password: user.password }));
      expect(res.status, res.body.slice(0, 400)).toBe(200);
      expect(xmlsecVerify(res.body, testKeys().certPem, SAML11_ID).ok).toBe(true);
      const doc = parseXml(res.body);
      expect(soapValue(doc, '//saml:Assertion/@Issuer')).toBe(issuer);
      expect(attributes(doc)[ISSUER_ID]).toEqual([issuer]);
    }
  });

  it("SAML-P: the Response and the assertion name the user's domain's IssuerUri", async () => {
    const t = await samlToken(u.uk);
    expect(t.assertionIssuer).toBe(ISSUER.uk);
    expect(t.responseIssuer).toBe(ISSUER.uk);
    expect(t.profile?.nameID).toBe(objectGuidBase64(u.uk.sam));
    expect(t.claims[ISSUER_ID]).toEqual([ISSUER.uk]);
    // What node-saml, verifying the signature with the certificate tenant-setup gives Entra, reads as the issuer.
    expect(t.profile?.issuer).toBe(ISSUER.uk);
    for (const user of [u.com, u.sub]) {
      const other = await samlToken(user);
      expect(other.assertionIssuer).toBe(ISSUER.com);
      expect(other.responseIssuer).toBe(ISSUER.com);
      expect(other.claims[ISSUER_ID]).toEqual([ISSUER.com]);
      expect(other.profile?.nameID).toBe(objectGuidBase64(user.sam));
    }
  });

  it('a user whose UPN is in no federated domain is refused, saying why, in every protocol', async () => {
    const page = await wsfedSignIn(u.out.upn);
    expect(page.status).toBe(403);
    expect(page.body).not.toContain('wresult');
    expect(page.text('#error') ?? page.body).toContain(`Your account (${u.out.upn}) is in a domain that does not sign in to Microsoft 365 here`);
    const res = await postSoap(`${gh.url}${V13.path}`, buildRst(V13, { baseUrl: gh.url, username: u.out.upn, password: PASSWORD }));
    expect(res.status).toBe(500);
    expect(res.body).not.toContain('Assertion');
    expect(fault(parseXml(res.body)).subcode).toBeTruthy();
    const line = gh.logs.find((l) => l.reason === 'GH_DOMAIN_NOT_FEDERATED' || l.code === 'GH_DOMAIN_NOT_FEDERATED' || JSON.stringify(l).includes('GH_DOMAIN_NOT_FEDERATED'));
    expect(line, 'a log line names the refusal').toBeTruthy();
    // SAML-P: the same error page, never a Response to Microsoft.
    const logged = gh.logs.length;
    const b = new Browser();
    const first = await b.post(`${gh.url}/adfs/ls/`, { SAMLRequest: base64(microsoftAuthnRequest(`_${crypto.randomUUID()}`)) });
    const { page: saml, prompted } = await follow(gh, b, first, { upn: u.out.upn, password: PASSWORD });
    expect(prompted).toBe(true);
    expectErrorPage(saml, 403, /is in a domain that does not sign in to Microsoft 365 here/);
    expect(saml.text('#error') ?? saml.body).toContain(u.out.upn);
    expect(gh.logs.slice(logged).some((l) => JSON.stringify(l).includes('GH_DOMAIN_NOT_FEDERATED'))).toBe(true);
  });

  it("the federation metadata keeps one entityID, Gatehouse's issuer (as ADFS publishes one metadata)", async () => {
    const md = await (await fetch(`${gh.url}/FederationMetadata/2007-06/FederationMetadata.xml`)).text();
    expect(value(parseXml(md), '/md:EntityDescriptor/@entityID')).toBe(gh.config.issuer);
  });
});

const AUTHENTICATION_INSTANT = 'http://schemas.microsoft.com/ws/2008/06/identity/claims/authenticationinstant';
const INSIDE_CORPORATE_NETWORK = 'http://schemas.microsoft.com/ws/2012/01/insidecorporatenetwork';
const withoutInstant = (claims: Record<string, string[]>) => Object.fromEntries(Object.entries(claims).filter(([k]) => k !== AUTHENTICATION_INSTANT));

describe('the built-in Microsoft 365 relying party speaks WS-Federation and SAML 2.0 at once', () => {
  it('with the same claims over both', async () => {
    const wsfed = await wsfedToken(u.com.mail!);
    const saml = await samlToken(u.com);
    // The same claims, but for the instant of each sign-in (authenticationinstant).
    expect(withoutInstant(saml.claims)).toEqual(withoutInstant(wsfed.claims));
    expect(Object.keys(withoutInstant(wsfed.claims)).sort()).toEqual([ALTERNATE_LOGIN_ID, IMMUTABLE_ID, ISSUER_ID, UPN, INSIDE_CORPORATE_NETWORK].sort());
  });
});

describe('alternate login ID (directory.loginAttribute: mail)', () => {
  it('a .local user signs in with the mail; it is the UPN claim and alternateloginid, and picks the issuer', async () => {
    const t = await wsfedToken(u.alt.mail!);
    expect(t.claims[UPN]).toEqual([u.alt.mail]);
    expect(t.claims[ALTERNATE_LOGIN_ID]).toEqual([u.alt.mail]);
    expect(t.claims[IMMUTABLE_ID]).toEqual([objectGuidBase64(u.alt.sam)]);
    expect(t.issuer).toBe(ISSUER.com);
    expect(JSON.stringify(t.claims)).not.toContain('corp.local');
  });

  it('DOMAIN\\name, the sAMAccountName and the .local UPN still work, and give the same token claims', async () => {
    const byMail = (await wsfedToken(u.alt.mail!)).claims;
    for (const name of [`CORP\\${u.alt.sam}`, u.alt.sam, u.alt.upn]) expect(withoutInstant((await wsfedToken(name)).claims)).toEqual(withoutInstant(byMail));
  });

  it('SAML-P sends the mail as IDPEmail', async () => {
    const t = await samlToken(u.alt);
    expect(t.assertionIssuer).toBe(ISSUER.com);
    expect(t.claims[UPN]).toEqual([u.alt.mail]);
    expect(t.claims[ALTERNATE_LOGIN_ID]).toEqual([u.alt.mail]);
  });

  it('WS-Trust (Outlook, ActiveSync): the mail signs in and is the UPN claim; a shared mail gets a fault, audited', async () => {
    const res = await postSoap(`${gh.url}${V13.path}`, buildRst(V13, { baseUrl: gh.url, username: u.alt.mail!, password: u.alt.password }));
    expect(res.status, res.body.slice(0, 400)).toBe(200);
    expect(xmlsecVerify(res.body, testKeys().certPem, SAML11_ID).ok).toBe(true);
    const doc = parseXml(res.body);
    const claims = attributes(doc);
    expect(claims[UPN]).toEqual([u.alt.mail]);
    expect(claims[ALTERNATE_LOGIN_ID]).toEqual([u.alt.mail]);
    expect(claims[IMMUTABLE_ID]).toEqual([objectGuidBase64(u.alt.sam)]);
    expect(soapValue(doc, '//saml:Assertion/@Issuer')).toBe(ISSUER.com);
    expect(JSON.stringify(claims)).not.toContain('corp.local');

    const logged = gh.logs.length;
    const twin = await postSoap(`${gh.url}${V13.path}`, buildRst(V13, { baseUrl: gh.url, username: sharedMail, password: PASSWORD }));
    expect(twin.status).toBe(500);
    expect(twin.body).not.toContain('Assertion');
    expect(fault(parseXml(twin.body)).subcode).toBeTruthy();
    expect(gh.logs.slice(logged).filter((l) => l.event === 'signin_attempt' && l.username === sharedMail).at(-1)).toMatchObject({ outcome: 'failure', reason: 'GH_LOGIN_AMBIGUOUS' });
  });

  it('a mail two accounts share is refused with a clear message and an audit line, never resolved to either', async () => {
    const page = await wsfedSignIn(sharedMail);
    expect(page.body).not.toContain('wresult');
    expect(page.body).toContain('More than one account answers to this user name');
    const audit = gh.logs.filter((l) => l.event === 'signin_attempt' && l.username === sharedMail);
    expect(audit.at(-1)).toMatchObject({ outcome: 'failure', reason: 'GH_LOGIN_AMBIGUOUS' });
    // Each of them still signs in by name.
    expect((await wsfedToken(`CORP\\${u.twin1.sam}`)).claims[IMMUTABLE_ID]).toEqual([objectGuidBase64(u.twin1.sam)]);
  });
});

describe('gatehouse tenant-setup --domain, one IssuerUri per domain (Graph emulator)', () => {
  let pki: TestPki;
  let graph: GraphEmulator;
  let configFile: string;
  const store = new FederationStore();
  const run = (domain: string, args: string[]) =>
    gatehouse(['tenant-setup', '--domain', domain, '-c', configFile, ...args], { cwd: gh.dir, env: { NODE_EXTRA_CA_CERTS: pki.caFile } });

  beforeAll(async () => {
    ensureBuilt();
    pki = createTestPki();
    graph = await startGraphEmulator({
      tenantId: TENANT,
      domains: ['corp.example.com', 'corp.example.co.uk', 'eu.corp.example.com'],
      clients: [{ clientId: APP, secret: SECRET, roles: ['Domain-InternalFederation.ReadWrite.All'] }],
      tls: { certPem: pki.serverCertPem, keyPem: pki.serverKeyPem },
      routes: [federationRoutes(store)],
    });
    const tenant = { tenantId: TENANT, clientId: APP, clientSecret: SECRET, graphUrl: graph.url, authorityHost: graph.url };
    configFile = writeConfig(gh.dir, 'tenant.yaml', { ...gh.configRaw, publicUrl: gh.url, tenant });
  });
  afterAll(async () => graph?.close());

  it("prints, applies and checks each domain's own IssuerUri, the one its users' tokens carry", async () => {
    const printed = await run('corp.example.co.uk', ['--json']);
    expect(printed.code, printed.stderr).toBe(0);
    expect(JSON.parse(printed.stdout).issuerUri).toBe(ISSUER.uk);
    const text = await run('corp.example.co.uk', []);
    expect(text.stdout).toContain(`issuer:              ${ISSUER.uk}  (corp.example.co.uk's own`);

    for (const [domain, issuer] of [['corp.example.com', ISSUER.com], ['corp.example.co.uk', ISSUER.uk]] as const) {
      expect(JSON.parse((await run(domain, ['--json'])).stdout).issuerUri).toBe(issuer);
      const applied = await run(domain, ['--apply']);
      expect(applied.code, applied.stdout + applied.stderr).toBe(0);
      expect(store.byDomain.get(domain)?.issuerUri).toBe(issuer);
      expect((await run(domain, ['--check'])).code).toBe(0);
    }
    // Entra refuses one IssuerUri for two domains: they differ.
    expect(store.byDomain.get('corp.example.com')?.issuerUri).not.toBe(store.byDomain.get('corp.example.co.uk')?.issuerUri);
    expect((await wsfedToken(u.uk.upn)).issuer).toBe(store.byDomain.get('corp.example.co.uk')?.issuerUri);
  });

  it("--check names a tenant still on the single issuer, and says the fix is the tenant's", async () => {
    store.seed('corp.example.co.uk', { ...store.byDomain.get('corp.example.co.uk'), issuerUri: gh.config.issuer });
    const r = await run('corp.example.co.uk', ['--check']);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('issuerUri');
    expect(r.stdout).toContain(`Change the tenant: gatehouse tenant-setup --domain corp.example.co.uk --apply`);
  });

  it('refuses a subdomain (Microsoft 365 federates it as its root) and a domain not listed, saying what to do', async () => {
    const sub = await run('eu.corp.example.com', ['--json']);
    expect(sub.code).toBe(2);
    expect(sub.stderr).toMatch(/eu\.corp\.example\.com is a subdomain of corp\.example\.com.*--domain corp\.example\.com/);
    const other = await run('fabrikam.example', ['--json']);
    expect(other.code).toBe(2);
    expect(other.stderr).toMatch(/fabrikam\.example is not in federatedDomains \(corp\.example\.com, corp\.example\.co\.uk\)/);
  });
});

describe('the sync worker with directory.loginAttribute: mail', () => {
  let h: SyncHarness;
  beforeAll(async () => {
    h = await startHarness({ domains: ['corp.example.com', 'corp.example.co.uk'] });
  });
  afterAll(async () => h?.graph.close());

  it("makes the mail the cloud UPN, the name Gatehouse's tokens carry for the user", async () => {
    const config = writeSyncConfig(
      h,
      {
        domains: ['corp.example.com', 'corp.example.co.uk'],
        scope: {
          ous: [`CN=Users,${DC.baseDn}`],
          filter: `(&(objectCategory=person)(objectClass=user)(|(sAMAccountName=${u.alt.sam})(sAMAccountName=${u.uk.sam})))`,
        },
      },
      'sync.yaml',
      { loginAttribute: 'mail' },
    );
    const run = await runSync(h, config);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(summaryOf(run.stdout)).toMatchObject({ created: 2, errors: 0 });
    const cloudAlt = h.graph.users.byUpn(u.alt.mail!);
    expect(cloudAlt?.onPremisesImmutableId).toBe(objectGuidBase64(u.alt.sam));
    expect(h.graph.users.byUpn(u.uk.mail!)).toBeTruthy();
    const token = await wsfedToken(u.alt.mail!);
    expect(token.claims[UPN]).toEqual([cloudAlt?.userPrincipalName]);
    expect(token.claims[IMMUTABLE_ID]).toEqual([cloudAlt?.onPremisesImmutableId]);
  });
});
