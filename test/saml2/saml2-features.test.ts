// What a relying party's configuration turns on, seen by @node-saml/node-saml and xmlsec1: IdP-initiated
// sign-on, assertion encryption, a signed Response, and SP metadata fetched from a URL (refused when a
// pinned signature fails). Against the Samba DC, with alice.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SignedXml } from 'xml-crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Browser } from '../support/http.js';
import { objectGuidBase64 } from '../support/directory.js';
import { startGatehouse, testKeys, type RunningGatehouse } from '../support/gatehouse.js';
import { xmlsecVerify } from '../support/xml.js';
import { createSelfSignedCertificate } from '../../src/keys/generate.js';
import { makeSp, type TestSp } from './sp.js';
import { assertionXml, count, expectErrorPage, follow, posted, redirectUrlOf, SAML2_ASSERTION_ID, SAML2_RESPONSE_ID, val } from './support.js';

let gh: RunningGatehouse;
let wiki: TestSp; // idpInitiated
let hidden: TestSp; // not idpInitiated
let sealed: TestSp; // encryption key in its metadata
let signedResponse: TestSp; // signResponse: true
const remote: Record<'open' | 'pinned' | 'wrongKey' | 'tampered' | 'unsigned', TestSp> = {} as never;
let server: Server;
const served = new Map<string, string>();
const hits = new Map<string, number>();
const idpCert = () => testKeys().certPem;

/** The SP signs its metadata (enveloped, exc-c14n, RSA-SHA256; the signature first, as the schema wants). */
function signMetadata(xml: string, keyPem: string): string {
  const sig = new SignedXml({
    privateKey: keyPem,
    signatureAlgorithm: 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256',
    canonicalizationAlgorithm: 'http://www.w3.org/2001/10/xml-exc-c14n#',
  });
  sig.addReference({
    xpath: "/*[local-name(.)='EntityDescriptor']",
    digestAlgorithm: 'http://www.w3.org/2001/04/xmlenc#sha256',
    transforms: ['http://www.w3.org/2000/09/xmldsig#enveloped-signature', 'http://www.w3.org/2001/10/xml-exc-c14n#'],
  });
  sig.computeSignature(xml.replace(/^<\?xml[^>]*\?>\s*/, ''), { prefix: 'ds', location: { reference: "/*[local-name(.)='EntityDescriptor']", action: 'prepend' } });
  return sig.getSignedXml();
}

beforeAll(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'saml2-features-'));
  const placeholder = 'http://placeholder/adfs/ls/';
  wiki = makeSp(dir, 'wiki', idpCert(), placeholder, { validateInResponseTo: 'never' as never });
  hidden = makeSp(dir, 'hidden', idpCert(), placeholder);
  sealed = makeSp(dir, 'sealed', idpCert(), placeholder, { encrypt: true });
  signedResponse = makeSp(dir, 'signedresponse', idpCert(), placeholder, { wantAuthnResponseSigned: true });
  for (const k of Object.keys({ open: 1, pinned: 1, wrongKey: 1, tampered: 1, unsigned: 1 }) as (keyof typeof remote)[]) {
    remote[k] = makeSp(dir, `remote-${k.toLowerCase()}`, idpCert(), placeholder);
  }

  // The metadata server: one path per SP, as each SP would publish it.
  const spKey = remote.pinned.keys;
  const other = createSelfSignedCertificate({ commonName: 'someone-else', bits: 2048, days: 30 });
  const md = (sp: TestSp) => readFileSync(sp.metadataFile, 'utf8');
  served.set('/open', md(remote.open));
  served.set('/pinned', signMetadata(md(remote.pinned), spKey.keyPem));
  served.set('/wrongKey', signMetadata(md(remote.wrongKey), other.keyPem));
  served.set('/tampered', signMetadata(md(remote.tampered), spKey.keyPem).replace(remote.tampered.acs, 'https://attacker.test.invalid/acs'));
  served.set('/unsigned', md(remote.unsigned));
  server = createServer((req, res) => {
    hits.set(req.url!, (hits.get(req.url!) ?? 0) + 1);
    const body = served.get(req.url!);
    res.writeHead(body ? 200 : 404, { 'content-type': 'application/samlmetadata+xml' }).end(body ?? '');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  const pin = join(dir, 'sp-signing.pem');
  writeFileSync(pin, spKey.certPem);

  gh = await startGatehouse((cfg) => {
    cfg.relyingParties.push({ id: wiki.entityId, name: 'Wiki', protocol: 'saml2', metadataFile: wiki.metadataFile, idpInitiated: true });
    cfg.relyingParties.push({ id: hidden.entityId, name: 'Hidden app', protocol: 'saml2', metadataFile: hidden.metadataFile });
    cfg.relyingParties.push({ id: sealed.entityId, name: 'Sealed', protocol: 'saml2', metadataFile: sealed.metadataFile });
    cfg.relyingParties.push({ id: signedResponse.entityId, name: 'Signed response', protocol: 'saml2', metadataFile: signedResponse.metadataFile, signResponse: true });
    cfg.relyingParties.push({ id: remote.open.entityId, protocol: 'saml2', metadataUrl: `${base}/open` });
    for (const k of ['pinned', 'wrongKey', 'tampered', 'unsigned'] as const) {
      cfg.relyingParties.push({ id: remote[k].entityId, protocol: 'saml2', metadataUrl: `${base}/${k}`, metadataSigningCertFile: pin });
    }
  });
  for (const sp of [wiki, hidden, sealed, signedResponse, ...Object.values(remote)]) {
    sp.saml.options.entryPoint = `${gh.url}/adfs/ls/`;
    sp.saml.options.logoutUrl = `${gh.url}/adfs/ls/`;
  }
});
afterAll(async () => {
  await gh?.close();
  server?.close();
});

