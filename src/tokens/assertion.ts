import { randomBytes } from 'node:crypto';

/** The protocol-neutral token model every serializer (SAML 1.1 now, SAML 2.0 later) fills from. */
export interface AssertionSubject {
  nameId: string;
  format?: string;
}

export interface AssertionAttribute {
  /** SAML 1.1 AttributeNamespace; the claim type is namespace + '/' + name. */
  namespace: string;
  name: string;
  values: string[];
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
