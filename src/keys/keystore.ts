import { readFileSync } from 'node:fs';
import { createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import { certificatePem } from '../crypto/pem.js';
import { ConfigError } from '../errors.js';

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
  notBefore: Date;
  notAfter: Date;
}

/** The public half of a token-signing certificate (what tenant-setup sends to Microsoft). */
export type SigningCertificate = Omit<SigningKey, 'privateKey'>;

function describeCertificate(certificate: X509Certificate): SigningCertificate {
  const certBase64 = certificate.raw.toString('base64');
  return {
    certificate,
    certPem: certificatePem(certBase64),
    certBase64,
    thumbprint: certificate.fingerprint.replace(/:/g, ''),
    notBefore: new Date(certificate.validFrom),
    notAfter: new Date(certificate.validTo),
  };
}

/** Reads a PEM certificate without its key. `key` names the configuration key in messages. */
export function loadCertificate(certFile: string, key = 'signing.certFile'): SigningCertificate {
  let certPem: string;
  try {
    certPem = readFileSync(certFile, 'utf8');
  } catch (err) {
    throw new ConfigError(`${key}: cannot read ${certFile} (${(err as NodeJS.ErrnoException).code}); run "gatehouse certs init"`);
  }
  try {
    return describeCertificate(new X509Certificate(certPem));
  } catch {
    throw new ConfigError(`${key}: ${certFile} is not a PEM certificate`);
  }
}

/**
 * Reads and checks a certificate and its private key. `keys` name the configuration keys in messages
 * (the next certificate of a rollover has its own).
 */
export function loadSigningKey(
  certFile: string,
  keyFile: string,
  keys: { cert: string; key: string; hint: string } = { cert: 'signing.certFile', key: 'signing.keyFile', hint: 'run "gatehouse certs init"' },
): SigningKey {
  let certPem: string;
  let keyPem: string;
  try {
    certPem = readFileSync(certFile, 'utf8');
  } catch (err) {
    throw new ConfigError(`${keys.cert}: cannot read ${certFile} (${(err as NodeJS.ErrnoException).code}); ${keys.hint}`);
  }
  try {
    keyPem = readFileSync(keyFile, 'utf8');
  } catch (err) {
    throw new ConfigError(`${keys.key}: cannot read ${keyFile} (${(err as NodeJS.ErrnoException).code}); ${keys.hint}`);
  }
  let certificate: X509Certificate;
  try {
    certificate = new X509Certificate(certPem);
  } catch {
    throw new ConfigError(`${keys.cert}: ${certFile} is not a PEM certificate`);
  }
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(keyPem);
  } catch {
    throw new ConfigError(`${keys.key}: ${keyFile} is not a PEM private key (encrypted keys are not supported)`);
  }
  if (privateKey.asymmetricKeyType !== 'rsa') throw new ConfigError(`${keys.key}: ${keyFile} must be an RSA key`);
  if ((privateKey.asymmetricKeyDetails?.modulusLength ?? 0) < 2048) {
    throw new ConfigError(`${keys.key}: ${keyFile} is shorter than 2048 bits`);
  }
  if (!certificate.checkPrivateKey(privateKey)) {
    throw new ConfigError(`${keys.key}: ${keyFile} does not belong to the certificate ${certFile}`);
  }
  return { privateKey, ...describeCertificate(certificate) };
}

/** Session secrets, one base64 line each: the first seals new cookies, the others still open old ones. */
export function loadSessionKeys(keyFile: string, setting = 'session.keyFile', hint = 'run "gatehouse certs init"'): Buffer[] {
  let text: string;
  try {
    text = readFileSync(keyFile, 'utf8');
  } catch (err) {
    throw new ConfigError(`${setting}: cannot read ${keyFile} (${(err as NodeJS.ErrnoException).code}); ${hint}`);
  }
  const keys = text.split(/\r?\n/).map((l) => l.trim()).filter(Boolean).map((l) => Buffer.from(l, 'base64'));
  if (!keys.length || keys.some((k) => k.length !== 32)) {
    throw new ConfigError(`${setting}: ${keyFile} must hold one or more lines of 32 bytes in base64`);
  }
  return keys;
}
