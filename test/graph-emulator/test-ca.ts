// A throw-away CA and certificates for the emulator's HTTPS, made with the openssl command line.
// MSAL only talks to https authorities; the sync process trusts this CA through NODE_EXTRA_CA_CERTS.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestPki {
  dir: string;
  /** PEM of the CA: point NODE_EXTRA_CA_CERTS at caFile. */
  caFile: string;
  caPem: string;
  serverCertPem: string;
  serverKeyPem: string;
}

function openssl(args: string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
}

/** CA + a server certificate for localhost and 127.0.0.1 (EC P-256: fast to make). */
export function createTestPki(): TestPki {
  const dir = mkdtempSync(join(tmpdir(), 'graph-emulator-pki-'));
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
  openssl(['req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=Gatehouse Test CA',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'], dir);
  openssl(['req', ...ec, '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=localhost'], dir);
  writeFileSync(join(dir, 'server.ext'), 'subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=serverAuth\n');
  openssl(['x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.pem', '-days', '2', '-extfile', 'server.ext'], dir);
  return {
    dir,
    caFile: join(dir, 'ca.pem'),
    caPem: readFileSync(join(dir, 'ca.pem'), 'utf8'),
    serverCertPem: readFileSync(join(dir, 'server.pem'), 'utf8'),
    serverKeyPem: readFileSync(join(dir, 'server.key'), 'utf8'),
  };
}

/** A self-signed RSA client certificate as an app registration would hold: returns cert+key PEM and cert PEM. */
export function createClientCertificate(dir: string, name = 'client'): { pemFile: string; certPem: string } {
  openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.crt`, '-days', '2', '-subj', `/CN=${name}`], dir);
  const certPem = readFileSync(join(dir, `${name}.crt`), 'utf8');
  const pemFile = join(dir, `${name}.pem`);
  writeFileSync(pemFile, certPem + readFileSync(join(dir, `${name}.key`), 'utf8'), { mode: 0o600 });
  return { pemFile, certPem };
}
