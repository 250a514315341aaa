import type { AuthnMethod } from './method.js';

/**
 * Single sign-on: the browser's session cookie, unless it is missing, revoked, or older than the request
 * allows (wfresh, ForceAuthn). The account is read again (from the AccountCache for
 * session.accountRecheckSeconds), so a disabled or deleted account stops getting tokens; its sessions are
 * then revoked and stay void even if the account comes back.
 */
export const singleSignOnSession: AuthnMethod = {
  name: 'session',
  appliesTo: (ctx) => ctx.adapter.browser,

  async authenticate(ctx) {
    const { sessions, accounts } = ctx.services;
    const session = await sessions.read(ctx.http.request);
    if (!session) return undefined;
    const { notBefore } = ctx.request.authn;
    if (notBefore !== undefined && session.authInstant < notBefore) return undefined;
    // A password typed now was asked for, and this session never saw one.
    if (session.windows && ctx.request.authn.passwordRequired) return undefined;
    const user = await accounts.findByDn(session.dn);
    if (!user) {
      if (session.account) await sessions.revokeAccount(session.account);
      return undefined;
    }
    return {
      authenticated: {
        user,
        method: this.name,
        context: session.windows ? 'windows' : 'passwordProtectedTransport',
        instant: session.authInstant,
        session,
        newSession: false,
      },
    };
  },
};
