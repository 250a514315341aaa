// SAML 2.0 sign-in requests that Gatehouse must accept or refuse, sent by @node-saml/node-saml (an SP
// written by others) or crafted from what it sends: signed requests over both bindings, tampered and
// wrapped ones, an unsigned request from an SP that must sign, unregistered ACS URL and index, ForceAuthn,
// IsPassive, NameIDPolicy, DOCTYPEs and schema-invalid messages. Against the Samba DC, with alice.
import { X509Certificate } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Browser } from '../support/http.js';
import { objectGuidBase64 } from '../support/directory.js';
import { startGatehouse, testKeys, type RunningGatehouse } from '../support/gatehouse.js';
import { xmlsecVerify, parseXml } from '../support/xml.js';
import { makeSp, type TestSp } from './sp.js';
import {
  base64,
  count,
  decodeSaml,
  deflate64,
  expectErrorPage,
  follow,
  PERSISTENT,
  postRequestOf,
  posted,
  redirectUrlOf,
  SAML2_RESPONSE_ID,
  STATUS,
  statusOf,
  val,
} from './support.js';
import { verifyRootSignature } from '../../src/xml/signature.js';
import { parseXmlSafely } from '../../src/xml/parse.js';

let gh: RunningGatehouse;
let signed: TestSp;
let plain: TestSp;
/** An SP whose entry accepts SHA-1 signatures (acceptSha1Signatures), as an ADFS trust set to SHA-1. */
let legacy: TestSp;
/** A browser in which alice has a Gatehouse session: a request that is wrongly accepted gets a token at once. */
let withSession: Browser;
const idpCert = () => testKeys().certPem;

/** node-saml signs with an unprefixed <Signature xmlns="…xmldsig#">. */
const SIGNATURE = /<(ds:)?Signature[\s>][\s\S]*<\/(ds:)?Signature>/;
const ACS2 = (sp: TestSp) => sp.acs.replace('/acs', '/acs2');
const addAcs2 = (name: string) => (xml: string) =>
  xml.replace(
    '</SPSSODescriptor>',
    `<AssertionConsumerService index="2" Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="https://${name}.test.invalid/acs2"/></SPSSODescriptor>`,
  );

beforeAll(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'saml2-refusals-'));
  signed = makeSp(dir, 'signed', idpCert(), 'http://placeholder/adfs/ls/', { signRequests: true, editMetadata: addAcs2('signed') });
  plain = makeSp(dir, 'plain', idpCert(), 'http://placeholder/adfs/ls/', { editMetadata: addAcs2('plain') });
  legacy = makeSp(dir, 'legacy', idpCert(), 'http://placeholder/adfs/ls/', { signRequests: true });
  gh = await startGatehouse((cfg) => {
    cfg.relyingParties.push({ id: legacy.entityId, name: 'Legacy SP', protocol: 'saml2', metadataFile: legacy.metadataFile, acceptSha1Signatures: true });
    cfg.relyingParties.push({ id: signed.entityId, name: 'Signed SP', protocol: 'saml2', metadataFile: signed.metadataFile });
    cfg.relyingParties.push({ id: plain.entityId, name: 'Plain SP', protocol: 'saml2', metadataFile: plain.metadataFile });
  });
  for (const sp of [signed, plain, legacy]) {
    sp.saml.options.entryPoint = `${gh.url}/adfs/ls/`;
    sp.saml.options.logoutUrl = `${gh.url}/adfs/ls/`;
  }
  withSession = new Browser();
  const { page } = await follow(gh, withSession, await withSession.get(await redirectUrlOf(plain)));
  expect(posted(page).action).toBe(plain.acs);
});
afterAll(async () => gh?.close());

/** Replaces one parameter of a raw query string, leaving every other octet as it was (signature input). */
function replaceParam(url: string, name: string, value: string): string {
  const [base, query] = url.split('?') as [string, string];
  const parts = query.split('&').map((p) => (p.startsWith(`${name}=`) ? `${name}=${encodeURIComponent(value)}` : p));
  return `${base}?${parts.join('&')}`;
}
const paramOf = (url: string, name: string) => new URL(url).searchParams.get(name)!;

