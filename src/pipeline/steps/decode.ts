import type { SignInContext } from '../sign-in.js';

/**
 * The protocol adapter reads its message into the one request shape (and keeps what it needs to answer).
 * @throws GH_BAD_REQUEST and the protocol's own parse errors (a WS-Trust fault)
 */
export async function decode(ctx: SignInContext): Promise<void> {
  const { request, message } = await ctx.adapter.decode(ctx);
  ctx.request = request;
  ctx.message = message;
}
