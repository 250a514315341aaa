import { encryptAssertion } from '../../tokens/encrypt.js';
import { SAML11_TOKEN, SAML20_TOKEN } from '../../tokens/formats.js';
import { sessionIndexOf, type Saml2Delivery } from '../../tokens/saml20.js';
import type { SignInContext } from '../sign-in.js';

/** SAML 2.0's bearer confirmation (saml-profiles 4.1.4.2): the request answered, the ACS, the session. */
function saml2Delivery(ctx: SignInContext): Saml2Delivery {
  const session = ctx.authentication.session!;
  return {
    inResponseTo: ctx.request.messageId,
    recipient: ctx.replyTo!,
    sessionIndex: sessionIndexOf(session.sid),
    sessionNotOnOrAfter: new Date(session.expires),
  };
}

/**
 * The assertion in the adapter's token format, signed with the current token-signing key, then
 * encrypted when the relying party's metadata gives an encryption key (and its configuration does not
 * say encryptAssertion: false): SAML 2.0 signs before it encrypts, so the SP verifies what it decrypts.
 */
export async function signToken(ctx: SignInContext): Promise<void> {
  const key = ctx.services.signingKey;
  ctx.token = ctx.adapter.tokenFormat === 'saml11' ? SAML11_TOKEN.sign(ctx.assertion, key, undefined) : SAML20_TOKEN.sign(ctx.assertion, key, saml2Delivery(ctx));
  ctx.encryptedTo = ctx.rp.encryptAssertion === false ? undefined : ctx.sp?.encryptionCert;
  if (ctx.encryptedTo) ctx.token = await encryptAssertion(ctx.token, ctx.encryptedTo);
}
