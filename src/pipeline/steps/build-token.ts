import { MFA } from '../../constants.js';
import { newAssertionId } from '../../tokens/assertion.js';
import { SAML11_TOKEN, SAML20_TOKEN } from '../../tokens/formats.js';
import type { SignInContext } from '../sign-in.js';

/**
 * The protocol-neutral assertion for this relying party: issuer, audience, validity (its own token
 * lifetime or the default, less the clock skew allowance), the released subject and attributes, and the
 * authentication as the adapter's token format names it. After a second factor the method is
 * multipleauthn and the authnmethodsreferences claim says so too, as ADFS sends it to Microsoft 365; after
 * Windows authentication that claim names it (what Entra's wiaormultiauthn accepts).
 */
export function buildToken(ctx: SignInContext, now = new Date()): void {
  const { config } = ctx.services;
  const { rp, released, authentication } = ctx;
  const format = ctx.adapter.tokenFormat === 'saml11' ? SAML11_TOKEN : SAML20_TOKEN;
  const lifetime = rp.tokenLifetimeSeconds ?? config.tokens.lifetimeSeconds;
  // What satisfied multipleauthn or wiaormultiauthn, as ADFS passes it to Microsoft 365.
  const methodReference = authentication.mfa ? MFA.multipleAuthn : authentication.context === 'windows' ? MFA.windowsMethodReference : undefined;
  ctx.assertion = {
    id: newAssertionId(),
    // Microsoft 365 with several federated domains: the IssuerUri of the user's domain (claims/federated-issuer.ts).
    issuer: released.issuer ?? config.issuer,
    issueInstant: now,
    notBefore: new Date(now.getTime() - config.tokens.clockSkewSeconds * 1000),
    notOnOrAfter: new Date(now.getTime() + lifetime * 1000),
    audience: rp.id,
    subject: released.subject,
    authn: { method: format.authnMethods[authentication.context], instant: new Date(authentication.instant) },
    attributes: methodReference ? [...released.attributes, { type: MFA.authnMethodsReferences, values: [methodReference] }] : released.attributes,
  };
}
