import type { SignInContext } from '../sign-in.js';

/**
 * Where the answer goes: one of the relying party's registered endpoints, chosen by the adapter (a request
 * may pick among them, never name its own). WS-Trust answers on the HTTP response and has none.
 * @throws GH_RP_UNKNOWN (no reply URL), GH_SAML_ENDPOINT_UNREGISTERED
 */
export function chooseReplyEndpoint(ctx: SignInContext): void {
  if (ctx.adapter.replyEndpoint) ctx.replyTo = ctx.adapter.replyEndpoint(ctx);
}
