import { createHash } from 'node:crypto';
import { SAML2, SAML2_STATUS } from '../constants.js';
import { escapeAttr as a, escapeText as t } from '../xml/escape.js';
import { newAssertionId, xmlTime, type Assertion, type AssertionAttribute } from './assertion.js';

/** What SAML 2.0 Web Browser SSO adds to the protocol-neutral assertion (saml-profiles 4.1.4.2). */
export interface Saml2Delivery {
  /** The AuthnRequest's ID; absent for an IdP-initiated (unsolicited) response. */
  inResponseTo?: string | undefined;
  /** The ACS URL the response is posted to (Recipient and Destination). */
  recipient: string;
  /** Identifies the Gatehouse session at this SP, for single logout. */
  sessionIndex: string;
  /** End of the session at the SP (the Gatehouse session's end). */
  sessionNotOnOrAfter?: Date | undefined;
}

/** The AuthnStatement SessionIndex of a Gatehouse session: derived, so the cookie's sid is not repeated. */
export function sessionIndexOf(sid: string): string {
  return '_' + createHash('sha256').update(`saml2 session index ${sid}`).digest('hex').slice(0, 32);
}

/**
 * SAML 2.0's naming of a claim (the SAML 1.1 serializer splits the claim type instead): Name is the
 * attribute's SAML 2.0 name when the release gave one (Microsoft 365's IDPEmail), else the claim type;
 * NameFormat is uri for a URI name, unspecified for a bare name, unless the release set one.
 */
export function saml2AttributeName(at: AssertionAttribute): { name: string; nameFormat: string } {
  const name = at.name ?? at.type;
  const isUri = /^[a-z][a-z0-9+.-]*:/i.test(name);
  return { name, nameFormat: at.nameFormat ?? (isUri ? SAML2.attrNameUri : SAML2.attrNameUnspecified) };
}

function attributeXml(at: AssertionAttribute): string {
  const { name, nameFormat } = saml2AttributeName(at);
  return (
    `<saml:Attribute Name="${a(name)}" NameFormat="${a(nameFormat)}">` +
    at.values.map((v) => `<saml:AttributeValue>${t(v)}</saml:AttributeValue>`).join('') +
    '</saml:Attribute>'
  );
}

/**
 * An unsigned SAML 2.0 assertion, elements in schema order (Issuer, [Signature], Subject, Conditions,
 * AuthnStatement, AttributeStatement). No whitespace between elements, so what is signed is what is sent.
 * The signature goes after Issuer (sign.ts SAML20_ASSERTION).
 */
export function serializeSaml20Assertion(x: Assertion, d: Saml2Delivery): string {
  const attrs = x.attributes.filter((at) => at.values.length > 0);
  const subject =
    '<saml:Subject>' +
    `<saml:NameID${x.subject.format ? ` Format="${a(x.subject.format)}"` : ''}>${t(x.subject.nameId)}</saml:NameID>` +
    `<saml:SubjectConfirmation Method="${SAML2.bearer}">` +
    `<saml:SubjectConfirmationData${d.inResponseTo ? ` InResponseTo="${a(d.inResponseTo)}"` : ''} NotOnOrAfter="${xmlTime(x.notOnOrAfter)}" Recipient="${a(d.recipient)}"/>` +
    '</saml:SubjectConfirmation>' +
    '</saml:Subject>';
  return (
    `<saml:Assertion xmlns:saml="${SAML2.assertion}" ID="${a(x.id)}" Version="2.0" IssueInstant="${xmlTime(x.issueInstant)}">` +
    `<saml:Issuer>${t(x.issuer)}</saml:Issuer>` +
    subject +
    `<saml:Conditions NotBefore="${xmlTime(x.notBefore)}" NotOnOrAfter="${xmlTime(x.notOnOrAfter)}">` +
    `<saml:AudienceRestriction><saml:Audience>${t(x.audience)}</saml:Audience></saml:AudienceRestriction>` +
    '</saml:Conditions>' +
    `<saml:AuthnStatement AuthnInstant="${xmlTime(x.authn.instant)}" SessionIndex="${a(d.sessionIndex)}"` +
    `${d.sessionNotOnOrAfter ? ` SessionNotOnOrAfter="${xmlTime(d.sessionNotOnOrAfter)}"` : ''}>` +
    `<saml:AuthnContext><saml:AuthnContextClassRef>${t(x.authn.method)}</saml:AuthnContextClassRef></saml:AuthnContext>` +
    '</saml:AuthnStatement>' +
    (attrs.length ? `<saml:AttributeStatement>${attrs.map(attributeXml).join('')}</saml:AttributeStatement>` : '') +
    '</saml:Assertion>'
  );
}

