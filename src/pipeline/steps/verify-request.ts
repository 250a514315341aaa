import type { SignInContext } from '../sign-in.js';

/**
 * The protocol's own checks that need the relying party: a SAML request's signature against the SP's
 * pinned certificates, its Destination and NameID policy. They may refine what the request asks of the
 * authentication (ForceAuthn, IsPassive are read only from a checked message).
 * @throws Refusal (requestDenied, invalidNameIdPolicy), GH_BAD_REQUEST
 */
export async function verifyRequest(ctx: SignInContext): Promise<void> {
  await ctx.adapter.verify?.(ctx);
}
