import { resolve } from 'node:path';
import { ConfigError } from '../errors.js';
import type { RawConfig } from './schema.js';

/** The kerberos section with what is left unsaid derived: the realm, the full service principal, the keytab path. */
export interface KerberosConfig {
  enabled: boolean;
  keytab: string | undefined;
  /** HTTP/host@REALM */
  servicePrincipal: string;
  /** Upper case, as Kerberos writes it. */
  realm: string;
  userAgents: RegExp[];
  maxTokenBytes: number;
}

/** DC=corp,DC=example,DC=com -> CORP.EXAMPLE.COM */
export function realmOfBaseDn(baseDn: string): string {
  return baseDn
    .split(',')
    .map((rdn) => /^\s*DC\s*=\s*(.+?)\s*$/i.exec(rdn)?.[1])
    .filter((dc): dc is string => dc !== undefined)
    .join('.')
    .toUpperCase();
}

/** @throws ConfigError naming the key: enabled without a keytab, no realm, a bad user-agent pattern */
export function resolveKerberos(raw: RawConfig['kerberos'], publicHost: string, baseDn: string, cwd: string): KerberosConfig {
  const realm = (raw.realm ?? realmOfBaseDn(baseDn)).toUpperCase();
  if (raw.enabled && !raw.keytab) throw new ConfigError('kerberos.keytab: required when kerberos.enabled is true');
  if (raw.enabled && !realm) throw new ConfigError('kerberos.realm: required (directory.baseDn has no DC= parts to derive it from)');
  const spn = raw.servicePrincipal ?? `HTTP/${publicHost}`;
  const userAgents = raw.userAgents.map((source, i) => {
    try {
      return new RegExp(source, 'i');
    } catch (err) {
      throw new ConfigError(`kerberos.userAgents[${i}]: not a valid regular expression (${(err as Error).message})`);
    }
  });
  return {
    enabled: raw.enabled,
    keytab: raw.keytab ? resolve(cwd, raw.keytab) : undefined,
    servicePrincipal: spn.includes('@') ? spn : `${spn}@${realm}`,
    realm,
    userAgents,
    maxTokenBytes: raw.maxTokenBytes,
  };
}
