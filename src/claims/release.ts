import type { RelyingPartyConfig } from '../config/schema.js';
import { CLAIM_NS, SAML11 } from '../constants.js';
import { GatehouseError } from '../errors.js';
import type { AssertionSubject, AssertionAttribute } from '../tokens/assertion.js';
import type { ResolvedClaims } from './resolve.js';

export interface ReleasedClaims {
  subject: AssertionSubject;
  attributes: AssertionAttribute[];
}

/**
 * What a relying party receives (attribute release). Every relying party currently gets Microsoft 365's
 * documented set: NameIdentifier = ImmutableID, and the UPN and ImmutableID attributes.
 * @throws GH_USER_INCOMPLETE when the user has no UPN (Microsoft 365 cannot match the account).
 */
export function releaseClaims(_rp: RelyingPartyConfig, claims: ResolvedClaims): ReleasedClaims {
  if (!claims.upn) throw new GatehouseError('GH_USER_INCOMPLETE', { detail: `${claims.sAMAccountName} has no userPrincipalName` });
  return {
    subject: { nameId: claims.immutableId, format: SAML11.nameIdPersistent },
    attributes: [
      { namespace: CLAIM_NS.xmlsoap, name: 'UPN', values: [claims.upn] },
      { namespace: CLAIM_NS.liveId, name: 'ImmutableID', values: [claims.immutableId] },
    ],
  };
}
