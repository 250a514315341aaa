// gatehouse tenant-setup: the configuration it prints must be the one the server serves (issuer, endpoints,
// certificate), and --apply / --check must drive Graph's /domains/{id}/federationConfiguration as documented
// (the Graph emulator over HTTPS, the CLI authenticating with @azure/identity like the sync worker).
import { X509Certificate } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGatehouse, type RunningGatehouse } from '../support/gatehouse.js';
import { ensureBuilt, writeConfig } from '../support/cli.js';
import { value } from '../support/wsfed.js';
import { parseXml, SAML11_ID, METADATA_ID, certificatePem, xmlsecVerify } from '../support/xml.js';
import { startGraphEmulator, type GraphEmulator } from '../graph-emulator/emulator.js';
import { createTestPki, type TestPki } from '../graph-emulator/test-ca.js';
import { FederationStore, federationRoutes } from '../graph-emulator/domains-routes.js';
import { federatedSignInRoutes } from '../graph-emulator/federated-sign-in.js';
import { Browser, type Page } from '../support/http.js';
import { USERS } from '../support/directory.js';
import { createSelfSignedCertificate } from '../../src/keys/generate.js';
import { gatehouse, metadataCertificates, wsTrustToken } from '../rollover/support.js';

const TENANT = '99999999-2222-3333-4444-555555555555';
const APP = 'aaaaaaaa-0000-0000-0000-00000000fed1';
const READER = 'aaaaaaaa-0000-0000-0000-00000000fed2';
const SECRET = 'tenant-setup-secret';
const DOMAIN = 'corp.example.com';

let gh: RunningGatehouse;
let pki: TestPki;
let graph: GraphEmulator;
const store = new FederationStore();
let configFile: string;
let readerConfig: string;
let metadata: string;

const thumb = (b64: string) => new X509Certificate(Buffer.from(b64, 'base64')).fingerprint.replace(/:/g, '');
const run = (args: string[], config = configFile) =>
  gatehouse(['tenant-setup', '--domain', DOMAIN, '-c', config, ...args], { cwd: gh.dir, env: { NODE_EXTRA_CA_CERTS: pki.caFile } });

beforeAll(async () => {
  ensureBuilt();
  gh = await startGatehouse();
  pki = createTestPki();
  graph = await startGraphEmulator({
    tenantId: TENANT,
    domains: [DOMAIN, 'other.example.com'],
    clients: [
      { clientId: APP, secret: SECRET, roles: ['Domain-InternalFederation.ReadWrite.All'] },
      { clientId: READER, secret: SECRET, roles: ['User.ReadWrite.All'] },
    ],
    tls: { certPem: pki.serverCertPem, keyPem: pki.serverKeyPem },
    routes: [federationRoutes(store), federatedSignInRoutes(store)],
  });
  // The running server's configuration, with its real URL, and the app registration for Graph.
  const tenant = { tenantId: TENANT, clientId: APP, clientSecret: SECRET, graphUrl: graph.url, authorityHost: graph.url };
  configFile = writeConfig(gh.dir, 'tenant.yaml', { ...gh.configRaw, publicUrl: gh.url, tenant });
  readerConfig = writeConfig(gh.dir, 'reader.yaml', { ...gh.configRaw, publicUrl: gh.url, tenant: { ...tenant, clientId: READER } });
  metadata = await (await fetch(`${gh.url}/FederationMetadata/2007-06/FederationMetadata.xml`)).text();
});
afterAll(async () => {
  await graph?.close();
  await gh?.close();
});

async function printed(): Promise<Record<string, string>> {
  const r = await run(['--json']);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  return JSON.parse(r.stdout) as Record<string, string>;
}

