import { ANSWERED, type SignInContext } from '../sign-in.js';

/** The protocol adapter sends the token: an auto-post form (WS-Federation, SAML 2.0) or a SOAP answer. */
export async function encode(ctx: SignInContext): Promise<typeof ANSWERED> {
  await ctx.adapter.encode(ctx);
  return ANSWERED;
}
