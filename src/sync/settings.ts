import type { Config } from '../config/load.js';
import { ConfigError } from '../errors.js';
import { graphAppSettings, type GraphAppSettings } from '../graph/auth.js';
import type { SyncConfig } from '../config/schema/sync.js';

/** The sync section after the checks the JSON schema cannot express, with secrets read from their files. */
export interface SyncSettings extends Omit<SyncConfig, keyof GraphAppSettings>, GraphAppSettings {
  /** Scope OUs, or the directory's base DN when none are listed. */
  ous: string[];
}

/** @throws ConfigError when the sync section is missing or its credentials are ambiguous. */
export function syncSettings(config: Config): SyncSettings {
  const sync = config.sync;
  if (!sync) throw new ConfigError('sync: the configuration has no sync section (sync.tenantId, sync.clientId, sync.domains, a credential)');
  const app = graphAppSettings('sync', sync);
  const lower = sync.domains.map((d) => d.toLowerCase());
  for (const [from, to] of Object.entries(sync.upnSuffixMap)) {
    if (!lower.includes(to.toLowerCase())) throw new ConfigError(`sync.upnSuffixMap.${from}: "${to}" is not one of sync.domains`);
  }
  // The cloud UPN is the sign-in name Gatehouse issues (directory.loginAttribute), unless mapped otherwise.
  const login = config.directory.loginAttribute;
  const attributeMap = sync.attributeMap.userPrincipalName || !login ? sync.attributeMap : { ...sync.attributeMap, userPrincipalName: login };
  return {
    ...sync,
    attributeMap,
    ...app,
    clientSecret: undefined,
    ous: sync.scope.ous.length ? sync.scope.ous : [config.directory.baseDn],
  };
}
