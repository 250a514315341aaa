import type { RelyingPartyConfig } from '../config/schema/relying-party.js';
import type { Directory, DirectoryUser } from '../directory/directory.js';
import type { Config } from '../config/load.js';
import { releaseClaims, type ReleasedClaims, type ReleaseOptions } from './release.js';
import { resolveClaimsFor } from './resolve.js';

/** What claims need of the server's services (the routes pass theirs). */
export interface ClaimsServices {
  config: Config;
  directory: Directory;
}

/** The release options every protocol uses, from the configuration. */
export function releaseOptions(config: Config): ReleaseOptions {
  return {
    expiryNotifyDays: config.passwordExpiry.notifyDays,
    passwordChangeUrl: config.passwordExpiry.changeUrl ?? `${config.publicUrl}/adfs/portal/updatepassword`,
    domains: { issuer: config.issuer, federatedDomains: config.federatedDomains, computerDomain: config.kerberos.computerDomain },
  };
}

/**
 * Stage 3 for every protocol: resolve what the relying party's rules need about the user, then release
 * what they give it. Serializers (SAML 1.1, SAML 2.0) take the result as it is.
 * @throws GH_DIRECTORY_UNAVAILABLE, GH_USER_INCOMPLETE
 */
export async function claimsFor(
  services: ClaimsServices,
  rp: RelyingPartyConfig,
  user: DirectoryUser,
): Promise<ReleasedClaims> {
  const resolved = await resolveClaimsFor(services.directory, user, rp);
  return releaseClaims(rp, resolved, releaseOptions(services.config));
}
