import { randomBytes } from 'node:crypto';

/** The protocol-neutral token model every serializer (SAML 1.1 now, SAML 2.0 later) fills from. */
export interface AssertionSubject {
  nameId: string;
  format?: string;
}

/** One released claim, protocol-neutral: each serializer writes it in its own form. */
export interface AssertionAttribute {
  /**
   * Claim type, a full URI (http://schemas.xmlsoap.org/claims/UPN). SAML 1.1 splits it at the last '/'
   * into AttributeNamespace and AttributeName; SAML 2.0 uses it as the Attribute Name unless `name` is set.
   */
  type: string;
  /** Never empty: a claim without values is not released. */
  values: string[];
  /** SAML 2.0 Attribute Name when it is not the claim type (Microsoft 365's IDPEmail, urn:oid:… names). */
  name?: string;
  /** SAML 2.0 Attribute NameFormat; unset means the serializer's default. */
  nameFormat?: string;
}

/**
 * SAML 1.1's two halves of a claim type: split at the last '/', as ADFS does
 * (http://schemas.xmlsoap.org/claims + UPN). A type without '/' (a URN) is split at its last ':'.
 */
export function saml11AttributeName(type: string): { namespace: string; name: string } {
  const cut = type.lastIndexOf('/') > 0 ? type.lastIndexOf('/') : type.lastIndexOf(':');
  return { namespace: type.slice(0, cut), name: type.slice(cut + 1) };
}

export interface Assertion {
  id: string;
  issuer: string;
  issueInstant: Date;
  notBefore: Date;
  notOnOrAfter: Date;
  audience: string;
  subject: AssertionSubject;
  authn: { method: string; instant: Date };
  attributes: AssertionAttribute[];
}

/** An XML ID (NCName): "_" + 128 random bits in hex. */
export function newAssertionId(): string {
  return '_' + randomBytes(16).toString('hex');
}

/** xs:dateTime in UTC with milliseconds, as ADFS writes it. */
export function xmlTime(d: Date): string {
  return d.toISOString();
}