describe('IdP-initiated sign-on at /adfs/ls/idpinitiatedsignon', () => {
  it('lists only the relying parties marked idpInitiated, and signs alice into one (unsolicited Response, RelayState echoed)', async () => {
    const b = new Browser();
    const list = await b.get(`${gh.url}/adfs/ls/idpinitiatedsignon`);
    expect(list.status).toBe(200);
    expect(list.body).toContain('Wiki');
    for (const other of ['Hidden app', 'Sealed', 'Signed response', 'Test RP', remote.open.entityId]) expect(list.body).not.toContain(other);
    const href = /href="([^"]*loginToRp=[^"]*)"/.exec(list.body)![1]!.replace(/&amp;/g, '&');
    expect(new URL(href, gh.url).searchParams.get('loginToRp')).toBe(wiki.entityId);

    const { page, prompted } = await follow(gh, b, await b.get(new URL(`${href}&RelayState=${encodeURIComponent('/wiki/Start')}`, gh.url).toString()));
    expect(prompted).toBe(true);
    const r = posted(page);
    expect(r.action).toBe(wiki.acs);
    expect(r.fields.RelayState).toBe('/wiki/Start');
    expect(val(r.doc, '/samlp:Response/@InResponseTo')).toBeUndefined();
    expect(val(r.doc, '//saml:SubjectConfirmationData/@InResponseTo')).toBeUndefined();
    const { profile } = await wiki.saml.validatePostResponseAsync({ SAMLResponse: r.b64 });
    expect(profile?.nameID).toBe(objectGuidBase64('alice'));
    expect(xmlsecVerify(r.xml, idpCert(), SAML2_ASSERTION_ID).ok).toBe(true);
  });

  it('refuses a relying party that is not marked idpInitiated (error page, no token)', async () => {
    const b = new Browser();
    expectErrorPage(await b.get(`${gh.url}/adfs/ls/idpinitiatedsignon?loginToRp=${encodeURIComponent(hidden.entityId)}`), 400, /not registered/);
  });
});

