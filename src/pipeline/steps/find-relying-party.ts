import type { SignInContext } from '../sign-in.js';

/**
 * The relying party the request names, only over the protocol it is registered for: a SAML 2.0 party
 * (with its metadata) never gets a SAML 1.1 token, a WS-Federation party never a SAML 2.0 one.
 * @throws GH_RP_UNKNOWN, GH_RP_METADATA_UNAVAILABLE
 */
export function findRelyingParty(ctx: SignInContext): void {
  const { relyingParties } = ctx.services;
  const { protocol, relyingParty } = ctx.request;
  if (protocol === 'saml2') {
    const { rp, sp } = relyingParties.saml(relyingParty);
    ctx.rp = rp;
    ctx.sp = sp;
  } else {
    ctx.rp = relyingParties.wsFederation(relyingParty, protocol);
  }
}
