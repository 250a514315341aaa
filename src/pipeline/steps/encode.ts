import type { FastifyReply } from 'fastify';
import type { SignInContext } from '../sign-in.js';

/** The protocol adapter sends the token: an auto-post form (WS-Federation, SAML 2.0) or a SOAP answer. */
export async function encode(ctx: SignInContext): Promise<FastifyReply> {
  return ctx.adapter.encode(ctx);
}
