import { domainIssuerUri, federatedDomainOf, issuerUriOf, issuersPerDomain } from '../config/federated-domains.js';
import { GatehouseError } from '../errors.js';
import type { AssertionAttribute } from '../tokens/assertion.js';

/** ADFS's claim for the IssuerUri of the user's domain (Azure AD Connect's rule for -SupportMultipleDomain). */
export const ISSUER_ID_CLAIM = 'http://schemas.microsoft.com/ws/2008/06/identity/claims/issuerid';

export interface FederatedDomains {
  /** The configured `issuer`: Gatehouse's own identifier (metadata entityID), the token Issuer with one domain. */
  issuer: string;
  federatedDomains: readonly string[];
  /** kerberos.computerDomain: the federated domain of domain-joined computers (default the first). */
  computerDomain?: string | undefined;
}

/**
 * The token Issuer Microsoft 365 expects for a user, from the suffix of their sign-in name (the UPN, or the
 * alternate login ID): with several federated domains the IssuerUri of the user's domain, or of its
 * closest federated parent, and the `issuerid` claim that says so (as ADFS's rule issues it); with one
 * domain `issuer`. Microsoft 365 would refuse a token whose Issuer belongs to no federated domain, so a
 * user outside them is refused here, with a message saying why.
 * @throws GH_DOMAIN_NOT_FEDERATED
 */
export function microsoft365Issuer(signInName: string, domains: FederatedDomains): { issuer: string; issuerId?: AssertionAttribute } {
  if (domains.federatedDomains.length === 0) return { issuer: domains.issuer };
  const domain = federatedDomainOf(domains.federatedDomains, signInName);
  if (!domain) {
    const suffix = signInName.includes('@') ? signInName.slice(signInName.lastIndexOf('@') + 1) : '(none)';
    throw new GatehouseError('GH_DOMAIN_NOT_FEDERATED', {
      detail: `${signInName}: suffix ${suffix} is not in federatedDomains (${domains.federatedDomains.join(', ')})`,
      message: `Your account (${signInName}) is in a domain that does not sign in to Microsoft 365 here. Contact your help desk: your account's sign-in name may need to change.`,
    });
  }
  const issuer = issuerUriOf(domains, domain);
  return issuersPerDomain(domains) ? { issuer, issuerId: { type: ISSUER_ID_CLAIM, values: [issuer] } } : { issuer };
}

/**
 * The Issuer and issuerid of a domain-joined computer's token. A computer has no UPN to take a domain
 * from: ADFS's device rule ("Issue issuerid for DJ computer auth") names one verified domain,
 * http://<domain>/adfs/services/trust/, always, and Entra finds the computer's domain by it. With several
 * federated domains the token's Issuer is that domain's IssuerUri too; with one it is `issuer`.
 */
export function computerIssuer(domains: FederatedDomains): { issuer: string; issuerId?: AssertionAttribute } {
  const domain = domains.computerDomain ?? domains.federatedDomains[0];
  if (!domain) return { issuer: domains.issuer };
  const uri = domainIssuerUri(domain);
  return { issuer: issuersPerDomain(domains) ? uri : domains.issuer, issuerId: { type: ISSUER_ID_CLAIM, values: [uri] } };
}
