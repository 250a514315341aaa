import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { ConfigError, type Config } from '../config/load.js';
import type { SyncConfig } from './config-schema.js';

/** The sync section after the checks the JSON schema cannot express, with secrets read from their files. */
export interface SyncSettings extends SyncConfig {
  credential: { kind: 'secret'; secret: string } | { kind: 'certificate'; pem: string; file: string };
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

/** @throws ConfigError when the sync section is missing or its credentials are ambiguous. */
export function syncSettings(config: Config): SyncSettings {
  const sync = config.sync;
  if (!sync) throw new ConfigError('sync: the configuration has no sync section (sync.tenantId, sync.clientId, sync.domains, a credential)');
  const given = [sync.clientSecret && 'clientSecret', sync.clientSecretFile && 'clientSecretFile', sync.clientCertificateFile && 'clientCertificateFile'].filter(Boolean);
  if (given.length === 0) throw new ConfigError('sync.clientSecret: required (or set sync.clientSecretFile or sync.clientCertificateFile)');
  if (given.length > 1) throw new ConfigError(`sync.${given[1]}: set only one of ${given.join(', ')}`);
  let credential: SyncSettings['credential'];
  if (sync.clientCertificateFile) {
    const pem = readSecret('sync.clientCertificateFile', sync.clientCertificateFile);
    if (!/BEGIN CERTIFICATE/.test(pem) || !/PRIVATE KEY/.test(pem)) {
      throw new ConfigError('sync.clientCertificateFile: must hold the PEM certificate and its private key');
    }
    credential = { kind: 'certificate', pem, file: resolve(sync.clientCertificateFile) };
  } else {
    credential = { kind: 'secret', secret: sync.clientSecret ?? readSecret('sync.clientSecretFile', sync.clientSecretFile!) };
  }
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