describe('assertion encryption and a signed Response', () => {
  it('encrypts the signed assertion to the key in the SP metadata (AES-256-GCM, RSA-OAEP); node-saml decrypts it', async () => {
    const b = new Browser();
    const r = posted((await follow(gh, b, await b.get(await redirectUrlOf(sealed)))).page);
    expect(count(r.doc, '/samlp:Response/saml:Assertion')).toBe(0);
    expect(count(r.doc, '/samlp:Response/saml:EncryptedAssertion')).toBe(1);
    expect(r.xml).not.toContain(objectGuidBase64('alice'));
    expect(val(r.doc, '//saml:EncryptedAssertion/*[local-name()="EncryptedData"]/*[local-name()="EncryptionMethod"]/@Algorithm')).toBe('http://www.w3.org/2009/xmlenc11#aes256-gcm');
    const { profile } = await sealed.saml.validatePostResponseAsync({ SAMLResponse: r.b64 });
    expect(profile?.nameID).toBe(objectGuidBase64('alice'));
  });

  it('signResponse: the Response and the assertion are both signed, and both verify with xmlsec1 and node-saml', async () => {
    const b = new Browser();
    const r = posted((await follow(gh, b, await b.get(await redirectUrlOf(signedResponse, 'sr')))).page);
    expect(r.fields.RelayState).toBe('sr');
    expect(count(r.doc, '/samlp:Response/ds:Signature')).toBe(1);
    expect(count(r.doc, '/samlp:Response/saml:Assertion/ds:Signature')).toBe(1);
    expect(val(r.doc, '/samlp:Response/ds:Signature/ds:SignedInfo/ds:SignatureMethod/@Algorithm')).toBe('http://www.w3.org/2001/04/xmldsig-more#rsa-sha256');
    const response = xmlsecVerify(r.xml, idpCert(), SAML2_RESPONSE_ID);
    expect(response.ok, response.output).toBe(true);
    const assertion = xmlsecVerify(assertionXml(r.xml), idpCert(), SAML2_ASSERTION_ID);
    expect(assertion.ok, assertion.output).toBe(true);
    // A changed Response no longer verifies (the check is not vacuous).
    expect(xmlsecVerify(r.xml.replace(signedResponse.acs, `${signedResponse.acs}x`), idpCert(), SAML2_RESPONSE_ID).ok).toBe(false);
    const { profile } = await signedResponse.saml.validatePostResponseAsync({ SAMLResponse: r.b64 });
    expect(profile?.nameID).toBe(objectGuidBase64('alice'));
  });
});

describe('SP metadata from a URL', () => {
  it('is fetched at start; pinned metadata whose signature verifies is used', async () => {
    expect(hits.get('/open')).toBe(1);
    expect(hits.get('/pinned')).toBe(1);
    for (const sp of [remote.open, remote.pinned]) {
      const page = await new Browser().get(await redirectUrlOf(sp));
      expect(page.status).toBe(303);
      expect(gh.logs.some((l) => l.event === 'sp_metadata_loaded' && l.rp === sp.entityId)).toBe(true);
    }
  });

  it('is refused when a certificate is pinned and the signature fails (another key, tampered, unsigned): the SP gets no sign-in', async () => {
    for (const [k, reason] of [
      ['wrongKey', /signature refused: signature does not verify/],
      ['tampered', /signature refused: signature does not verify/],
      ['unsigned', /signature refused: expected exactly one ds:Signature, found 0/],
    ] as const) {
      const sp = remote[k];
      expect(hits.get(`/${k}`)).toBe(1);
      expect(gh.logs.find((l) => l.event === 'sp_metadata_failed' && l.rp === sp.entityId)?.reason).toMatch(reason);
      expectErrorPage(await new Browser().get(await redirectUrlOf(sp)), 503, /metadata is unavailable/);
    }
  });

  it('a refresh that fails keeps the last good metadata', async () => {
    served.set('/pinned', served.get('/pinned')!.replace(remote.pinned.acs, 'https://attacker.test.invalid/acs'));
    const rp = gh.app.gatehouse.relyingParties.get(remote.pinned.entityId);
    await gh.app.gatehouse.relyingParties.refresh(rp, false);
    expect(hits.get('/pinned')).toBe(2);
    expect(gh.logs.filter((l) => l.event === 'sp_metadata_failed' && l.rp === remote.pinned.entityId)).toHaveLength(1);
    expect(gh.app.gatehouse.relyingParties.saml(remote.pinned.entityId).sp.acs.map((a) => a.location)).toEqual([remote.pinned.acs]);
  });
});
