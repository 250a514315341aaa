import { isSecondFactorForm } from '../../authn/forms.js';
import type { AuthnMethod } from './method.js';

/** How long after the password the second-factor pages may still be answered. */
export const SECOND_STEP_MINUTES = 10;

/**
 * A second-factor page posted back (code, recovery code, enrolment): the user is the one whose password
 * started the session moments ago. The session is taken even when the request wants a fresh password
 * (wfresh=0 is "now" again at every post), as long as the password was typed within SECOND_STEP_MINUTES;
 * the secondFactor step then checks the code.
 */
export const secondFactorForm: AuthnMethod = {
  name: 'session',
  appliesTo: (ctx) => ctx.adapter.browser && isSecondFactorForm(ctx.request.authn.form),

  async authenticate(ctx) {
    const { sessions, accounts } = ctx.services;
    const session = await sessions.read(ctx.http.request);
    if (!session) return undefined;
    const { notBefore } = ctx.request.authn;
    if (notBefore !== undefined && session.authInstant < Math.min(notBefore, Date.now() - SECOND_STEP_MINUTES * 60_000)) return undefined;
    const user = await accounts.findByDn(session.dn);
    if (!user) return undefined;
    return {
      authenticated: { user, method: this.name, context: 'passwordProtectedTransport', instant: session.authInstant, session, newSession: false },
    };
  },
};
