import { GatehouseError } from '../../errors.js';
import { changePasswordFromForm } from '../../authn/change-password.js';
import { isSecondFactorForm } from '../../authn/forms.js';
import { renderChangePassword, renderLogin, type ChangeReason } from '../../authn/login-page.js';
import { ANSWERED } from '../sign-in.js';
import type { AuthnMethod } from './method.js';

/** Errors shown on the form itself (the user can fix them) rather than on an error page. */
function isFormError(err: unknown): err is GatehouseError {
  return err instanceof GatehouseError && (err.isCredentialProblem || err.code === 'GH_DIRECTORY_UNAVAILABLE' || err.status === 400);
}

/**
 * The login form posted back (every browser protocol shares it): the password, or the password change
 * AD asked for and then a sign-in with the new password. A refused attempt renders the login page again
 * with the reason, or the change-password page. A success starts a single sign-on session.
 * @throws what PasswordVerifier throws that the user cannot fix on the form (GH_INTERNAL)
 */
export const formPassword: AuthnMethod = {
  name: 'form-password',
  appliesTo: (ctx) => ctx.request.authn.form !== undefined && !isSecondFactorForm(ctx.request.authn.form),

  async authenticate(ctx) {
    const { passwords, sessions, accounts, config } = ctx.services;
    const { request, reply } = ctx.http;
    const b = ctx.request.authn.form!;
    const attempt = { username: b.UserName ?? '', addresses: ctx.request.addresses, protocol: ctx.request.endpoint, realm: ctx.rp.id, correlationId: request.id, allowance: request.credentialAllowance };
    let user;
    if (b.Action === 'changePassword') {
      try {
        await changePasswordFromForm({ passwords, sessions }, attempt, b, request.log);
        // Sign in with the new password, as the user would next time.
        user = await passwords.verify({ ...attempt, password: b.NewPassword! }, request.log);
      } catch (err) {
        if (!isFormError(err)) throw err;
        ctx.refusedWith = err;
        const reason = b.Reason === 'expired' || b.Reason === 'mustChange' ? (b.Reason as ChangeReason) : undefined;
        await renderChangePassword(request, reply, config, { username: b.UserName, reason, error: err });
        return ANSWERED;
      }
    } else {
      try {
        user = await passwords.verify({ ...attempt, password: b.Password ?? '' }, request.log);
      } catch (err) {
        if (err instanceof GatehouseError && (err.code === 'GH_PASSWORD_EXPIRED' || err.code === 'GH_PASSWORD_MUST_CHANGE')) {
          ctx.refusedWith = err;
          const reason = err.code === 'GH_PASSWORD_EXPIRED' ? 'expired' : 'mustChange';
          await renderChangePassword(request, reply, config, { username: b.UserName, reason });
          return ANSWERED;
        }
        if (!isFormError(err)) throw err;
        ctx.refusedWith = err;
        await renderLogin(request, reply, config, { rp: ctx.rp, username: b.UserName, error: err });
        return ANSWERED;
      }
    }
    accounts.remember(user);
    const session = sessions.start(user, b.Kmsi === 'true');
    return {
      authenticated: { user, method: this.name, context: 'passwordProtectedTransport', instant: session.authInstant, session, newSession: true },
    };
  },
};
