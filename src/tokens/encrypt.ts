/// <reference path="../types/authenio-xml-encryption.d.ts" />
import type { X509Certificate } from 'node:crypto';
import xmlenc from '@authenio/xml-encryption';
import { SAML2 } from '../constants.js';

const AES256_GCM = 'http://www.w3.org/2009/xmlenc11#aes256-gcm';
const RSA_OAEP = 'http://www.w3.org/2001/04/xmlenc#rsa-oaep-mgf1p';

/**
 * Encrypts a signed saml:Assertion to the SP's encryption certificate (from its metadata) as a
 * saml:EncryptedAssertion: AES-256-GCM for the content, RSA-OAEP for the key (samlify's library,
 * @authenio/xml-encryption). Signing happens first, so the SP verifies what it decrypts.
 */
export function encryptAssertion(signedAssertion: string, cert: X509Certificate): Promise<string> {
  return new Promise((resolve, reject) => {
    xmlenc.encrypt(
      signedAssertion,
      {
        rsa_pub: cert.publicKey.export({ type: 'spki', format: 'pem' }),
        pem: cert.toString(),
        encryptionAlgorithm: AES256_GCM,
        keyEncryptionAlgorithm: RSA_OAEP,
        disallowEncryptionWithInsecureAlgorithm: true,
      },
      (err: Error | null, result?: string) => {
        if (err || !result) return reject(err ?? new Error('assertion encryption produced nothing'));
        resolve(`<saml:EncryptedAssertion xmlns:saml="${SAML2.assertion}">${result}</saml:EncryptedAssertion>`);
      },
    );
  });
}
