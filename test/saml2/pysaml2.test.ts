// pysaml2 (Debian's python3-pysaml2 7.0.1, test/saml2/pysaml2-sp.py) as a SAML 2.0 SP of Gatehouse,
// against the Samba DC: its signed AuthnRequest, its own verification of Gatehouse's Response (xmlsec1,
// with the certificate from Gatehouse's metadata), and single logout both ways with the messages pysaml2
// really produces.
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
import { base64, count, decodeSaml, follow, PERSISTENT, posted, redirectUrlOf, SAML2_LOGOUT_RESPONSE_ID, STATUS, statusOf, val } from './support.js';

let gh: RunningGatehouse;
let py: Pysaml2Sp;
/** pysaml2 again, with an HTTP-POST SingleLogoutService. */
let pyPost: Pysaml2Sp;
/** A node-saml SP beside pysaml2 in the same Gatehouse session, for single logout. */
let sp1: TestSp;
const idpCert = () => testKeys().certPem;
const RSA_SHA256 = 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256';
const PARTIAL = { code: STATUS.success, subCode: 'urn:oasis:names:tc:SAML:2.0:status:PartialLogout' };

beforeAll(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'pysaml2-'));
  py = await preparePysaml2Sp(dir);
  pyPost = await preparePysaml2Sp(dir, 'pysaml2-post', { sloBinding: 'post' });
  sp1 = makeSp(dir, 'sp-one', idpCert(), 'http://placeholder/adfs/ls/', { signRequests: true });
  gh = await startGatehouse((cfg) => {
    cfg.relyingParties.push({ id: sp1.entityId, name: 'SP one', protocol: 'saml2', metadataFile: sp1.metadataFile });
    // pysaml2's own metadata (create_metadata_string): signing key, ACS (POST), SLO (Redirect).
    cfg.relyingParties.push({ id: py.entityId, name: 'pysaml2', protocol: 'saml2', metadataFile: py.metadataFile });
    cfg.relyingParties.push({ id: pyPost.entityId, name: 'pysaml2 (POST logout)', protocol: 'saml2', metadataFile: pyPost.metadataFile });
  });
  sp1.saml.options.entryPoint = `${gh.url}/adfs/ls/`;
  sp1.saml.options.logoutUrl = `${gh.url}/adfs/ls/`;
  sp1.saml.options.idpIssuer = gh.config.issuer;
  // pysaml2 trusts Gatehouse as Gatehouse's SAML metadata describes it (signing certificate, endpoints).
  const idpMetadata = join(dir, 'gatehouse-idp-metadata.xml');
  writeFileSync(idpMetadata, await (await fetch(`${gh.url}/saml/metadata`)).text());
  await py.start(idpMetadata);
  await pyPost.start(idpMetadata);
}, 120_000);
afterAll(async () => {
  py?.stop();
  pyPost?.stop();
  await gh?.close();
});

const location = (page: Page, base = gh.url) => {
  expect([302, 303], `${page.status} ${page.body.slice(0, 300)}\n${py.output().slice(-2000)}`).toContain(page.status);
  return new URL(page.headers.get('location')!, base).toString();
};
const queryOf = (url: string) => Object.fromEntries(new URL(url).searchParams) as Record<string, string>;
const lastEvent = async (name: string) => (await py.events()).filter((e) => e.event === name).at(-1);

/** alice signs in at pysaml2 in `b`: pysaml2's AuthnRequest, Gatehouse's sign-in, and what pysaml2 made of the Response. */
async function signInAtPysaml2(b: Browser, expectPrompt: boolean, beforeAcs?: (toAcs: ReturnType<typeof posted>) => Promise<void>, sp = py) {
  const toGatehouse = location(await b.get(`${sp.url}/login`), sp.url);
  expect(toGatehouse.startsWith(`${gh.url}/adfs/ls/?SAMLRequest=`)).toBe(true);
  const { page, prompted } = await follow(gh, b, await b.get(toGatehouse));
  expect(prompted).toBe(expectPrompt);
  const toAcs = posted(page);
  expect(toAcs.action).toBe(`${sp.url}/acs`);
  await beforeAcs?.(toAcs);
  const answer = await b.post(toAcs.action, toAcs.fields);
  expect(answer.status, `${answer.body}\n${sp.output().slice(-2000)}`).toBe(200);
  return { reported: JSON.parse(answer.body) as Record<string, any>, authnRequest: queryOf(toGatehouse) };
}

