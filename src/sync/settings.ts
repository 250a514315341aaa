import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Config } from '../config/load.js';
import { ConfigError } from '../errors.js';
import type { SyncConfig } from '../config/schema/sync.js';

/** An app registration's credential, read from the configuration or its file. */
export type AppCredential = { kind: 'secret'; secret: string } | { kind: 'certificate'; pem: string; file: string };

/** The sync section after the checks the JSON schema cannot express, with secrets read from their files. */
export interface SyncSettings extends SyncConfig {
  credential: AppCredential;
  /** Scope OUs, or the directory's base DN when none are listed. */
  ous: string[];
}

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

/** @throws ConfigError when the sync section is missing or its credentials are ambiguous. */
export function syncSettings(config: Config): SyncSettings {
  const sync = config.sync;
  if (!sync) throw new ConfigError('sync: the configuration has no sync section (sync.tenantId, sync.clientId, sync.domains, a credential)');
  const credential = appCredential('sync', sync);
  const lower = sync.domains.map((d) => d.toLowerCase());
  for (const [from, to] of Object.entries(sync.upnSuffixMap)) {
    if (!lower.includes(to.toLowerCase())) throw new ConfigError(`sync.upnSuffixMap.${from}: "${to}" is not one of sync.domains`);
  }
  return {
    ...sync,
    graphUrl: sync.graphUrl.replace(/\/+$/, ''),
    authorityHost: sync.authorityHost.replace(/\/+$/, ''),
    clientSecret: undefined,
    credential,
    ous: sync.scope.ous.length ? sync.scope.ous : [config.directory.baseDn],
  };
}
