import { SignedXml } from 'xml-crypto';
import { ALG } from '../constants.js';
import type { SigningKey } from '../keys/keystore.js';

export interface EnvelopedSignatureTarget {
  /** XPath of the element to sign and to append the signature to. */
  xpath: string;
  /** Name of the element's ID attribute (SAML 1.1: AssertionID, metadata and SAML 2.0: ID). */
  idAttribute: string;
  /** Where the signature goes inside the element: last child, or after a given child (SAML 2.0 Issuer). */
  location?: { reference: string; action: 'append' | 'after' | 'prepend' };
}

export const METADATA_ENTITY: EnvelopedSignatureTarget = {
  xpath: "/*[local-name(.)='EntityDescriptor' and namespace-uri(.)='urn:oasis:names:tc:SAML:2.0:metadata']",
  idAttribute: 'ID',
  // Metadata's schema wants ds:Signature as the first child of EntityDescriptor.
  location: { reference: "/*[local-name(.)='EntityDescriptor']", action: 'prepend' },
};

/**
 * Enveloped XML signature: RSA-SHA256 over SHA-256 digest, exclusive canonicalization, the signing
 * certificate in KeyInfo. The one place Gatehouse signs XML.
 */
export function signEnveloped(xml: string, key: SigningKey, target: EnvelopedSignatureTarget): string {
  const sig = new SignedXml({
    privateKey: key.privateKey,
    publicCert: key.certPem,
    signatureAlgorithm: ALG.rsaSha256,
    canonicalizationAlgorithm: ALG.excC14n,
    idAttribute: target.idAttribute,
  });
  sig.addReference({
    xpath: target.xpath,
    digestAlgorithm: ALG.sha256,
    transforms: [ALG.enveloped, ALG.excC14n],
  });
  sig.computeSignature(xml, {
    prefix: 'ds',
    location: target.location ?? { reference: target.xpath, action: 'append' },
  });
  return sig.getSignedXml();
}

/** SAML 2.0: ds:Signature goes right after saml:Issuer (saml-core 5.4.1; the schema's element order). */
function saml2Target(ns: string, localName: string): EnvelopedSignatureTarget {
  const xpath = `/*[local-name(.)='${localName}' and namespace-uri(.)='${ns}']`;
  return {
    xpath,
    idAttribute: 'ID',
    location: { reference: `${xpath}/*[local-name(.)='Issuer' and namespace-uri(.)='urn:oasis:names:tc:SAML:2.0:assertion']`, action: 'after' },
  };
}

export const SAML20_ASSERTION = saml2Target('urn:oasis:names:tc:SAML:2.0:assertion', 'Assertion');
/** A samlp:Response, LogoutRequest or LogoutResponse: the root protocol message. */
export const saml20Message = (localName: 'Response' | 'LogoutRequest' | 'LogoutResponse'): EnvelopedSignatureTarget =>
  saml2Target('urn:oasis:names:tc:SAML:2.0:protocol', localName);