/** alice at SP1 (node-saml) first, then at pysaml2 in the same Gatehouse session. */
async function signInBoth(b: Browser, sp = py) {
  const first = posted((await follow(gh, b, await b.get(await redirectUrlOf(sp1)))).page);
  const { profile } = await sp1.saml.validatePostResponseAsync({ SAMLResponse: first.b64 });
  const { reported } = await signInAtPysaml2(b, false, undefined, sp);
  expect(reported.sessionIndex).toBe(profile?.sessionIndex);
  return profile!;
}

describe('pysaml2 7 (Debian) as a SAML 2.0 SP', () => {
  it('SSO: Gatehouse takes pysaml2\'s signed AuthnRequest; pysaml2 verifies and accepts Gatehouse\'s Response, and refuses a tampered one', async () => {
    const b = new Browser();
    const { reported, authnRequest } = await signInAtPysaml2(b, true, async (toAcs) => {
      // The same Response with bob's NameID in the signed assertion: pysaml2's signature check refuses it.
      const tampered = toAcs.xml.replaceAll(objectGuidBase64('alice'), objectGuidBase64('bob'));
      expect(tampered).not.toBe(toAcs.xml);
      const refused = await new Browser().post(toAcs.action, { ...toAcs.fields, SAMLResponse: base64(tampered) });
      expect(refused.status).toBe(400);
      expect(JSON.parse(refused.body).error).toMatch(/signature/i);
    });
    // pysaml2 signed its Redirect AuthnRequest in the query (saml-bindings 3.4.4.1).
    expect(authnRequest.SigAlg).toBe(RSA_SHA256);
    expect(authnRequest.Signature).toBeTruthy();
    // What pysaml2 concluded, after its own checks of signature, audience, times and InResponseTo.
    expect(reported).toMatchObject({
      event: 'signed_in',
      issuer: gh.config.issuer,
      nameId: objectGuidBase64('alice'),
      nameIdFormat: PERSISTENT,
      assertionSigned: true,
      attributes: { IDPEmail: [USERS.alice.upn] },
    });
    expect(reported.inResponseTo).toBe(val(parseXml(decodeSaml(authnRequest.SAMLRequest!)), '/samlp:AuthnRequest/@ID'));
    expect(reported.sessionIndex).toMatch(/^_/);
  });

  it('single logout started by SP1: pysaml2 takes Gatehouse\'s LogoutRequest; its XML-signed Redirect answer is refused and SP1 gets PartialLogout', async () => {
    const b = new Browser();
    const profile1 = await signInBoth(b);
    const logoutUrl = await sp1.saml.getLogoutUrlAsync(profile1, 'relay-py', {});
    const sp1RequestId = val(parseXml(decodeSaml(queryOf(logoutUrl).SAMLRequest!)), '/samlp:LogoutRequest/@ID');
    const toPy = location(await b.get(logoutUrl));
    expect(toPy.startsWith(`${py.url}/slo?SAMLRequest=`)).toBe(true);
    const ghRequestId = val(parseXml(decodeSaml(queryOf(toPy).SAMLRequest!)), '/samlp:LogoutRequest/@ID');

    // The query signature is checked (pysaml2's verify_redirect_signature with the certificate from
    // Gatehouse's metadata): a RelayState added on the way is refused, the request as sent is taken.
    expect(new URL(toPy).searchParams.has('RelayState')).toBe(false);
    const tampered = await new Browser().get(`${toPy}&RelayState=evil`);
    expect(tampered.status).toBe(400);
    expect(JSON.parse(tampered.body).error).toMatch(/query signature does not verify/);
    const answer = location(await b.get(toPy), py.url);
    expect(await lastEvent('logout_request_handled')).toMatchObject({ querySignatureVerified: true });

    // What pysaml2 7.0.1 sends (logout_responses_signed on, its SLO endpoint HTTP-Redirect), as observed:
    //   /adfs/ls/?SAMLResponse=…&RelayState=…&SigAlg=…rsa-sha256&Signature=…   (the query signed), and
    //   <ns0:LogoutResponse ID="id-…" InResponseTo="_…" Destination="…/adfs/ls/">
    //     <ns1:Issuer …>https://pysaml2.test.invalid/sp</ns1:Issuer>
    //     <ns2:Signature Id="Signature1"> … enveloped, exc-c14n, rsa-sha256 … </ns2:Signature>
    //     <ns0:Status><ns0:StatusCode Value="…:status:Success"/></ns0:Status>
    //   </ns0:LogoutResponse>
    // An XML signature inside an HTTP-Redirect message, which saml-bindings 3.4.4.1 forbids: handle_logout_request
    // signs the XML whenever it signs, whatever the binding (its LogoutRequests are signed by binding).
    const q = queryOf(answer);
    expect(answer.startsWith(`${gh.url}/adfs/ls/?SAMLResponse=`)).toBe(true);
    expect(q.SigAlg).toBe(RSA_SHA256);
    expect(q.Signature).toBeTruthy();
    expect(q.RelayState).toBeUndefined();
    const responseXml = decodeSaml(q.SAMLResponse!);
    const response = parseXml(responseXml);
    expect(val(response, '/samlp:LogoutResponse/@InResponseTo')).toBe(ghRequestId);
    expect(statusOf(response)).toEqual({ code: STATUS.success, subCode: undefined });
    expect(count(response, '/samlp:LogoutResponse/ds:Signature')).toBe(1);
    // A real signature by pysaml2's key, not a stray element.
    const byPy = xmlsecVerify(responseXml, py.keys.certPem, SAML2_LOGOUT_RESPONSE_ID);
    expect(byPy.ok, byPy.output).toBe(true);

    // Gatehouse refuses that answer, says why, and tells SP1 the logout was partial.
    const logged = gh.logs.length;
    const final = posted(await b.get(answer), 'SAMLResponse');
    expect(final.action).toBe(sp1.slo);
    expect(final.fields.RelayState).toBe('relay-py');
    expect(val(final.doc, '/samlp:LogoutResponse/@InResponseTo')).toBe(sp1RequestId);
    expect(statusOf(final.doc)).toEqual(PARTIAL);
    const v = xmlsecVerify(final.xml, idpCert(), SAML2_LOGOUT_RESPONSE_ID);
    expect(v.ok, v.output).toBe(true);
    const logs = gh.logs.slice(logged);
    const refused = logs.find((l) => l.event === 'slo_response_refused');
    expect(refused).toMatchObject({ realm: py.entityId, code: 'GH_SAML_LOGOUT_SIGNATURE' });
    expect(String(refused?.reason)).toMatch(/XML signature inside a Redirect-bound message/);
    expect(logs.filter((l) => l.event === 'slo_done').at(-1)).toMatchObject({ origin: sp1.entityId, partial: true });
    // The session ended all the same.
    expect((await follow(gh, b, await b.get(await redirectUrlOf(sp1)))).prompted).toBe(true);
  });

  it('single logout to pysaml2 over HTTP-POST: it verifies Gatehouse\'s XML-signed LogoutRequest, its XML-signed POST answer is taken, SP1 gets Success', async () => {
    const b = new Browser();
    const profile1 = await signInBoth(b, pyPost);
    const logoutUrl = await sp1.saml.getLogoutUrlAsync(profile1, 'relay-post', {});
    const toPy = posted(await b.get(logoutUrl), 'SAMLRequest');
    expect(toPy.action).toBe(`${pyPost.url}/slo`);
    expect(count(toPy.doc, '/samlp:LogoutRequest/ds:Signature')).toBe(1);

    // pysaml2 checks the XML signature (with the certificate from Gatehouse's metadata): a changed NameID is refused.
    const tampered = await b.post(toPy.action, { ...toPy.fields, SAMLRequest: base64(toPy.xml.replace(objectGuidBase64('alice'), objectGuidBase64('bob'))) });
    expect(tampered.status).toBe(400);
    expect(JSON.parse(tampered.body).error).toMatch(/^IncorrectlySigned/);

    // Its answer: pysaml2's own auto-posting form, a LogoutResponse with an enveloped XML signature, which
    // the HTTP-POST binding allows.
    const answer = await b.post(toPy.action, toPy.fields);
    expect(answer.status, `${answer.body}\n${pyPost.output().slice(-2000)}`).toBe(200);
    const form = answer.form();
    expect(form.action).toBe(`${gh.url}/adfs/ls/`);
    const responseXml = decodeSaml(form.fields.SAMLResponse!);
    const response = parseXml(responseXml);
    expect(val(response, '/samlp:LogoutResponse/@InResponseTo')).toBe(val(toPy.doc, '/samlp:LogoutRequest/@ID'));
    expect(statusOf(response)).toEqual({ code: STATUS.success, subCode: undefined });
    expect(count(response, '/samlp:LogoutResponse/ds:Signature')).toBe(1);

    const logged = gh.logs.length;
    const final = posted(await b.post(form.action, form.fields), 'SAMLResponse');
    expect(final.action).toBe(sp1.slo);
    expect(final.fields.RelayState).toBe('relay-post');
    expect(statusOf(final.doc)).toEqual({ code: STATUS.success, subCode: undefined });
    const logs = gh.logs.slice(logged);
    expect(logs.filter((l) => l.event === 'slo_response_refused')).toEqual([]);
    expect(logs.filter((l) => l.event === 'slo_done').at(-1)).toMatchObject({ origin: sp1.entityId, partial: false });
  });

  it('single logout started by pysaml2: Gatehouse takes its LogoutRequest, tells SP1, and pysaml2 accepts the final Success', async () => {
    const b = new Browser();
    await signInBoth(b);
    const toGh = location(await b.get(`${py.url}/logout`), py.url);
    // pysaml2 signs its Redirect LogoutRequest in the query only (no XML signature): a clean message.
    const q = queryOf(toGh);
    expect(toGh.startsWith(`${gh.url}/adfs/ls/?SAMLRequest=`)).toBe(true);
    expect(q.SigAlg).toBe(RSA_SHA256);
    const request = parseXml(decodeSaml(q.SAMLRequest!));
    expect(count(request, '//ds:Signature')).toBe(0);
    expect(val(request, '/samlp:LogoutRequest/saml:NameID')).toBe(objectGuidBase64('alice'));

    // Gatehouse ends the session and tells SP1 (HTTP-POST); SP1 answers.
    const toSp1 = posted(await b.get(toGh), 'SAMLRequest');
    expect(b.cookies.has(gh.config.session.cookieName)).toBe(false);
    expect(toSp1.action).toBe(sp1.slo);
    const { profile, loggedOut } = await sp1.saml.validatePostRequestAsync({ SAMLRequest: toSp1.b64 });
    expect(loggedOut).toBe(true);
    const toPy = location(await b.get(await sp1.saml.getLogoutResponseUrlAsync(profile!, '', {}, true)));

    // Gatehouse's LogoutResponse to pysaml2 (Redirect, query-signed), checked and taken by pysaml2.
    expect(toPy.startsWith(`${py.url}/slo?SAMLResponse=`)).toBe(true);
    const done = await b.get(toPy);
    expect(done.status, `${done.body}\n${py.output().slice(-2000)}`).toBe(200);
    expect(JSON.parse(done.body)).toMatchObject({
      event: 'logout_response',
      querySignatureVerified: true,
      issuer: gh.config.issuer,
      inResponseTo: val(request, '/samlp:LogoutRequest/@ID'),
      status: STATUS.success,
      subStatus: null,
      done: true,
    });
    expect(gh.logs.filter((l) => l.event === 'slo_done').at(-1)).toMatchObject({ origin: py.entityId, partial: false });
    expect((await follow(gh, b, await b.get(await redirectUrlOf(sp1)))).prompted).toBe(true);
  });
});
