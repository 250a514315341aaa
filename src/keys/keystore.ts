import { readFileSync } from 'node:fs';
import { createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import { ConfigError } from '../config/load.js';

/** A token-signing key pair, parsed once at start-up (re-parsing a PEM per token halves throughput). */
export interface SigningKey {
  privateKey: KeyObject;
  certificate: X509Certificate;
  /** Full PEM certificate, as xml-crypto needs it to emit KeyInfo. */
  certPem: string;
  /** Base64 DER, as it goes into KeyInfo, metadata and Microsoft Graph's signingCertificate. */
  certBase64: string;
  /** SHA-1 thumbprint in upper-case hex, as ADFS and Microsoft 365 show it. */
  thumbprint: string;
  notAfter: Date;
}

export function loadSigningKey(certFile: string, keyFile: string): SigningKey {
  let certPem: string;
  let keyPem: string;
  try {
    certPem = readFileSync(certFile, 'utf8');
  } catch (err) {
    throw new ConfigError(`signing.certFile: cannot read ${certFile} (${(err as NodeJS.ErrnoException).code}); run "gatehouse certs init"`);
  }
  try {
    keyPem = readFileSync(keyFile, 'utf8');
  } catch (err) {
    throw new ConfigError(`signing.keyFile: cannot read ${keyFile} (${(err as NodeJS.ErrnoException).code}); run "gatehouse certs init"`);
  }
  let certificate: X509Certificate;
  try {
    certificate = new X509Certificate(certPem);
  } catch {
    throw new ConfigError(`signing.certFile: ${certFile} is not a PEM certificate`);
  }
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(keyPem);
  } catch {
    throw new ConfigError(`signing.keyFile: ${keyFile} is not a PEM private key (encrypted keys are not supported)`);
  }
  if (privateKey.asymmetricKeyType !== 'rsa') throw new ConfigError(`signing.keyFile: ${keyFile} must be an RSA key`);
  if ((privateKey.asymmetricKeyDetails?.modulusLength ?? 0) < 2048) {
    throw new ConfigError(`signing.keyFile: ${keyFile} is shorter than 2048 bits`);
  }
  if (!certificate.checkPrivateKey(privateKey)) {
    throw new ConfigError(`signing.keyFile: ${keyFile} does not belong to the certificate ${certFile}`);
  }
  const certBase64 = certificate.raw.toString('base64');
  return {
    privateKey,
    certificate,
    certPem: `-----BEGIN CERTIFICATE-----\n${certBase64.replace(/.{64}/g, '$&\n').replace(/\n$/, '')}\n-----END CERTIFICATE-----\n`,
    certBase64,
    thumbprint: certificate.fingerprint.replace(/:/g, ''),
    notAfter: new Date(certificate.validTo),
  };
}

/** Session secrets, one base64 line each: the first seals new cookies, the others still open old ones. */
export function loadSessionKeys(keyFile: string): Buffer[] {
  let text: string;
  try {
    text = readFileSync(keyFile, 'utf8');
  } catch (err) {
    throw new ConfigError(`session.keyFile: cannot read ${keyFile} (${(err as NodeJS.ErrnoException).code}); run "gatehouse certs init"`);
  }
  const keys = text.split(/\r?\n/).map((l) => l.trim()).filter(Boolean).map((l) => Buffer.from(l, 'base64'));
  if (!keys.length || keys.some((k) => k.length !== 32)) {
    throw new ConfigError(`session.keyFile: ${keyFile} must hold one or more lines of 32 bytes in base64`);
  }
  return keys;
}