export interface Saml2Status {
  /** Top-level code (Success, Requester, Responder). */
  code: string;
  /** Second-level code (NoPassive, InvalidNameIDPolicy, ...). */
  subCode?: string | undefined;
  message?: string | undefined;
}

function statusXml(s: Saml2Status): string {
  return (
    '<samlp:Status>' +
    `<samlp:StatusCode Value="${a(s.code)}">${s.subCode ? `<samlp:StatusCode Value="${a(s.subCode)}"/>` : ''}</samlp:StatusCode>` +
    (s.message ? `<samlp:StatusMessage>${t(s.message)}</samlp:StatusMessage>` : '') +
    '</samlp:Status>'
  );
}

const SUCCESS: Saml2Status = { code: SAML2_STATUS.success };

/**
 * A samlp:Response around an already signed (or encrypted) assertion, or with an error status and no
 * assertion. Signed afterwards when the relying party asks (sign.ts saml20Message('Response')).
 */
export function serializeSaml20Response(opts: {
  issuer: string;
  destination: string;
  inResponseTo?: string | undefined;
  status?: Saml2Status;
  /** Signed saml:Assertion or saml:EncryptedAssertion XML. */
  assertionXml?: string;
  now?: Date;
}): string {
  return (
    `<samlp:Response xmlns:samlp="${SAML2.protocol}" xmlns:saml="${SAML2.assertion}" ID="${newAssertionId()}" Version="2.0" ` +
    `IssueInstant="${xmlTime(opts.now ?? new Date())}" Destination="${a(opts.destination)}"` +
    `${opts.inResponseTo ? ` InResponseTo="${a(opts.inResponseTo)}"` : ''}>` +
    `<saml:Issuer>${t(opts.issuer)}</saml:Issuer>` +
    statusXml(opts.status ?? SUCCESS) +
    (opts.assertionXml ?? '') +
    '</samlp:Response>'
  );
}

/** samlp:LogoutRequest from the IdP to an SP (saml-core 3.7.1). */
export function serializeSaml20LogoutRequest(opts: {
  id: string;
  issuer: string;
  destination: string;
  nameId: string;
  nameIdFormat?: string | undefined;
  sessionIndex: string;
  notOnOrAfter: Date;
  now?: Date;
}): string {
  return (
    `<samlp:LogoutRequest xmlns:samlp="${SAML2.protocol}" xmlns:saml="${SAML2.assertion}" ID="${a(opts.id)}" Version="2.0" ` +
    `IssueInstant="${xmlTime(opts.now ?? new Date())}" Destination="${a(opts.destination)}" NotOnOrAfter="${xmlTime(opts.notOnOrAfter)}" ` +
    `Reason="${SAML2.logoutUser}">` +
    `<saml:Issuer>${t(opts.issuer)}</saml:Issuer>` +
    `<saml:NameID${opts.nameIdFormat ? ` Format="${a(opts.nameIdFormat)}"` : ''}>${t(opts.nameId)}</saml:NameID>` +
    `<samlp:SessionIndex>${t(opts.sessionIndex)}</samlp:SessionIndex>` +
    '</samlp:LogoutRequest>'
  );
}

/** samlp:LogoutResponse from the IdP to the SP that asked for the logout (saml-core 3.7.2). */
export function serializeSaml20LogoutResponse(opts: {
  issuer: string;
  destination: string;
  inResponseTo: string;
  status?: Saml2Status;
  now?: Date;
}): string {
  return (
    `<samlp:LogoutResponse xmlns:samlp="${SAML2.protocol}" xmlns:saml="${SAML2.assertion}" ID="${newAssertionId()}" Version="2.0" ` +
    `IssueInstant="${xmlTime(opts.now ?? new Date())}" Destination="${a(opts.destination)}" InResponseTo="${a(opts.inResponseTo)}">` +
    `<saml:Issuer>${t(opts.issuer)}</saml:Issuer>` +
    statusXml(opts.status ?? SUCCESS) +
    '</samlp:LogoutResponse>'
  );
}
