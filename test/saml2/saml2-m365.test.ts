// Microsoft 365 (Entra ID) over SAML 2.0, field by field as Microsoft documents it for third-party SAML 2.0
// IdPs (how-to-connect-fed-saml-idp; the shared reference microsoft365-federation.md §2): the
// AuthnRequest Entra sends by HTTP-POST, and the Response it requires at login.srf. Against the Samba DC.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Browser } from '../support/http.js';
import { objectGuidBase64, USERS } from '../support/directory.js';
import { startGatehouse, testKeys, type RunningGatehouse } from '../support/gatehouse.js';
import { xmlsecVerify } from '../support/xml.js';
import { assertionXml, base64, count, follow, PERSISTENT, posted, SAML2_ASSERTION_ID, STATUS, statusOf, val } from './support.js';

const M365 = 'urn:federation:MicrosoftOnline';
const LOGIN_SRF = 'https://login.microsoftonline.com/login.srf';
let gh: RunningGatehouse;

beforeAll(async () => {
  gh = await startGatehouse((cfg) => {
    // All an admin writes: the built-in Microsoft 365 relying party, switched to SAML 2.0.
    cfg.relyingParties.push({ id: M365, protocol: 'saml2' });
  });
});
afterAll(async () => gh?.close());

/** The AuthnRequest of Microsoft's documentation (default namespace = metadata, unprefixed Issuer, ACS index 0). */
const microsoftAuthnRequest = (id: string) =>
  '<samlp:AuthnRequest xmlns="urn:oasis:names:tc:SAML:2.0:metadata" ' +
  `ID="${id}" IssueInstant="${new Date().toISOString().replace(/\.\d+Z$/, 'Z')}" Version="2.0" AssertionConsumerServiceIndex="0" ` +
  'xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol">' +
  `<Issuer xmlns="urn:oasis:names:tc:SAML:2.0:assertion">${M365}</Issuer>` +
  `<samlp:NameIDPolicy Format="${PERSISTENT}"/>` +
  '</samlp:AuthnRequest>';