describe('gatehouse tenant-setup (printing)', () => {
  it("prints Graph's internalDomainFederation body, matching the served metadata, MEX and tokens", async () => {
    const body = await printed();
    const doc = parseXml(metadata);
    expect(Object.keys(body).sort()).toEqual(
      [
        '@odata.type', 'activeSignInUri', 'displayName', 'federatedIdpMfaBehavior', 'issuerUri', 'metadataExchangeUri', 'passiveSignInUri',
        'preferredAuthenticationProtocol', 'promptLoginBehavior', 'signOutUri', 'signingCertificate',
      ].sort(),
    );
    expect(body['@odata.type']).toBe('#microsoft.graph.internalDomainFederation');
    expect(body.displayName).toBe(DOMAIN);
    expect(body.issuerUri).toBe(value(doc, '/md:EntityDescriptor/@entityID'));
    expect(body.signingCertificate).toBe(metadataCertificates(metadata)[0]);
    expect(metadataCertificates(metadata)).toHaveLength(1);
    expect(body.passiveSignInUri).toBe(value(doc, '//fed:PassiveRequestorEndpoint//wsa:Address'));
    expect(body.passiveSignInUri).toBe(`${gh.url}/adfs/ls/`);
    expect(body.signOutUri).toBe(`${gh.url}/adfs/ls/`);
    expect(body.activeSignInUri).toBe(`${gh.url}/adfs/services/trust/2005/usernamemixed`);
    expect(body.metadataExchangeUri).toBe(`${gh.url}/adfs/services/trust/mex`);
    expect(body.preferredAuthenticationProtocol).toBe('wsFed');
    expect(body.federatedIdpMfaBehavior).toBe('rejectMfaByFederatedIdp');
    expect(body.promptLoginBehavior).toBe('nativeSupport');
    // The metadata is signed with that certificate.
    expect(xmlsecVerify(metadata, certificatePem(body.signingCertificate!), METADATA_ID).ok).toBe(true);

    // The MEX document is served at metadataExchangeUri and names activeSignInUri as an endpoint.
    const mex = await fetch(body.metadataExchangeUri!);
    expect(mex.status).toBe(200);
    expect(await mex.text()).toContain(`>${body.activeSignInUri}<`);
    // The sign-in page answers at passiveSignInUri.
    const passive = await fetch(`${body.passiveSignInUri}?wa=wsignin1.0&wtrealm=urn:federation:MicrosoftOnline`);
    expect(passive.status).toBe(200);

    // A token from activeSignInUri: issued by issuerUri, signed with signingCertificate.
    const rstr = await wsTrustToken(gh.url);
    expect(rstr).toContain(`Issuer="${body.issuerUri}"`);
    expect(xmlsecVerify(rstr, certificatePem(body.signingCertificate!), SAML11_ID).ok).toBe(true);
  });

  it('prints the same values as a New-MgDomainFederationConfiguration command', async () => {
    const body = await printed();
    const r = await run([]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`New-MgDomainFederationConfiguration -DomainId '${DOMAIN}' -BodyParameter $params`);
    for (const [k, v] of Object.entries(body)) expect(r.stdout, k).toContain(`${k.startsWith('@') ? `"${k}"` : k} = '${v}'`);
    expect(r.stdout).toContain(`POST /v1.0/domains/${DOMAIN}/federationConfiguration`);
    expect(r.stdout).toContain(thumb(body.signingCertificate!));
  });

  it("refuses a tenant's initial onmicrosoft.com domain and names a missing app registration", async () => {
    const bad = await gatehouse(['tenant-setup', '--domain', 'contoso.onmicrosoft.com', '-c', configFile], { cwd: gh.dir });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('initial domain');
    const noApp = writeConfig(gh.dir, 'no-app.yaml', { ...gh.configRaw, publicUrl: gh.url });
    const r = await run(['--check'], noApp);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('tenant.tenantId');
    expect(r.stderr).toContain('Domain-InternalFederation.ReadWrite.All');
  });
});

