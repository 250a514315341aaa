import { releaseClaims as release } from '../../claims/release.js';
import { releaseOptions } from '../../claims/claims-for.js';
import type { SignInContext } from '../sign-in.js';

/**
 * What this relying party may receive: its preset and rules applied to the resolved claims, and the
 * subject (NameID) it is given.
 * @throws GH_USER_INCOMPLETE
 */
export function releaseClaims(ctx: SignInContext): void {
  const { authentication: authn, request } = ctx;
  const signIn = {
    insideCorporateNetwork: request.insideCorporateNetwork,
    keepMeSignedIn: authn.session?.persistent === true,
    authenticationInstant: new Date(authn.instant),
  };
  ctx.released = release(ctx.rp, ctx.resolved, { ...releaseOptions(ctx.services.config), signIn });
}