describe('Microsoft 365 over SAML 2.0 (preferredAuthenticationProtocol saml)', () => {
  it('answers Entra\'s POSTed AuthnRequest with the Response Microsoft documents', async () => {
    const b = new Browser();
    const id = `_${crypto.randomUUID()}`;
    const started = Date.now();
    const { page, prompted } = await follow(gh, b, await b.post(`${gh.url}/adfs/ls/`, { SAMLRequest: base64(microsoftAuthnRequest(id)), RelayState: 'ms-relay' }));
    expect(prompted).toBe(true);
    const r = posted(page);
    const d = r.doc;
    const A = '/samlp:Response/saml:Assertion';

    // The form posts to login.srf (HTTP-POST is the only binding Entra takes the token by).
    expect(r.action).toBe(LOGIN_SRF);
    expect(r.fields.RelayState).toBe('ms-relay');
    // samlp:Response: Destination, InResponseTo, Status Success.
    expect(val(d, '/samlp:Response/@Destination')).toBe(LOGIN_SRF);
    expect(val(d, '/samlp:Response/@InResponseTo')).toBe(id);
    expect(val(d, '/samlp:Response/@Version')).toBe('2.0');
    expect(statusOf(d)).toEqual({ code: STATUS.success, subCode: undefined });
    expect(count(d, A)).toBe(1);
    // Assertion Issuer = the configured issuer (Graph's issuerUri).
    expect(val(d, `${A}/saml:Issuer`)).toBe(gh.config.issuer);
    // NameID: persistent, the ImmutableID (base64 objectGUID, read here with ldapsearch).
    expect(val(d, `${A}/saml:Subject/saml:NameID/@Format`)).toBe(PERSISTENT);
    expect(val(d, `${A}/saml:Subject/saml:NameID`)).toBe(objectGuidBase64('alice'));
    // SubjectConfirmation: bearer, Recipient login.srf, NotOnOrAfter in the future, InResponseTo.
    const scd = `${A}/saml:Subject/saml:SubjectConfirmation[@Method="urn:oasis:names:tc:SAML:2.0:cm:bearer"]/saml:SubjectConfirmationData`;
    expect(val(d, `${scd}/@Recipient`)).toBe(LOGIN_SRF);
    expect(val(d, `${scd}/@InResponseTo`)).toBe(id);
    const notOnOrAfter = Date.parse(val(d, `${scd}/@NotOnOrAfter`)!);
    expect(notOnOrAfter).toBeGreaterThan(started);
    expect(notOnOrAfter).toBeLessThanOrEqual(Date.now() + 24 * 3600_000);
    // Conditions: AudienceRestriction urn:federation:MicrosoftOnline.
    expect(val(d, `${A}/saml:Conditions/saml:AudienceRestriction/saml:Audience`)).toBe(M365);
    // Attribute IDPEmail = UPN.
    expect(val(d, `${A}/saml:AttributeStatement/saml:Attribute[@Name="IDPEmail"]/saml:AttributeValue`)).toBe(USERS.alice.upn);
    // AuthnStatement: PasswordProtectedTransport and a SessionIndex.
    expect(val(d, `${A}/saml:AuthnStatement/saml:AuthnContext/saml:AuthnContextClassRef`)).toBe('urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport');
    expect(val(d, `${A}/saml:AuthnStatement/@SessionIndex`)).toMatch(/^_[0-9a-f]{32}$/);
    // The assertion itself is signed: RSA-SHA256, exclusive c14n, enveloped; a reference to the assertion's ID.
    const sig = `${A}/ds:Signature/ds:SignedInfo`;
    expect(val(d, `${sig}/ds:SignatureMethod/@Algorithm`)).toBe('http://www.w3.org/2001/04/xmldsig-more#rsa-sha256');
    expect(val(d, `${sig}/ds:CanonicalizationMethod/@Algorithm`)).toBe('http://www.w3.org/2001/10/xml-exc-c14n#');
    expect(val(d, `${sig}/ds:Reference/@URI`)).toBe(`#${val(d, `${A}/@ID`)}`);
    expect([1, 2].map((i) => val(d, `${sig}/ds:Reference/ds:Transforms/ds:Transform[${i}]/@Algorithm`))).toEqual([
      'http://www.w3.org/2000/09/xmldsig#enveloped-signature',
      'http://www.w3.org/2001/10/xml-exc-c14n#',
    ]);
    expect(val(d, `${sig}/ds:Reference/ds:DigestMethod/@Algorithm`)).toBe('http://www.w3.org/2001/04/xmlenc#sha256');
    // Verified by xmlsec1 with the signing certificate that tenant-setup gives Entra, in the Response and alone.
    const v = xmlsecVerify(r.xml, testKeys().certPem, SAML2_ASSERTION_ID);
    expect(v.ok, v.output).toBe(true);
    expect(xmlsecVerify(assertionXml(r.xml), testKeys().certPem, SAML2_ASSERTION_ID).ok).toBe(true);
    // Not encrypted (Entra publishes no encryption key here) and no Response signature unless asked for.
    expect(count(d, '/samlp:Response/saml:EncryptedAssertion')).toBe(0);
    expect(count(d, '/samlp:Response/ds:Signature')).toBe(0);
  });

  it('with a Gatehouse session, the next AuthnRequest is answered at once', async () => {
    const b = new Browser();
    await follow(gh, b, await b.post(`${gh.url}/adfs/ls/`, { SAMLRequest: base64(microsoftAuthnRequest('_first')) }));
    const again = await b.post(`${gh.url}/adfs/ls/`, { SAMLRequest: base64(microsoftAuthnRequest('_second')) });
    const r = posted(again);
    expect(r.action).toBe(LOGIN_SRF);
    expect(val(r.doc, '/samlp:Response/@InResponseTo')).toBe('_second');
  });
});
