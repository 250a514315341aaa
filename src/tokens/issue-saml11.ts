import type { RelyingPartyConfig } from '../config/schema/relying-party.js';
import { SAML11 } from '../constants.js';
import type { DirectoryUser } from '../directory/directory.js';
import { claimsFor, type ClaimsServices } from '../claims/claims-for.js';
import type { SigningKey } from '../keys/keystore.js';
import type { Assertion } from './assertion.js';
import { buildAssertion } from './build.js';
import { serializeSaml11 } from './saml11.js';
import { signCanonical } from './canonical-sign.js';

/**
 * Stages 3 and 4 for SAML 1.1 (WS-Federation and WS-Trust): resolve the user's claims, release them for
 * this relying party, build the assertion and sign it.
 * @throws GH_DIRECTORY_UNAVAILABLE (rules that read the directory), GH_USER_INCOMPLETE
 */
export async function issueSaml11(
  services: ClaimsServices & { signingKey: SigningKey },
  rp: RelyingPartyConfig,
  user: DirectoryUser,
  authnInstant: Date,
  /** The browser path says PasswordProtectedTransport; WS-Trust's usernamemixed says password, as ADFS does. */
  authnMethod: string = SAML11.passwordProtectedTransport,
): Promise<{ assertion: Assertion; signed: string }> {
  const { config, signingKey } = services;
  const released = await claimsFor(services, rp, user);
  const assertion = buildAssertion(
    rp,
    released,
    { method: authnMethod, instant: authnInstant },
    { issuer: config.issuer, lifetimeSeconds: config.tokens.lifetimeSeconds, clockSkewSeconds: config.tokens.clockSkewSeconds },
  );
  return { assertion, signed: signCanonical(serializeSaml11(assertion), assertion.id, '</saml:Assertion>', signingKey) };
}
