import { Refusal } from '../error-policy.js';
import type { AuthnMethod } from '../authn/method.js';
import { ANSWERED, type SignInContext, type StepResult } from '../sign-in.js';

/**
 * Who the user is: the methods of the chain in order, the first that applies and tells decides. When none
 * can, a passive request is refused and otherwise the adapter asks for the password (its login page).
 * @throws Refusal (noPassive), and what the methods throw (PasswordVerifier's errors)
 */
export function authenticateWith(methods: readonly AuthnMethod[]) {
  return async function authenticate(ctx: SignInContext): Promise<StepResult> {
    for (const method of methods) {
      if (!method.appliesTo(ctx)) continue;
      const outcome = await method.authenticate(ctx);
      if (!outcome) continue;
      if (outcome === ANSWERED) return ANSWERED;
      ctx.authentication = outcome.authenticated;
      return undefined;
    }
    if (ctx.request.authn.passive) {
      throw new Refusal('GH_BAD_REQUEST', 'noPassive', { detail: 'a passive request without a usable session' });
    }
    await ctx.adapter.challenge(ctx);
    return ANSWERED;
  };
}
