import type { Config } from '../config/load.js';
import type { SigningCertificate } from '../keys/keystore.js';
import { federatedDomainOf, issuerUriOf } from '../config/federated-domains.js';

/** ADFS's paths, which Gatehouse serves; Microsoft's own examples use the same. */
export const ENDPOINT_PATHS = {
  passiveSignInUri: '/adfs/ls/',
  activeSignInUri: '/adfs/services/trust/2005/usernamemixed',
  metadataExchangeUri: '/adfs/services/trust/mex',
  signOutUri: '/adfs/ls/',
} as const;

export type EndpointProperty = keyof typeof ENDPOINT_PATHS;

/** Graph's internalDomainFederation, the properties Gatehouse sets. */
export interface InternalDomainFederation {
  '@odata.type': '#microsoft.graph.internalDomainFederation';
  displayName: string;
  issuerUri: string;
  passiveSignInUri: string;
  activeSignInUri: string;
  metadataExchangeUri: string;
  signOutUri: string;
  signingCertificate: string;
  nextSigningCertificate?: string;
  preferredAuthenticationProtocol: 'wsFed';
  /** Whether Entra believes, demands or ignores this server's MFA (mfa.federatedIdpMfaBehavior). */
  federatedIdpMfaBehavior: FederatedIdpMfaBehavior;
  /**
   * An app's prompt=login reaches Gatehouse as it is (WS-Federation prompt=login, SAML ForceAuthn) and
   * Gatehouse asks for the password again, once (see docs/microsoft365.md).
   */
  promptLoginBehavior: 'nativeSupport';
}

export type FederatedIdpMfaBehavior = 'enforceMfaByFederatedIdp' | 'acceptIfMfaDoneByFederatedIdp' | 'rejectMfaByFederatedIdp';

/**
 * Without MFA here, Entra must never believe an MFA claim (a forged one would pass Conditional Access);
 * with it, Entra sends the user back for MFA instead of asking itself.
 */
export function mfaBehavior(mfa: Pick<Config['mfa'], 'enabled' | 'federatedIdpMfaBehavior'>): FederatedIdpMfaBehavior {
  return mfa.federatedIdpMfaBehavior ?? (mfa.enabled ? 'enforceMfaByFederatedIdp' : 'rejectMfaByFederatedIdp');
}

export interface FederationCertificates {
  current: SigningCertificate;
  next?: SigningCertificate | undefined;
}

/**
 * The IssuerUri Gatehouse's tokens carry for users of `domain`: its own with several federatedDomains,
 * else `issuer`. A domain that federatedDomains does not list would get tokens Gatehouse refuses to issue.
 * @throws Error naming --domain (the command prints it)
 */
export function issuerUriForDomain(config: Pick<Config, 'issuer' | 'federatedDomains'>, domain: string): string {
  const listed = config.federatedDomains;
  if (listed.length && !listed.includes(domain)) {
    const parent = federatedDomainOf(listed, `user@${domain}`);
    throw new Error(
      parent
        ? `--domain: ${domain} is a subdomain of ${parent}: Microsoft 365 federates a subdomain as its root domain is, so run tenant-setup --domain ${parent} (Gatehouse already signs in ${domain}'s users with ${parent}'s IssuerUri)`
        : `--domain: ${domain} is not in federatedDomains (${listed.join(', ')}): add it there and restart Gatehouse first, or its users would be refused`,
    );
  }
  return issuerUriOf(config, domain);
}

/** The federation configuration of `domain` as Gatehouse runs now: its issuer, its endpoints, its certificates. */
export function federationConfiguration(
  config: Pick<Config, 'issuer' | 'publicUrl' | 'mfa' | 'federatedDomains'>,
  certs: FederationCertificates,
  displayName: string,
  domain: string,
): InternalDomainFederation {
  const url = (p: EndpointProperty) => `${config.publicUrl}${ENDPOINT_PATHS[p]}`;
  return {
    '@odata.type': '#microsoft.graph.internalDomainFederation',
    displayName,
    issuerUri: issuerUriForDomain(config, domain),
    passiveSignInUri: url('passiveSignInUri'),
    activeSignInUri: url('activeSignInUri'),
    metadataExchangeUri: url('metadataExchangeUri'),
    signOutUri: url('signOutUri'),
    signingCertificate: certs.current.certBase64,
    ...(certs.next ? { nextSigningCertificate: certs.next.certBase64 } : {}),
    preferredAuthenticationProtocol: 'wsFed',
    federatedIdpMfaBehavior: mfaBehavior(config.mfa),
    promptLoginBehavior: 'nativeSupport',
  };
}

const ps = (s: string) => `'${s.replace(/'/g, "''")}'`;

/** The same call with the Microsoft Graph PowerShell SDK, in the form of Microsoft's own examples. */
export function powershellCommands(domain: string, body: InternalDomainFederation): string {
  const lines = Object.entries(body).map(([k, v]) => `  ${k.startsWith('@') ? `"${k}"` : k} = ${ps(String(v))}`);
  return [
    'Connect-MgGraph -Scopes "Domain-InternalFederation.ReadWrite.All"',
    '$params = @{',
    ...lines,
    '}',
    `New-MgDomainFederationConfiguration -DomainId ${ps(domain)} -BodyParameter $params`,
    '',
    '# When the domain is already federated (with ADFS or Gatehouse), update it instead:',
    `$fc = Get-MgDomainFederationConfiguration -DomainId ${ps(domain)}`,
    `$params.Remove("@odata.type"); Update-MgDomainFederationConfiguration -DomainId ${ps(domain)} -InternalDomainFederationId $fc.Id -BodyParameter $params`,
  ].join('\n');
}

/** A DNS name Microsoft 365 could federate (not the tenant's initial *.onmicrosoft.com). */
export function checkDomain(domain: string): string {
  const d = domain.trim().toLowerCase().replace(/\.$/, '');
  if (!/^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]*[a-z0-9]$/.test(d)) {
    throw new Error(`--domain: "${domain}" is not a domain name (e.g. corp.example.com)`);
  }
  if (/\.onmicrosoft\.(com|us|de)$|\.partner\.onmschina\.cn$/.test(d)) {
    throw new Error(`--domain: ${d} is the tenant's initial domain, which Microsoft never federates; use a custom domain you added and verified`);
  }
  return d;
}
