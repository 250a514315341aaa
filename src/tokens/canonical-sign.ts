import { createHash, sign } from 'node:crypto';
import { ALG, NS } from '../constants.js';
import type { SigningKey } from '../keys/keystore.js';
import { escapeC14nAttr } from '../xml/escape.js';

/**
 * The enveloped signature of an element that is already in exclusive canonical form (as
 * serializeSaml11 writes it): the digest is SHA-256 of the string itself, SignedInfo is written in
 * canonical form too, and one RSA-SHA256 signature is the only real work. Same algorithms as
 * signEnveloped (RSA-SHA256, SHA-256, exc-c14n, enveloped-signature, certificate in KeyInfo); checked
 * against xmlsec1 and xml-crypto in the tests.
 *
 * @param canonical the element, in exclusive canonical form, without a signature
 * @param id the value of its ID attribute (the Reference URI)
 * @param closingTag where the signature goes: just before this closing tag (the last child)
 */
export function signCanonical(canonical: string, id: string, closingTag: string, key: SigningKey): string {
  if (!canonical.endsWith(closingTag)) throw new Error(`signCanonical: the element does not end with ${closingTag}`);
  const digest = createHash('sha256').update(canonical, 'utf8').digest('base64');
  const signedInfoBody =
    `<ds:CanonicalizationMethod Algorithm="${ALG.excC14n}"></ds:CanonicalizationMethod>` +
    `<ds:SignatureMethod Algorithm="${ALG.rsaSha256}"></ds:SignatureMethod>` +
    `<ds:Reference URI="#${escapeC14nAttr(id)}"><ds:Transforms>` +
    `<ds:Transform Algorithm="${ALG.enveloped}"></ds:Transform><ds:Transform Algorithm="${ALG.excC14n}"></ds:Transform>` +
    `</ds:Transforms><ds:DigestMethod Algorithm="${ALG.sha256}"></ds:DigestMethod><ds:DigestValue>${digest}</ds:DigestValue></ds:Reference>`;
  // Canonicalized on its own, SignedInfo carries the ds namespace declaration its parent has in the document.
  const signedInfoC14n = `<ds:SignedInfo xmlns:ds="${NS.ds}">${signedInfoBody}</ds:SignedInfo>`;
  const value = sign('sha256', Buffer.from(signedInfoC14n, 'utf8'), key.privateKey).toString('base64');
  const signature =
    `<ds:Signature xmlns:ds="${NS.ds}"><ds:SignedInfo>${signedInfoBody}</ds:SignedInfo>` +
    `<ds:SignatureValue>${value}</ds:SignatureValue>` +
    `<ds:KeyInfo><ds:X509Data><ds:X509Certificate>${key.certBase64}</ds:X509Certificate></ds:X509Data></ds:KeyInfo>` +
    '</ds:Signature>';
  return canonical.slice(0, -closingTag.length) + signature + closingTag;
}
