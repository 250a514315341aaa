import { insideCorporateNetwork } from '../../http/network-location.js';
import type { SignInContext } from '../sign-in.js';

/**
 * The protocol adapter reads its message into the one request shape (and keeps what it needs to answer);
 * where the client is (inside the corporate network or not) is the same for every protocol.
 * @throws GH_BAD_REQUEST and the protocol's own parse errors (a WS-Trust fault)
 */
export async function decode(ctx: SignInContext): Promise<void> {
  const { request, message } = await ctx.adapter.decode(ctx);
  ctx.request = { ...request, insideCorporateNetwork: insideCorporateNetwork(ctx.http.request, ctx.services.config.network) };
  ctx.message = message;
}
