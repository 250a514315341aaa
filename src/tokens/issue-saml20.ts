import type { X509Certificate } from 'node:crypto';
import type { RelyingPartyConfig } from '../config/schema/relying-party.js';
import { SAML2 } from '../constants.js';
import type { DirectoryUser } from '../directory/directory.js';
import { claimsFor, type ClaimsServices } from '../claims/claims-for.js';
import type { SigningKey } from '../keys/keystore.js';
import type { Assertion } from './assertion.js';
import { buildAssertion } from './build.js';
import { encryptAssertion } from './encrypt.js';
import { serializeSaml20Assertion, serializeSaml20Response, type Saml2Delivery } from './saml20.js';
import { SAML20_ASSERTION, saml20Message, signEnveloped } from './sign.js';

export interface Saml2Issue extends Saml2Delivery {
  authnInstant: Date;
  /** Encrypt the signed assertion to this certificate. */
  encryptTo?: X509Certificate | undefined;
  /** Sign the samlp:Response too. */
  signResponse: boolean;
}

/**
 * Stages 3 and 4 for SAML 2.0 Web Browser SSO: resolve and release the claims for this relying party,
 * build the assertion, sign it (RSA-SHA256, exc-c14n, signature after Issuer), encrypt it when the SP
 * has an encryption key, wrap it in a samlp:Response and sign that too when the SP wants it.
 * @throws GH_DIRECTORY_UNAVAILABLE, GH_USER_INCOMPLETE
 */
export async function issueSaml20(
  services: ClaimsServices & { signingKey: SigningKey },
  rp: RelyingPartyConfig,
  user: DirectoryUser,
  delivery: Saml2Issue,
): Promise<{ assertion: Assertion; response: string }> {
  const { config, signingKey } = services;
  const released = await claimsFor(services, rp, user);
  const assertion = buildAssertion(
    rp,
    released,
    { method: SAML2.passwordProtectedTransport, instant: delivery.authnInstant },
    { issuer: config.issuer, lifetimeSeconds: config.tokens.lifetimeSeconds, clockSkewSeconds: config.tokens.clockSkewSeconds },
  );
  let assertionXml = signEnveloped(serializeSaml20Assertion(assertion, delivery), signingKey, SAML20_ASSERTION);
  if (delivery.encryptTo) assertionXml = await encryptAssertion(assertionXml, delivery.encryptTo);
  let response = serializeSaml20Response({
    issuer: config.issuer,
    destination: delivery.recipient,
    inResponseTo: delivery.inResponseTo,
    assertionXml,
  });
  if (delivery.signResponse) response = signEnveloped(response, signingKey, saml20Message('Response'));
  return { assertion, response };
}