/** The refusal Gatehouse logged last for a request ID. */
const refusal = (requestId: string) => gh.logs.filter((l) => l.event === 'saml2_refused' && l.requestId === requestId).at(-1);
const tokensFor = (realm: string) => gh.logs.filter((l) => l.event === 'token_issued' && l.realm === realm).length;

/** A SAML error Response posted to a registered ACS: signed, the status asked for, and no assertion. */
function expectSamlError(page: Awaited<ReturnType<Browser['get']>>, acs: string, inResponseTo: string, subCode: string, code = STATUS.requester) {
  const r = posted(page);
  expect(r.action).toBe(acs);
  expect(statusOf(r.doc)).toEqual({ code, subCode });
  expect(val(r.doc, '/samlp:Response/@InResponseTo')).toBe(inResponseTo);
  expect(val(r.doc, '/samlp:Response/@Destination')).toBe(acs);
  expect(count(r.doc, '//saml:Assertion') + count(r.doc, '//saml:EncryptedAssertion')).toBe(0);
  const v = xmlsecVerify(r.xml, idpCert(), SAML2_RESPONSE_ID);
  expect(v.ok, v.output).toBe(true);
  return r;
}

describe('signed AuthnRequests (the SP declares AuthnRequestsSigned)', () => {
  it('HTTP-Redirect: the query signature verifies, alice signs in and the SP accepts the response', async () => {
    const url = await redirectUrlOf(signed, 'r-signed');
    expect(paramOf(url, 'SigAlg')).toBe('http://www.w3.org/2001/04/xmldsig-more#rsa-sha256');
    expect(paramOf(url, 'Signature')).toBeTruthy();
    const b = new Browser();
    const { page, prompted } = await follow(gh, b, await b.get(url));
    expect(prompted).toBe(true);
    const r = posted(page);
    expect(r.fields.RelayState).toBe('r-signed');
    const { profile } = await signed.saml.validatePostResponseAsync({ SAMLResponse: r.b64 });
    expect(profile?.nameID).toBe(objectGuidBase64('alice'));
  });

  it('HTTP-POST: the enveloped signature verifies and the SP accepts the response', async () => {
    const req = await postRequestOf(signed, 'r-post');
    expect(count(parseXml(decodeSaml(req.SAMLRequest)), '/samlp:AuthnRequest/ds:Signature')).toBe(1);
    const page = await withSession.post(`${gh.url}/adfs/ls/`, { ...req });
    const r = posted(page);
    expect(r.fields.RelayState).toBe('r-post');
    const { profile } = await signed.saml.validatePostResponseAsync({ SAMLResponse: r.b64 });
    expect(profile?.nameID).toBe(objectGuidBase64('alice'));
  });

  it('a tampered Redirect request (another registered ACS; or only the RelayState changed) is refused: RequestDenied, no token', async () => {
    const before = tokensFor(signed.entityId);
    const url = await redirectUrlOf(signed, 'r1');
    const xml = decodeSaml(paramOf(url, 'SAMLRequest'));
    const id = val(parseXml(xml), '/samlp:AuthnRequest/@ID')!;
    const evil = xml.replace(`AssertionConsumerServiceURL="${signed.acs}"`, `AssertionConsumerServiceURL="${ACS2(signed)}"`);
    expect(evil).not.toBe(xml);
    expectSamlError(await withSession.get(replaceParam(url, 'SAMLRequest', deflate64(evil))), ACS2(signed), id, STATUS.requestDenied);
    expect(refusal(id)?.detail).toMatch(/query-string signature does not verify/);

    const url2 = await redirectUrlOf(signed, 'r2');
    const id2 = val(parseXml(decodeSaml(paramOf(url2, 'SAMLRequest'))), '/samlp:AuthnRequest/@ID')!;
    const r = expectSamlError(await withSession.get(replaceParam(url2, 'RelayState', 'r2-evil')), signed.acs, id2, STATUS.requestDenied);
    expect(r.fields.RelayState).toBe('r2-evil');
    expect(tokensFor(signed.entityId)).toBe(before);
  });

  it('a tampered POST request (signed, then its ACS changed to another registered one) is refused', async () => {
    const before = tokensFor(signed.entityId);
    const xml = decodeSaml((await postRequestOf(signed)).SAMLRequest);
    const id = val(parseXml(xml), '/samlp:AuthnRequest/@ID')!;
    const evil = xml.replace(`AssertionConsumerServiceURL="${signed.acs}"`, `AssertionConsumerServiceURL="${ACS2(signed)}"`);
    expect(evil).not.toBe(xml);
    expectSamlError(await withSession.post(`${gh.url}/adfs/ls/`, { SAMLRequest: base64(evil) }), ACS2(signed), id, STATUS.requestDenied);
    expect(refusal(id)?.detail).toMatch(/signature does not verify/);
    expect(tokensFor(signed.entityId)).toBe(before);
  });

  describe('XML signature wrapping (XSW, the class of samlify issue #634): an evil unsigned root around the signed original', () => {
    /** The signed original, its ID, and its ds:Signature element as text. */
    async function original() {
      const xml = decodeSaml((await postRequestOf(signed)).SAMLRequest).replace(/^<\?xml[^>]*\?>\s*/, '');
      const id = val(parseXml(xml), '/samlp:AuthnRequest/@ID')!;
      const sig = SIGNATURE.exec(xml)![0];
      return { xml, id, sig };
    }
    const evilRoot = (id: string, afterIssuer: string, extensions: string) =>
      `<samlp:AuthnRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ` +
      `ID="${id}" Version="2.0" IssueInstant="${new Date().toISOString()}" Destination="${gh.url}/adfs/ls/" ` +
      `AssertionConsumerServiceURL="${ACS2(signed)}" ProtocolBinding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST">` +
      `<saml:Issuer>${signed.entityId}</saml:Issuer>${afterIssuer}` +
      `<samlp:Extensions><x:Wrapper xmlns:x="urn:test:xsw">${extensions}</x:Wrapper></samlp:Extensions>` +
      '</samlp:AuthnRequest>';

    /** Refused as a SAML error to the evil root's (registered) ACS, or by the schema (xs:ID unique) with an error page. */
    async function expectWrappedRefused(xml: string, evilId: string, reason: RegExp, by: 'signature' | 'schema' = 'signature') {
      const before = tokensFor(signed.entityId);
      for (const SAMLRequest of [base64(xml), deflate64(xml)]) {
        const logged = gh.logs.length;
        const page = await withSession.post(`${gh.url}/adfs/ls/`, { SAMLRequest });
        if (by === 'signature') {
          expectSamlError(page, ACS2(signed), evilId, STATUS.requestDenied);
          expect(refusal(evilId)?.detail).toMatch(reason);
        } else {
          expectErrorPage(page, 400, /not valid/);
          expect(gh.logs.slice(logged).find((l) => l.code === 'GH_BAD_REQUEST')?.detail).toMatch(reason);
        }
      }
      expect(tokensFor(signed.entityId)).toBe(before);
    }

    it('the whole signed request moved inside Extensions (the signature is not the root\'s)', async () => {
      const o = await original();
      await expectWrappedRefused(evilRoot('_evil1', '', o.xml), '_evil1', /not a child of the root/);
    });

    it('the signature moved up to the evil root, still referencing the original inside Extensions', async () => {
      const o = await original();
      await expectWrappedRefused(evilRoot('_evil2', o.sig, o.xml.replace(o.sig, '')), '_evil2', /reference is not to the root/);
    });

    it('the evil root takes the original\'s ID (two elements with the signed ID)', async () => {
      const o = await original();
      // The schema's xs:ID uniqueness catches it before the signature check (which refuses it too: verifyRootSignature).
      const xml = evilRoot(o.id, o.sig, o.xml.replace(o.sig, ''));
      await expectWrappedRefused(xml, o.id, /not schema-valid.*(ID|unique)/, 'schema');
      // And the strict verifier refuses it on its own, should the schema ever let it through.
      expect(() => verifyRootSignature(xml, parseXmlSafely(xml), [new X509Certificate(signed.keys.certPem)])).toThrow(/ID is not unique/);
    });
  });

  it('an unsigned request from the SP that declares AuthnRequestsSigned is refused, over both bindings', async () => {
    const before = tokensFor(signed.entityId);
    const url = await redirectUrlOf(signed, '', { privateKey: undefined });
    expect(new URL(url).searchParams.has('Signature')).toBe(false);
    const id = val(parseXml(decodeSaml(paramOf(url, 'SAMLRequest'))), '/samlp:AuthnRequest/@ID')!;
    expectSamlError(await withSession.get(url), signed.acs, id, STATUS.requestDenied);
    expect(refusal(id)?.detail).toMatch(/unsigned message from an SP that must sign/);

    const xml = decodeSaml((await postRequestOf(signed)).SAMLRequest);
    const unsigned = xml.replace(SIGNATURE, '');
    const id2 = val(parseXml(unsigned), '/samlp:AuthnRequest/@ID')!;
    expectSamlError(await withSession.post(`${gh.url}/adfs/ls/`, { SAMLRequest: base64(unsigned) }), signed.acs, id2, STATUS.requestDenied);
    expect(tokensFor(signed.entityId)).toBe(before);
  });
});

