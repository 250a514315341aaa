import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Browser, Page } from '../support/http.js';
import { startGatehouse, type RunningGatehouse } from '../support/gatehouse.js';
import { USERS, objectGuidBase64 } from '../support/directory.js';
import { parseXml, certificatePem, xmlsecVerify } from '../support/xml.js';
import { makeSp, type TestSp } from './sp.js';
import { SAML2_ASSERTION_ID, val } from './support.js';

let gh: RunningGatehouse;
let idpCert: string;
let sp: TestSp;
const dir = () => gh.dir;

beforeAll(async () => {
  // The SPs need the IdP's URL and certificate before Gatehouse starts: the port is reserved by startGatehouse,
  // so the SP objects are made with a placeholder URL and pointed at the real one afterwards.
  const { testKeys } = await import('../support/gatehouse.js');
  idpCert = testKeys().certPem;
  const { mkdtempSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const spDir = mkdtempSync(join(tmpdir(), 'saml2-sp-'));
  sp = makeSp(spDir, 'wiki', idpCert, 'http://placeholder/adfs/ls/');
  gh = await startGatehouse((cfg) => {
    cfg.relyingParties.push({ id: sp.entityId, name: 'Wiki', protocol: 'saml2', metadataFile: sp.metadataFile, idpInitiated: true });
  });
  sp.saml.options.entryPoint = `${gh.url}/adfs/ls/`;
  sp.saml.options.logoutUrl = `${gh.url}/adfs/ls/`;
});
afterAll(async () => gh?.close());

/** Follows the SAML sign-in: the login page (typing alice's password) and the auto-post back to the SP. */
async function signInVia(browser: Browser, first: Page): Promise<Page> {
  let page = first;
  if (page.status === 303 || page.status === 302) page = await browser.get(new URL(page.headers.get('location')!, gh.url).toString());
  if (page.body.includes('name="Password"')) {
    const form = page.form();
    page = await browser.post(new URL(form.action, gh.url).toString(), { ...form.fields, UserName: USERS.alice.upn, Password: USERS.alice.password });
  }
  return page;
}

describe('SAML 2.0 Web Browser SSO with @node-saml/node-saml as the SP', () => {
  it('SP-initiated over HTTP-Redirect: alice signs in, the SP validates the response, xmlsec1 verifies the assertion', async () => {
    const browser = new Browser();
    const url = await sp.saml.getAuthorizeUrlAsync('relay-123', undefined, {});
    const page = await signInVia(browser, await browser.get(url));
    expect(page.status).toBe(200);
    const form = page.form();
    expect(form.action).toBe(sp.acs);
    expect(form.fields.RelayState).toBe('relay-123');
    const { profile } = await sp.saml.validatePostResponseAsync({ SAMLResponse: form.fields.SAMLResponse! });
    expect(profile?.nameID).toBe(objectGuidBase64('alice'));
    expect(profile?.nameIDFormat).toBe('urn:oasis:names:tc:SAML:2.0:nameid-format:persistent');
    const xml = Buffer.from(form.fields.SAMLResponse!, 'base64').toString('utf8');
    const v = xmlsecVerify(xml, idpCert, SAML2_ASSERTION_ID);
    expect(v.output).toContain('OK');
    expect(v.ok).toBe(true);
  });

  it('SP-initiated over HTTP-POST with an existing session: no password prompt', async () => {
    const browser = new Browser();
    await signInVia(browser, await browser.get(await sp.saml.getAuthorizeUrlAsync('', undefined, {})));
    sp.saml.options.authnRequestBinding = 'HTTP-POST';
    const html = await sp.saml.getAuthorizeFormAsync('post-relay', undefined, {}).finally(() => {
      sp.saml.options.authnRequestBinding = undefined;
    });
    const samlRequest = new Page(200, new Headers(), html).form().fields.SAMLRequest!;
    const page = await browser.post(`${gh.url}/adfs/ls/`, { SAMLRequest: samlRequest, RelayState: 'post-relay' });
    expect(page.status).toBe(200);
    const form = page.form();
    expect(form.fields.RelayState).toBe('post-relay');
    const { profile } = await sp.saml.validatePostResponseAsync({ SAMLResponse: form.fields.SAMLResponse! });
    expect(profile?.nameID).toBe(objectGuidBase64('alice'));
  });

  it('publishes the IdP role in /saml/metadata and in the federation metadata', async () => {
    for (const path of ['/saml/metadata', '/FederationMetadata/2007-06/FederationMetadata.xml']) {
      const xml = await (await fetch(`${gh.url}${path}`)).text();
      const doc = parseXml(xml);
      expect(val(doc, '//md:IDPSSODescriptor/md:SingleSignOnService[@Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect"]/@Location')).toBe(`${gh.url}/adfs/ls/`);
      expect(val(doc, '//md:IDPSSODescriptor/md:SingleLogoutService[@Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"]/@Location')).toBe(`${gh.url}/adfs/ls/`);
      expect(certificatePem(val(doc, '//md:IDPSSODescriptor/md:KeyDescriptor[@use="signing"]//ds:X509Certificate')!)).toBe(idpCert.replace(/\r\n/g, '\n'));
      expect(xmlsecVerify(xml, idpCert, ['ID', 'urn:oasis:names:tc:SAML:2.0:metadata:EntityDescriptor']).ok).toBe(true);
    }
    void dir;
  });
});
