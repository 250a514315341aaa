import { readFileSync } from 'node:fs';
import type { ConnectionOptions } from 'node:tls';
import type { Config } from '../config/load.js';

/** The directory settings that decide how a DC's certificate is checked. */
export type DirectoryTlsSettings = Pick<Config['directory'], 'tlsVerify' | 'caFile' | 'tlsServerName'>;

/**
 * The one TLS setting for every connection to a DC (LDAPS and StartTLS, sign-in server and sync worker
 * alike): TLS 1.2 at least, the certificate verified unless `directory.tlsVerify` is false, against
 * `caFile` when set, for `tlsServerName` when the URL's host is not the name in the certificate.
 */
export function directoryTlsOptions(dir: DirectoryTlsSettings): ConnectionOptions {
  return {
    minVersion: 'TLSv1.2',
    rejectUnauthorized: dir.tlsVerify,
    ...(dir.caFile ? { ca: readFileSync(dir.caFile) } : {}),
    ...(dir.tlsServerName ? { servername: dir.tlsServerName } : {}),
  };
}
