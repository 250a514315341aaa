import type { SignInContext } from '../sign-in.js';

/**
 * The single sign-on session records the relying party (single logout tells it later). The cookie is
 * written only when it changes: a new session, or a relying party it has not seen yet. No session: WS-Trust.
 */
export function joinSession(ctx: SignInContext): void {
  const { session, newSession } = ctx.authentication;
  if (!session) return;
  const seen = session.realms.includes(ctx.rp.id);
  if (!seen) session.realms.push(ctx.rp.id);
  if (newSession || !seen) ctx.services.sessions.write(ctx.http.reply, session);
}
