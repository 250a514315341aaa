// pysaml2 (Debian's python3-pysaml2 7.0.1) as a SAML 2.0 SP of Gatehouse, against the Samba DC: its
// signed AuthnRequest, its own verification of Gatehouse's Response (xmlsec1 with the certificate from
// Gatehouse's metadata), and single logout with the LogoutResponse it really produces.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { objectGuidBase64, USERS } from '../support/directory.js';
import { startGatehouse, testKeys, type RunningGatehouse } from '../support/gatehouse.js';
import { Browser, type Page } from '../support/http.js';
import { parseXml, xmlsecVerify } from '../support/xml.js';
import { preparePysaml2Sp, type Pysaml2Sp } from './pysaml2-sp.js';
import { makeSp, type TestSp } from './sp.js';
import { count, decodeSaml, follow, NS, PERSISTENT, posted, redirectUrlOf, SAML2_LOGOUT_RESPONSE_ID, STATUS, statusOf, val } from './support.js';

let gh: RunningGatehouse;
let py: Pysaml2Sp;
/** A node-saml SP beside pysaml2 in the same session: it starts the logout pysaml2 takes part in. */
let sp1: TestSp;
const idpCert = () => testKeys().certPem;

beforeAll(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'pysaml2-'));
  py = await preparePysaml2Sp(dir);
  sp1 = makeSp(dir, 'sp-one', idpCert(), 'http://placeholder/adfs/ls/', { signRequests: true });
  gh = await startGatehouse((cfg) => {
    cfg.relyingParties.push({ id: sp1.entityId, name: 'SP one', protocol: 'saml2', metadataFile: sp1.metadataFile });
    cfg.relyingParties.push({ id: py.entityId, name: 'pysaml2', protocol: 'saml2', metadataFile: py.metadataFile });
  });
  sp1.saml.options.entryPoint = `${gh.url}/adfs/ls/`;
  sp1.saml.options.logoutUrl = `${gh.url}/adfs/ls/`;
  sp1.saml.options.idpIssuer = gh.config.issuer;
  // pysaml2 trusts Gatehouse as its metadata describes it (the signing certificate, the endpoints).
  const idpMetadata = join(dir, 'gatehouse-idp-metadata.xml');
  writeFileSync(idpMetadata, await (await fetch(`${gh.url}/saml/metadata`)).text());
  await py.start(idpMetadata);
}, 120_000);
afterAll(async () => {
  py?.stop();
  await gh?.close();
});

const location = (page: Page, base = gh.url) => {
  expect([302, 303], `${page.status} ${page.body.slice(0, 300)}\n${py.output().slice(-2000)}`).toContain(page.status);
  return new URL(page.headers.get('location')!, base).toString();
};
const queryOf = (url: string) => Object.fromEntries(new URL(url).searchParams) as Record<string, string>;

/** alice signs in at pysaml2 in `b`; returns what pysaml2 reported after checking Gatehouse's Response. */
async function signInAtPysaml2(b: Browser, expectPrompt: boolean) {
  const toGatehouse = location(await b.get(`${py.url}/login`), py.url);
  expect(toGatehouse.startsWith(`${gh.url}/adfs/ls/?SAMLRequest=`)).toBe(true);
  const { page, prompted } = await follow(gh, b, await b.get(toGatehouse));
  expect(prompted).toBe(expectPrompt);
  const toAcs = posted(page);
  expect(toAcs.action).toBe(`${py.url}/acs`);
  const answer = await b.post(toAcs.action, toAcs.fields);
  expect(answer.status, `${answer.body}\n${py.output().slice(-2000)}`).toBe(200);
  return { reported: JSON.parse(answer.body) as Record<string, any>, authnRequest: queryOf(toGatehouse), response: toAcs };
}

describe('pysaml2 as a SAML 2.0 SP', () => {
  it('SSO: pysaml2 signs its AuthnRequest, and itself verifies and accepts Gatehouse\'s Response', async () => {
    const b = new Browser();
    const { reported, authnRequest, response } = await signInAtPysaml2(b, true);
    // pysaml2 signed its Redirect AuthnRequest in the query (RSA-SHA256, as configured); Gatehouse took it.
    expect(authnRequest.SigAlg).toBe('http://www.w3.org/2001/04/xmldsig-more#rsa-sha256');
    expect(authnRequest.Signature).toBeTruthy();
    // What pysaml2 concluded from the Response, after its own signature and condition checks.
    expect(reported).toMatchObject({
      event: 'signed_in',
      issuer: gh.config.issuer,
      nameId: objectGuidBase64('alice'),
      nameIdFormat: PERSISTENT,
      assertionSigned: true,
    });
    expect(reported.inResponseTo).toBe(val(parseXml(decodeSaml(authnRequest.SAMLRequest!)), '/samlp:AuthnRequest/@ID'));
    expect(reported.sessionIndex).toBeTruthy();
    console.log(JSON.stringify(reported, null, 2));
    expect(count(response.doc, '//ds:Signature')).toBeGreaterThan(0);
    expect(NS.ds).toBeTruthy();
    expect(USERS.alice.upn).toBeTruthy();
  });

  it('single logout started by a node-saml SP: pysaml2 takes Gatehouse\'s LogoutRequest and answers', async () => {
    const b = new Browser();
    const first = posted((await follow(gh, b, await b.get(await redirectUrlOf(sp1)))).page);
    const { profile: profile1 } = await sp1.saml.validatePostResponseAsync({ SAMLResponse: first.b64 });
    await signInAtPysaml2(b, false);
    const logoutUrl = await sp1.saml.getLogoutUrlAsync(profile1!, 'relay-py', {});
    const sp1RequestId = val(parseXml(decodeSaml(queryOf(logoutUrl).SAMLRequest!)), '/samlp:LogoutRequest/@ID');
    const toPy = location(await b.get(logoutUrl));
    expect(toPy.startsWith(`${py.url}/slo?SAMLRequest=`)).toBe(true);
    const answer = location(await b.get(toPy), py.url);
    console.log(JSON.stringify(await py.events(), null, 2));
    const q = queryOf(answer);
    console.log(q.SigAlg, q.Signature?.slice(0, 20), decodeSaml(q.SAMLResponse!));
    const logged = gh.logs.length;
    const final = await b.get(answer);
    console.log(final.status, final.body.slice(0, 3000));
    console.log(JSON.stringify(gh.logs.slice(logged), null, 2));
    const f = posted(final, 'SAMLResponse');
    console.log(f.xml, sp1RequestId, statusOf(f.doc), STATUS.success);
    const v = xmlsecVerify(f.xml, idpCert(), SAML2_LOGOUT_RESPONSE_ID);
    expect(v.ok).toBe(true);
  });

  it('single logout started by pysaml2', async () => {
    const b = new Browser();
    await signInAtPysaml2(b, true);
    const toGh = location(await b.get(`${py.url}/logout`), py.url);
    console.log(toGh, decodeSaml(queryOf(toGh).SAMLRequest!));
    const back = await b.get(toGh);
    console.log(back.status, back.headers.get('location'), back.body.slice(0, 1000));
    const toPy = location(back);
    const done = await b.get(toPy);
    console.log(done.status, done.body, py.output().slice(-3000));
  });
});
