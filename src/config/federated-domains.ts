import { ConfigError } from '../errors.js';

const DOMAIN = /^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]*[a-z0-9]$/;

/**
 * `federatedDomains` in lower case, without a trailing dot; each a DNS name, none twice.
 * @throws ConfigError naming `federatedDomains[i]`
 */
export function checkFederatedDomains(domains: readonly string[]): string[] {
  const out: string[] = [];
  domains.forEach((raw, i) => {
    const d = raw.trim().toLowerCase().replace(/\.$/, '');
    if (!DOMAIN.test(d)) throw new ConfigError(`federatedDomains[${i}]: "${raw}" is not a domain name (e.g. corp.example.com)`);
    if (out.includes(d)) throw new ConfigError(`federatedDomains[${i}]: ${d} is listed twice`);
    out.push(d);
  });
  return out;
}

/** ADFS's IssuerUri for one domain under -SupportMultipleDomain (with its trailing slash, as ADFS writes it). */
export function domainIssuerUri(domain: string): string {
  return `http://${domain}/adfs/services/trust/`;
}

/** Several federated domains: each has its own IssuerUri (Entra refuses one IssuerUri for two domains). */
export function issuersPerDomain(config: { federatedDomains: readonly string[] }): boolean {
  return config.federatedDomains.length > 1;
}

/**
 * The federated domain a sign-in name (user@suffix) belongs to: its suffix when listed, else the closest
 * listed parent domain (a subdomain's users sign in under the parent's federation); undefined when none.
 */
export function federatedDomainOf(domains: readonly string[], signInName: string): string | undefined {
  const at = signInName.lastIndexOf('@');
  if (at < 0) return undefined;
  const suffix = signInName.slice(at + 1).toLowerCase();
  let best: string | undefined;
  for (const d of domains) {
    if ((suffix === d || suffix.endsWith(`.${d}`)) && (!best || d.length > best.length)) best = d;
  }
  return best;
}

/** The IssuerUri Microsoft 365 has for `domain`: its own with several federated domains, else `issuer`. */
export function issuerUriOf(config: { issuer: string; federatedDomains: readonly string[] }, domain: string): string {
  return issuersPerDomain(config) ? domainIssuerUri(domain) : config.issuer;
}