describe('signature algorithms: SHA-1 only where the entry accepts it (acceptSha1Signatures)', () => {
  const SHA1 = { signatureAlgorithm: 'sha1', digestAlgorithm: 'sha1' };

  it('a request signed with RSA-SHA1 is refused, over both bindings, and the log names the key to set', async () => {
    const before = tokensFor(signed.entityId);
    const url = await redirectUrlOf(signed, 'r-sha1', SHA1);
    expect(paramOf(url, 'SigAlg')).toBe('http://www.w3.org/2000/09/xmldsig#rsa-sha1');
    const id = val(parseXml(decodeSaml(paramOf(url, 'SAMLRequest'))), '/samlp:AuthnRequest/@ID')!;
    expectSamlError(await withSession.get(url), signed.acs, id, STATUS.requestDenied);
    expect(refusal(id)?.detail).toMatch(/SigAlg http:\/\/www\.w3\.org\/2000\/09\/xmldsig#rsa-sha1 \(SHA-1\) not accepted .*acceptSha1Signatures: true/);

    const req = await postRequestOf(signed, 'p-sha1', SHA1);
    const xml = decodeSaml(req.SAMLRequest);
    expect(xml).toContain('xmldsig#rsa-sha1');
    const id2 = val(parseXml(xml), '/samlp:AuthnRequest/@ID')!;
    expectSamlError(await withSession.post(`${gh.url}/adfs/ls/`, { ...req }), signed.acs, id2, STATUS.requestDenied);
    expect(refusal(id2)?.detail).toMatch(/\(SHA-1\) not accepted from this relying party/);
    expect(tokensFor(signed.entityId)).toBe(before);
  });

  it('the same requests from an entry with acceptSha1Signatures: true sign alice in; SHA-256 still works there', async () => {
    for (const extra of [SHA1, {}]) {
      const url = await redirectUrlOf(legacy, 'r-legacy', extra);
      const { profile } = await legacy.saml.validatePostResponseAsync({ SAMLResponse: posted(await withSession.get(url)).b64 });
      expect(profile?.nameID).toBe(objectGuidBase64('alice'));
      const page = await withSession.post(`${gh.url}/adfs/ls/`, { ...(await postRequestOf(legacy, 'p-legacy', extra)) });
      expect((await legacy.saml.validatePostResponseAsync({ SAMLResponse: posted(page).b64 })).profile?.nameID).toBe(objectGuidBase64('alice'));
    }
  });
});

describe('where the response goes: only to an ACS the SP metadata registers', () => {
  const crafted = (attrs: string) =>
    `<samlp:AuthnRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ` +
    `ID="_crafted${Date.now()}" Version="2.0" IssueInstant="${new Date().toISOString()}" ${attrs}><saml:Issuer>${plain.entityId}</saml:Issuer></samlp:AuthnRequest>`;

  it('an unregistered ACS URL gets an error page, never a redirect or a token, even with a session', async () => {
    const before = tokensFor(plain.entityId);
    const url = await redirectUrlOf(plain, 'x', { callbackUrl: 'https://attacker.test.invalid/acs' });
    expect(decodeSaml(paramOf(url, 'SAMLRequest'))).toContain('AssertionConsumerServiceURL="https://attacker.test.invalid/acs"');
    for (const b of [withSession, new Browser()]) {
      const page = await b.get(url);
      expectErrorPage(page, 400, /answer address that is not registered/);
      expect(page.body).not.toContain('attacker.test.invalid');
    }
    const post = await withSession.post(`${gh.url}/adfs/ls/`, { SAMLRequest: base64(crafted('AssertionConsumerServiceURL="https://attacker.test.invalid/acs"')) });
    expectErrorPage(post, 400, /answer address that is not registered/);
    expect(tokensFor(plain.entityId)).toBe(before);
  });

  it('an unregistered ACS index gets an error page; a registered index is honoured', async () => {
    const before = tokensFor(plain.entityId);
    for (const b of [withSession, new Browser()]) {
      expectErrorPage(await b.post(`${gh.url}/adfs/ls/`, { SAMLRequest: base64(crafted('AssertionConsumerServiceIndex="7"')) }), 400, /not registered/);
      expectErrorPage(await b.get(`${gh.url}/adfs/ls/?SAMLRequest=${encodeURIComponent(deflate64(crafted('AssertionConsumerServiceIndex="7"')))}`), 400, /not registered/);
    }
    expect(tokensFor(plain.entityId)).toBe(before);
    const ok = posted(await withSession.post(`${gh.url}/adfs/ls/`, { SAMLRequest: base64(crafted('AssertionConsumerServiceIndex="2"')) }));
    expect(ok.action).toBe(ACS2(plain));
    expect(statusOf(ok.doc).code).toBe(STATUS.success);
  });

  it('a ProtocolBinding other than HTTP-POST gets an error page', async () => {
    const xml = crafted('ProtocolBinding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Artifact"');
    expectErrorPage(await withSession.post(`${gh.url}/adfs/ls/`, { SAMLRequest: base64(xml) }), 400, /not registered/);
  });
});

describe('what the request asks of the sign-in', () => {
  it('ForceAuthn asks for the password again although alice has a session', async () => {
    const b = new Browser();
    expect((await follow(gh, b, await b.get(await redirectUrlOf(plain)))).prompted).toBe(true);
    expect((await follow(gh, b, await b.get(await redirectUrlOf(plain)))).prompted).toBe(false);
    const asked = new Date();
    const url = await redirectUrlOf(plain, 'force', { forceAuthn: true });
    expect(decodeSaml(paramOf(url, 'SAMLRequest'))).toContain('ForceAuthn="true"');
    const { page, prompted } = await follow(gh, b, await b.get(url));
    expect(prompted).toBe(true);
    const r = posted(page);
    expect(r.fields.RelayState).toBe('force');
    const instant = new Date(val(r.doc, '//saml:AuthnStatement/@AuthnInstant')!);
    expect(instant.getTime()).toBeGreaterThanOrEqual(Math.floor(asked.getTime() / 1000) * 1000);
    await plain.saml.validatePostResponseAsync({ SAMLResponse: r.b64 });
  });

  it('IsPassive without a session answers NoPassive to the registered ACS; with a session it signs in', async () => {
    const url = await redirectUrlOf(plain, 'passive', { passive: true });
    const id = val(parseXml(decodeSaml(paramOf(url, 'SAMLRequest'))), '/samlp:AuthnRequest/@ID')!;
    const r = expectSamlError(await new Browser().get(url), plain.acs, id, STATUS.noPassive, STATUS.responder);
    expect(r.fields.RelayState).toBe('passive');
    // node-saml reads NoPassive as "not signed in": no profile.
    expect((await plain.saml.validatePostResponseAsync({ SAMLResponse: r.b64 })).profile).toBeNull();

    const ok = posted(await withSession.get(await redirectUrlOf(plain, '', { passive: true })));
    expect(statusOf(ok.doc).code).toBe(STATUS.success);
  });

  it('a NameIDPolicy Format the relying party does not issue answers InvalidNameIDPolicy; persistent is accepted', async () => {
    const url = await redirectUrlOf(plain, '', { identifierFormat: 'urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress' });
    const id = val(parseXml(decodeSaml(paramOf(url, 'SAMLRequest'))), '/samlp:AuthnRequest/@ID')!;
    expectSamlError(await withSession.get(url), plain.acs, id, STATUS.invalidNameIdPolicy);

    const ok = posted(await withSession.get(await redirectUrlOf(plain, '', { identifierFormat: PERSISTENT })));
    expect(val(ok.doc, '//saml:Subject/saml:NameID/@Format')).toBe(PERSISTENT);
  });
});

describe('messages that are refused before anything is read from them', () => {
  const xxe =
    '<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>';
  const messages = {
    AuthnRequest: (id: string) =>
      `<samlp:AuthnRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="${id}" Version="2.0" IssueInstant="${new Date().toISOString()}"><saml:Issuer>${plain.entityId}</saml:Issuer></samlp:AuthnRequest>`,
    LogoutRequest: (id: string) =>
      `<samlp:LogoutRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="${id}" Version="2.0" IssueInstant="${new Date().toISOString()}"><saml:Issuer>${plain.entityId}</saml:Issuer><saml:NameID>&x;</saml:NameID></samlp:LogoutRequest>`,
    LogoutResponse: (id: string) =>
      `<samlp:LogoutResponse xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="${id}" Version="2.0" IssueInstant="${new Date().toISOString()}"><saml:Issuer>${plain.entityId}</saml:Issuer><samlp:Status><samlp:StatusCode Value="${STATUS.success}"/></samlp:Status></samlp:LogoutResponse>`,
  };

  it('every SAML message with a DOCTYPE (AuthnRequest, LogoutRequest, LogoutResponse; Redirect and POST) gets an error page', async () => {
    for (const [kind, make] of Object.entries(messages)) {
      const param = kind === 'LogoutResponse' ? 'SAMLResponse' : 'SAMLRequest';
      for (const doctype of [xxe, '<!DOCTYPE samlp:AuthnRequest>']) {
        const xml = doctype + make(`_doctype${kind}`);
        const before = gh.logs.length;
        expectErrorPage(await withSession.get(`${gh.url}/adfs/ls/?${param}=${encodeURIComponent(deflate64(xml))}`), 400, /not valid/);
        expectErrorPage(await withSession.post(`${gh.url}/adfs/ls/`, { [param]: base64(xml) }), 400, /not valid/);
        // A LogoutResponse is refused as a sign-out message (GH_SAML_LOGOUT), the others as requests.
        const refused = gh.logs.slice(before).filter((l) => l.code === (kind === 'LogoutResponse' ? 'GH_SAML_LOGOUT' : 'GH_BAD_REQUEST'));
        expect(refused.map((l) => l.detail)).toEqual([expect.stringMatching(/refused: dtd/), expect.stringMatching(/refused: dtd/)]);
      }
    }
    // The session was not ended by a LogoutRequest that was refused.
    expect(posted(await withSession.get(await redirectUrlOf(plain))).action).toBe(plain.acs);
  });

  it('a schema-invalid AuthnRequest (an attribute SAML does not define) gets an error page', async () => {
    const xml = messages.AuthnRequest('_schema').replace('Version="2.0"', 'Version="2.0" AssertionConsumerServiceUrl="https://attacker.test.invalid/"');
    const before = gh.logs.length;
    expectErrorPage(await withSession.post(`${gh.url}/adfs/ls/`, { SAMLRequest: base64(xml) }), 400, /not valid/);
    expect(gh.logs.slice(before).find((l) => l.code === 'GH_BAD_REQUEST')?.detail).toMatch(/not schema-valid/);
  });
});

describe('a message that samlify reads otherwise than Gatehouse did before the signature check', () => {
  it('an Issuer split by a comment (the text-node truncation class) gets an error page, no token', async () => {
    const tokens = tokensFor(plain.entityId);
    const split = plain.entityId.replace(/^(.{8})/, '$1<!---->');
    const xml =
      `<samlp:AuthnRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="_split" Version="2.0" ` +
      `IssueInstant="${new Date().toISOString()}"><saml:Issuer>${split}</saml:Issuer></samlp:AuthnRequest>`;
    const before = gh.logs.length;
    expectErrorPage(await withSession.post(`${gh.url}/adfs/ls/`, { SAMLRequest: base64(xml) }), 400, /not valid/);
    expect(gh.logs.slice(before).find((l) => l.code === 'GH_BAD_REQUEST')?.detail).toMatch(/AuthnRequest issuer reads .* after the signature check/);
    expect(tokensFor(plain.entityId)).toBe(tokens);
  });
});
