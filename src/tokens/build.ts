import type { RelyingPartyConfig } from '../config/schema/relying-party.js';
import type { ReleasedClaims } from '../claims/release.js';
import { newAssertionId, type Assertion } from './assertion.js';

export interface TokenPolicy {
  issuer: string;
  lifetimeSeconds: number;
  clockSkewSeconds: number;
}

/** Fills the assertion model for one relying party from the released claims. */
export function buildAssertion(
  rp: RelyingPartyConfig,
  released: ReleasedClaims,
  authn: { method: string; instant: Date },
  policy: TokenPolicy,
  now = new Date(),
): Assertion {
  const lifetime = rp.tokenLifetimeSeconds ?? policy.lifetimeSeconds;
  return {
    id: newAssertionId(),
    issuer: policy.issuer,
    issueInstant: now,
    notBefore: new Date(now.getTime() - policy.clockSkewSeconds * 1000),
    notOnOrAfter: new Date(now.getTime() + lifetime * 1000),
    audience: rp.id,
    subject: released.subject,
    authn,
    attributes: released.attributes,
  };
}