describe('gatehouse tenant-setup --apply and --check (Graph emulator)', () => {
  it('--check on a domain that is not federated: exit 1, says so', async () => {
    const r = await run(['--check']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(`${DOMAIN} is not federated`);
    expect(r.stdout).toContain('--apply');
  });

  it('an app without Domain-InternalFederation.ReadWrite.All: exit 2, names the permission', async () => {
    const r = await run(['--apply'], readerConfig);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('Authorization_RequestDenied');
    expect(r.stderr).toContain(`app ${READER}`);
    expect(r.stderr).toContain('Domain-InternalFederation.ReadWrite.All');
    expect(store.byDomain.size).toBe(0);
  });

  it('a wrong client secret: exit 2, says the token was refused and what to check', async () => {
    const wrong = writeConfig(gh.dir, 'wrong-secret.yaml', {
      ...gh.configRaw,
      publicUrl: gh.url,
      tenant: { tenantId: TENANT, clientId: APP, clientSecret: 'not-the-secret', graphUrl: graph.url, authorityHost: graph.url },
    });
    const r = await run(['--check'], wrong);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`cannot get a token for the app ${APP} (tenant.clientId) in tenant ${TENANT}`);
    expect(r.stderr).toContain('AADSTS7000215');
  });

  it('--apply creates the configuration with the printed body (POST, 201), then --check matches (exit 0)', async () => {
    const body = await printed();
    const r = await run(['--apply']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('created the federation configuration');
    expect(store.received).toHaveLength(1);
    expect(store.received[0]).toMatchObject({ method: 'POST', domain: DOMAIN });
    expect(store.received[0]!.body).toEqual(body);
    const post = graph.ctx.log.find((l) => l.method === 'POST' && l.url === `/v1.0/domains/${DOMAIN}/federationConfiguration`);
    expect(post?.status).toBe(201);

    const check = await run(['--check']);
    expect(check.code).toBe(0);
    expect(check.stdout).toContain('matches Gatehouse');
    const json = JSON.parse((await run(['--check', '--json'])).stdout);
    expect(json).toMatchObject({ domain: DOMAIN, match: true, differences: [], federationConfigurationId: store.byDomain.get(DOMAIN)!.id });
  });

  it('a second --apply PATCHes the existing configuration', async () => {
    const id = store.byDomain.get(DOMAIN)!.id;
    const r = await run(['--apply']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`updated the federation configuration ${id}`);
    expect(store.received).toHaveLength(2);
    const patch = store.received[1]!;
    expect(patch).toMatchObject({ method: 'PATCH', domain: DOMAIN, id });
    const { '@odata.type': _t, ...expected } = await printed();
    expect(patch.body).toEqual(expected);
    expect(graph.ctx.log.some((l) => l.method === 'PATCH' && l.url === `/v1.0/domains/${DOMAIN}/federationConfiguration/${id}` && l.status === 200)).toBe(true);
    expect(graph.ctx.log.filter((l) => l.method === 'POST' && l.url.endsWith('/federationConfiguration'))).toHaveLength(1);
  });

  it('--check reports a wrong certificate and a wrong issuer exactly, with what to do (exit 1)', async () => {
    const body = await printed();
    const other = createSelfSignedCertificate({ commonName: 'old-adfs.corp.example.com', bits: 2048, days: 30 });
    const otherB64 = new X509Certificate(other.certPem).raw.toString('base64');
    store.seed(DOMAIN, { ...body, issuerUri: 'http://old-adfs.corp.example.com/adfs/services/trust/', signingCertificate: otherB64 });
    const r = await run(['--check']);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('2 differences');
    expect(r.stdout).toMatch(/issuerUri\n\s+Microsoft 365: http:\/\/old-adfs\.corp\.example\.com\/adfs\/services\/trust\/\n\s+Gatehouse:\s+http:\/\/127\.0\.0\.1\/adfs\/services\/trust\n/);
    expect(r.stdout).toContain('issuer: http://old-adfs.corp.example.com/adfs/services/trust/'); // the fix on Gatehouse's side
    expect(r.stdout).toContain(`signingCertificate\n    Microsoft 365: ${thumb(otherB64)} (CN=old-adfs.corp.example.com;`);
    expect(r.stdout).toContain('not a certificate Gatehouse has');
    expect(r.stdout).toContain(`Gatehouse:     ${thumb(body.signingCertificate!)}`);
    expect(r.stdout).toContain('does not trust the certificate Gatehouse signs tokens with');
    expect(r.stdout).toContain(`gatehouse tenant-setup --domain ${DOMAIN} --apply`);

    const json = JSON.parse((await run(['--check', '--json'])).stdout);
    expect(json.match).toBe(false);
    expect(json.differences.map((d: { property: string }) => d.property)).toEqual(['issuerUri', 'signingCertificate']);

    // Endpoints too; a missing trailing slash on /adfs/ls is the same page.
    store.seed(DOMAIN, { ...body, passiveSignInUri: `${gh.url}/adfs/ls`, activeSignInUri: 'https://old-adfs.corp.example.com/adfs/services/trust/2005/usernamemixed', federatedIdpMfaBehavior: 'acceptIfMfaDoneByFederatedIdp' });
    const e = JSON.parse((await run(['--check', '--json'])).stdout);
    expect(e.differences.map((d: { property: string }) => d.property)).toEqual(['activeSignInUri', 'federatedIdpMfaBehavior']);

    // --apply repairs it all (PATCH), and --check agrees.
    const fixed = await run(['--apply']);
    expect(fixed.code).toBe(0);
    expect(fixed.stdout).toContain('activeSignInUri: https://old-adfs.corp.example.com/adfs/services/trust/2005/usernamemixed  ->  ');
    expect((await run(['--check'])).code).toBe(0);
  });

  it('the next certificate: printed as nextSigningCertificate, reported by --check until applied', async () => {
    const roll = await gatehouse(['certs', 'rollover', '-c', configFile], { cwd: gh.dir });
    expect(roll.stderr).toBe('');
    expect(roll.code).toBe(0);
    try {
      const body = await printed();
      expect(body.nextSigningCertificate).toBeTruthy();
      expect(thumb(body.nextSigningCertificate!)).not.toBe(thumb(body.signingCertificate!));
      const r = await run(['--check']);
      expect(r.code).toBe(1);
      expect(r.stdout).toContain('nextSigningCertificate');
      expect(r.stdout).toContain('does not know Gatehouse\'s next certificate');
      expect((await run(['--apply'])).code).toBe(0);
      expect(store.received.at(-1)!.body.nextSigningCertificate).toBe(body.nextSigningCertificate);
      expect((await run(['--check'])).code).toBe(0);
    } finally {
      const { rmSync } = await import('node:fs');
      rmSync(join(gh.dir, 'signing-next.crt'), { force: true });
      rmSync(join(gh.dir, 'signing-next.key'), { force: true });
    }
    // Gatehouse no longer has a next certificate: --check says the tenant trusts one too many; --apply clears it.
    const r = await run(['--check']);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('Microsoft 365 also accepts tokens signed by this certificate');
    expect((await run(['--apply'])).code).toBe(0);
    expect(store.received.at(-1)!.body.nextSigningCertificate).toBeNull();
    expect(store.byDomain.get(DOMAIN)!.nextSigningCertificate).toBeUndefined();
    expect((await run(['--check'])).code).toBe(0);
  });
});

describe('gatehouse tenant-setup with MFA on', () => {
  it('sets federatedIdpMfaBehavior to enforceMfaByFederatedIdp (or what mfa.federatedIdpMfaBehavior says), and --check reports it', async () => {
    const tenant = { tenantId: TENANT, clientId: APP, clientSecret: SECRET, graphUrl: graph.url, authorityHost: graph.url };
    const mfaConfig = writeConfig(gh.dir, 'tenant-mfa.yaml', { ...gh.configRaw, publicUrl: gh.url, tenant, mfa: { enabled: true } });
    const printedBody = JSON.parse((await run(['--json'], mfaConfig)).stdout) as Record<string, string>;
    expect(printedBody.federatedIdpMfaBehavior).toBe('enforceMfaByFederatedIdp');

    // The tenant as the password-only set-up left it: --check names the difference and what it means.
    expect((await run(['--apply'])).code).toBe(0);
    const r = await run(['--check'], mfaConfig);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('federatedIdpMfaBehavior');
    expect(r.stdout).toContain('does not send users back for it');
    expect((await run(['--apply'], mfaConfig)).code).toBe(0);
    expect(store.byDomain.get(DOMAIN)!.federatedIdpMfaBehavior).toBe('enforceMfaByFederatedIdp');
    expect((await run(['--check'], mfaConfig)).code).toBe(0);

    // accept is an option too.
    const acceptConfig = writeConfig(gh.dir, 'tenant-accept.yaml', {
      ...gh.configRaw, publicUrl: gh.url, tenant, mfa: { enabled: true, federatedIdpMfaBehavior: 'acceptIfMfaDoneByFederatedIdp' },
    });
    expect(JSON.parse((await run(['--json'], acceptConfig)).stdout).federatedIdpMfaBehavior).toBe('acceptIfMfaDoneByFederatedIdp');
    // Back to the password-only set-up for the other tests.
    expect((await run(['--apply'])).code).toBe(0);
  });
});

describe("an app's prompt=login through Microsoft 365 (promptLoginBehavior)", () => {
  const user = { upn: `alice@${DOMAIN}`, password: USERS.alice.password };

  /** Where Entra sends the browser for a user of the federated domain (the emulator reads the stored configuration). */
  async function entraSendsTo(prompt?: 'login'): Promise<string> {
    const q = new URLSearchParams({ client_id: 'some-app', login_hint: user.upn, state: 's1', ...(prompt ? { prompt } : {}) });
    const res = await graph.app.inject({ method: 'GET', url: `/${TENANT}/oauth2/v2.0/authorize?${q}` });
    expect(res.statusCode, res.body).toBe(302);
    const to = String(res.headers.location);
    expect(to.startsWith(`${gh.url}/adfs/ls/?`)).toBe(true);
    return to;
  }

  /** Follows Entra's redirect: the token for Microsoft 365 at once, or the login form (then the password is typed). */
  async function signIn(b: Browser, to: string): Promise<{ prompted: boolean; token: Page }> {
    const first = await b.get(to);
    expect(first.status, first.body.slice(0, 300)).toBe(200);
    const form = first.form();
    if (form.fields.wresult) return { prompted: false, token: first };
    expect(form.fields).toHaveProperty('Password');
    const token = await b.post(new URL(form.action, gh.url).toString(), { ...form.fields, UserName: USERS.alice.upn, Password: user.password });
    expect(token.form().fields.wresult).toBeTruthy();
    return { prompted: true, token };
  }

  it('nativeSupport (what --apply sets): prompt=login reaches Gatehouse as it is and the password is asked once more', async () => {
    expect((await run(['--apply'])).code).toBe(0);
    expect(store.byDomain.get(DOMAIN)!.promptLoginBehavior).toBe('nativeSupport');
    expect((await run(['--check'])).code).toBe(0);
    const b = new Browser();
    expect((await signIn(b, await entraSendsTo())).prompted).toBe(true);
    // The session signs the user in silently...
    expect((await signIn(b, await entraSendsTo())).prompted).toBe(false);
    // ...except when the app asks for prompt=login: passed on as it is, and Gatehouse asks for the password.
    const to = new URL(await entraSendsTo('login'));
    expect(to.searchParams.get('prompt')).toBe('login');
    expect(to.searchParams.has('wfresh')).toBe(false);
    expect((await signIn(b, to.toString())).prompted).toBe(true);
  });

  it('translateToFreshPasswordAuthentication: --check names it, Gatehouse still asks for the password (wfresh=0), --apply sets nativeSupport', async () => {
    const body = await printed();
    store.seed(DOMAIN, { ...body, promptLoginBehavior: 'translateToFreshPasswordAuthentication' });
    const check = await run(['--check']);
    expect(check.code).toBe(1);
    expect(check.stdout).toContain('promptLoginBehavior');
    expect(check.stdout).toContain('password twice');
    const b = new Browser();
    await signIn(b, await entraSendsTo());
    const to = new URL(await entraSendsTo('login'));
    expect(to.searchParams.get('wfresh')).toBe('0');
    expect(to.searchParams.get('wauth')).toBe('urn:oasis:names:tc:SAML:1.0:am:password');
    expect((await signIn(b, to.toString())).prompted).toBe(true);
    expect((await run(['--apply'])).code).toBe(0);
    expect(store.byDomain.get(DOMAIN)!.promptLoginBehavior).toBe('nativeSupport');
  });
});
