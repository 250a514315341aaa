// Which signature algorithms an SP may use on the HTTP-Redirect binding: SHA-256 and SHA-512, SHA-1 only
// with the entry's acceptSha1Signatures, and never a URI that names no signature algorithm.
import { sign, X509Certificate } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { SignatureError, verifyRedirectSignature } from '../../src/xml/signature.js';
import { spKeyPair } from '../saml2/sp.js';

const RSA_SHA1 = 'http://www.w3.org/2000/09/xmldsig#rsa-sha1';
const RSA_SHA256 = 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256';
const SHA1_DIGEST = 'http://www.w3.org/2000/09/xmldsig#sha1';

/** A query signed as saml-bindings 3.4.4.1 says, with `hash` under the SigAlg URI `sigAlg`. */
function signedQuery(sigAlg: string, hash: string): string {
  const signed = `SAMLRequest=${encodeURIComponent('fVLLbsIwEPwV')}&RelayState=r&SigAlg=${encodeURIComponent(sigAlg)}`;
  const signature = sign(hash, Buffer.from(signed), spKeyPair().keyPem).toString('base64');
  return `${signed}&Signature=${encodeURIComponent(signature)}`;
}
const certs = () => [new X509Certificate(spKeyPair().certPem)];

describe('verifyRedirectSignature: signature algorithms', () => {
  it('RSA-SHA256 verifies', () => {
    expect(() => verifyRedirectSignature(signedQuery(RSA_SHA256, 'sha256'), 'SAMLRequest', certs())).not.toThrow();
  });

  it('RSA-SHA1 is refused, naming acceptSha1Signatures, unless the entry accepts SHA-1', () => {
    const q = signedQuery(RSA_SHA1, 'sha1');
    expect(() => verifyRedirectSignature(q, 'SAMLRequest', certs())).toThrow(/\(SHA-1\) not accepted from this relying party.*acceptSha1Signatures: true/);
    expect(() => verifyRedirectSignature(q, 'SAMLRequest', certs(), { sha1: true })).not.toThrow();
  });

  it('a digest URI as SigAlg is refused as a SignatureError, even where SHA-1 is accepted', () => {
    const q = signedQuery(SHA1_DIGEST, 'sha1');
    expect(() => verifyRedirectSignature(q, 'SAMLRequest', certs(), { sha1: true })).toThrow(SignatureError);
    expect(() => verifyRedirectSignature(q, 'SAMLRequest', certs(), { sha1: true })).toThrow(/SigAlg .*xmldsig#sha1 not allowed/);
  });
});
