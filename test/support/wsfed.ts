import { expect } from 'vitest';
import { certificatePem, parseXml, xpathReader } from './xml.js';

/** XPath over WS-Federation, WS-Trust 2005 and SAML 1.1 (`saml`), and metadata. */
const reader = xpathReader({
  t: 'http://schemas.xmlsoap.org/ws/2005/02/trust',
  saml: 'urn:oasis:names:tc:SAML:1.0:assertion',
  wsu: 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd',
  wsp: 'http://schemas.xmlsoap.org/ws/2004/09/policy',
  wsa: 'http://www.w3.org/2005/08/addressing',
  ds: 'http://www.w3.org/2000/09/xmldsig#',
  md: 'urn:oasis:names:tc:SAML:2.0:metadata',
  fed: 'http://docs.oasis-open.org/wsfed/federation/200706',
});

export const { value, count } = reader;

/** The claims of a SAML 1.1 assertion, keyed by AttributeNamespace/AttributeName. */
export function attributes(doc: Node): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const a of reader.nodes<Element>(doc, '//saml:Assertion/saml:AttributeStatement/saml:Attribute')) {
    const key = `${a.getAttribute('AttributeNamespace')}/${a.getAttribute('AttributeName')}`;
    out[key] = reader.nodes(a, 'saml:AttributeValue').map((v) => v.textContent ?? '');
  }
  return out;
}

/** The (first) signing certificate the federation metadata publishes, as PEM: what a relying party trusts. */
export async function metadataSigningCert(baseUrl: string): Promise<string> {
  const md = await (await fetch(`${baseUrl}/FederationMetadata/2007-06/FederationMetadata.xml`)).text();
  return certificatePem(value(parseXml(md), '//md:KeyDescriptor[@use="signing"]//ds:X509Certificate')!);
}

/**
 * The subject and claims Microsoft 365 expects in a SAML 1.1 assertion (WS-Federation and WS-Trust issue the
 * same): the ImmutableID as NameIdentifier with bearer confirmation in both statements, UPN and ImmutableID
 * claims. `read` evaluates an XPath on the response (each suite knows its namespaces).
 */
export function expectMicrosoft365Subject(read: (path: string) => string | undefined, doc: Node, assertion: string, upn: string, immutableId: string): void {
  for (const stmt of ['saml:AttributeStatement', 'saml:AuthenticationStatement']) {
    expect(read(`${assertion}/${stmt}/saml:Subject/saml:NameIdentifier`)).toBe(immutableId);
    expect(read(`${assertion}/${stmt}/saml:Subject/saml:SubjectConfirmation/saml:ConfirmationMethod`)).toBe('urn:oasis:names:tc:SAML:1.0:cm:bearer');
  }
  const { [AUTHN_INSTANT]: instant, ...rest } = attributes(doc);
  expect(rest).toEqual({
    'http://schemas.xmlsoap.org/claims/UPN': [upn],
    'http://schemas.microsoft.com/LiveID/Federation/2008/05/ImmutableID': [immutableId],
    // Not decided without network.corporate ranges: outside.
    [INSIDE_CORPORATE_NETWORK]: ['false'],
  });
  // The claim and the statement name the same instant (when the password was typed).
  expect(instant).toHaveLength(1);
  expect(new Date(instant![0]!).getTime()).toBe(new Date(read(`${assertion}/saml:AuthenticationStatement/@AuthenticationInstant`)!).getTime());
}

export const INSIDE_CORPORATE_NETWORK = 'http://schemas.microsoft.com/ws/2012/01/insidecorporatenetwork';
export const PSSO = 'http://schemas.microsoft.com/2014/03/psso';
export const AUTHN_INSTANT = 'http://schemas.microsoft.com/ws/2008/06/identity/claims/authenticationinstant';
