import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Session } from '../../authn/session.js';
import { renderPage } from '../../http/pages.js';
import type { Services } from '../../services.js';
import type { SignOutRequest } from './parse.js';

/**
 * Tells the session's other relying parties (SAML 2.0 single logout): true when it answered (the first hop
 * of the chain), false when there was none to tell. A boolean, not the reply: a FastifyReply is a thenable
 * that resolves to undefined once sent, so it cannot say "answered" through a promise.
 */
export type LogoutPropagation = (
  request: FastifyRequest,
  reply: FastifyReply,
  session: Session | undefined,
  wreply: string | undefined,
) => Promise<boolean>;

/**
 * `wsignout1.0` and `wsignoutcleanup1.0`: the session ends (its cookie cleared and revoked server-side),
 * its SAML 2.0 relying parties are logged out too (a front-channel chain), then the browser goes to
 * wreply when it is a registered reply URL, or to the signed-out page.
 */
export function wsFedSignOut(services: Pick<Services, 'sessions' | 'relyingParties'>, propagate: LogoutPropagation) {
  const { sessions, relyingParties } = services;
  return async function signOut(request: FastifyRequest, reply: FastifyReply, req: SignOutRequest): Promise<FastifyReply> {
    const session = await sessions.read(request);
    sessions.clear(reply);
    if (session) await sessions.revoke(session);
    request.log.info({ event: 'signout', sid: session?.sid, action: req.action }, 'signed out');
    const wreply = req.wreply && relyingParties.isRegisteredReply(req.wreply) ? req.wreply : undefined;
    if (await propagate(request, reply, session, wreply)) return reply;
    if (wreply) return reply.header('cache-control', 'no-store').redirect(wreply, 302);
    return renderPage(reply, 'signed-out', {});
  };
}
