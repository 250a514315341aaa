import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { ConfigError } from '../errors.js';

/** An app registration's credential, read from the configuration or its file. */
export type AppCredential = { kind: 'secret'; secret: string } | { kind: 'certificate'; pem: string; file: string };

function readSecret(key: string, file: string): string {
  try {
    const text = readFileSync(resolve(file), 'utf8').replace(/\r?\n$/, '');
    if (!text) throw new ConfigError(`${key}: the file ${file} is empty`);
    return text;
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    throw new ConfigError(`${key}: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
}

/**
 * The one credential of an app registration section (`sync`, `tenant`): clientSecret, clientSecretFile or
 * clientCertificateFile (PEM certificate + key). @throws ConfigError naming `section`'s key.
 */
export function appCredential(
  section: string,
  s: { clientSecret?: string | undefined; clientSecretFile?: string | undefined; clientCertificateFile?: string | undefined },
): AppCredential {
  const given = [s.clientSecret && 'clientSecret', s.clientSecretFile && 'clientSecretFile', s.clientCertificateFile && 'clientCertificateFile'].filter(Boolean);
  if (given.length === 0) throw new ConfigError(`${section}.clientSecret: required (or set ${section}.clientSecretFile or ${section}.clientCertificateFile)`);
  if (given.length > 1) throw new ConfigError(`${section}.${given[1]}: set only one of ${given.join(', ')}`);
  if (s.clientCertificateFile) {
    const pem = readSecret(`${section}.clientCertificateFile`, s.clientCertificateFile);
    if (!/BEGIN CERTIFICATE/.test(pem) || !/PRIVATE KEY/.test(pem)) {
      throw new ConfigError(`${section}.clientCertificateFile: must hold the PEM certificate and its private key`);
    }
    return { kind: 'certificate', pem, file: resolve(s.clientCertificateFile) };
  }
  return { kind: 'secret', secret: s.clientSecret ?? readSecret(`${section}.clientSecretFile`, s.clientSecretFile!) };
}
