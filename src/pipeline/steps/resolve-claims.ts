import { resolveClaimsFor } from '../../claims/resolve.js';
import type { SignInContext } from '../sign-in.js';

/**
 * What is true about the user that the relying party's rules ask for (extra attributes, group checks),
 * read from the directory only when a rule needs it.
 * @throws GH_DIRECTORY_UNAVAILABLE
 */
export async function resolveClaims(ctx: SignInContext): Promise<void> {
  ctx.resolved = await resolveClaimsFor(ctx.services.directory, ctx.authentication.user, ctx.rp);
}
