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
  /** WS-Trust windowstransport: served inside the corporate network, or not at all (always off without `enabled`). */
  windowsTransport: 'intranet' | 'off';
  /** The federated domain of domain-joined computers (issuerid); undefined without federatedDomains. */
  computerDomain: string | undefined;
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

/**
 * @param federatedDomains checked and in lower case (config/federated-domains.ts)
 * @throws ConfigError naming the key: enabled without a keytab, no realm, a bad user-agent pattern, a
 *   computer domain that is not federated
 */
export function resolveKerberos(raw: RawConfig['kerberos'], publicHost: string, baseDn: string, cwd: string, federatedDomains: readonly string[] = []): KerberosConfig {
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
  const computerDomain = raw.computerDomain?.trim().toLowerCase().replace(/\.$/, '') ?? federatedDomains[0];
  if (raw.computerDomain !== undefined && federatedDomains.length > 0 && !federatedDomains.includes(computerDomain!)) {
    throw new ConfigError(
      `kerberos.computerDomain: ${raw.computerDomain} is not one of federatedDomains (${federatedDomains.join(', ')}); computers' tokens must name a federated domain`,
    );
  }
  return {
    enabled: raw.enabled,
    keytab: raw.keytab ? resolve(cwd, raw.keytab) : undefined,
    servicePrincipal: spn.includes('@') ? spn : `${spn}@${realm}`,
    realm,
    userAgents,
    maxTokenBytes: raw.maxTokenBytes,
    windowsTransport: raw.enabled ? raw.windowsTransport : 'off',
    computerDomain,
  };
}
