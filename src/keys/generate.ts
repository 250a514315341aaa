import { existsSync, mkdirSync, writeFileSync, chmodSync } from 'node:fs';
import { dirname } from 'node:path';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import forge from 'node-forge';

/**
 * A certificate serial as hex: 16 random bytes whose first is 0x01-0x7f, so the DER INTEGER is positive
 * with no leading zero byte. (A "00" in front of a byte below 0x80 is illegal padding: OpenSSL refuses
 * such a certificate, which an earlier version produced about once in 300.)
 */
export function newSerialNumber(): string {
  const serial = randomBytes(16);
  serial[0] = (serial[0]! & 0x7f) | 0x01;
  return serial.toString('hex');
}

export interface CertOptions {
  commonName: string;
  bits: number;
  days: number;
  /** Start of validity (minus 5 minutes of clock slack); default now. Automatic rollover passes its clock. */
  now?: Date;
}

/**
 * A self-signed token-signing certificate. The key pair comes from node:crypto (OpenSSL, fast);
 * node-forge only builds and signs the X.509 structure.
 */
export function createSelfSignedCertificate(opts: CertOptions): { certPem: string; keyPem: string } {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: opts.bits });
  const keyPem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const fKey = forge.pki.privateKeyFromPem(keyPem) as forge.pki.rsa.PrivateKey;
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.setRsaPublicKey(fKey.n, fKey.e);
  cert.serialNumber = newSerialNumber();
  const now = opts.now ?? new Date();
  cert.validity.notBefore = new Date(now.getTime() - 5 * 60_000);
  cert.validity.notAfter = new Date(now.getTime() + opts.days * 86_400_000);
  const subject = [{ name: 'commonName', value: opts.commonName }];
  cert.setSubject(subject);
  cert.setIssuer(subject);
  cert.setExtensions([
    { name: 'basicConstraints', cA: false },
    { name: 'keyUsage', digitalSignature: true, critical: true },
    { name: 'subjectKeyIdentifier' },
  ]);
  cert.sign(fKey, forge.md.sha256.create());
  return { certPem: forge.pki.certificateToPem(cert), keyPem };
}

/** Writes a file that only the owner may read; refuses to replace one unless `force`. */
export function writeSecretFile(file: string, content: string, force: boolean): void {
  if (existsSync(file) && !force) throw new Error(`${file} already exists (use --force to replace it)`);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, content, { mode: 0o600 });
  chmodSync(file, 0o600); // mode is ignored when the file already existed
}

export function writePublicFile(file: string, content: string, force: boolean): void {
  if (existsSync(file) && !force) throw new Error(`${file} already exists (use --force to replace it)`);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, content, { mode: 0o644 });
}

export function newSessionKey(): string {
  return randomBytes(32).toString('base64') + '\n';
}
