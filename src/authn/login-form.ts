import type { FastifyReply, FastifyRequest } from 'fastify';
import type { RelyingPartyConfig } from '../config/schema/relying-party.js';
import type { DirectoryUser } from '../directory/directory.js';
import { GatehouseError } from '../errors.js';
import { clientAddresses } from '../http/client-address.js';
import type { CredentialForm } from './forms.js';
import { renderChangePassword, renderLogin, type ChangeReason } from './login-page.js';

/** Errors shown on the form itself (the user can fix them) rather than on an error page. */
function isFormError(err: unknown): err is GatehouseError {
  return err instanceof GatehouseError && (err.isCredentialProblem || err.code === 'GH_DIRECTORY_UNAVAILABLE' || err.status === 400);
}

/**
 * Stage 2 from a posted form, for every browser protocol: the password, or the password change that AD
 * asked for (then a sign-in with the new password). Returns the account, or undefined when it rendered
 * a form (the login page again with the reason, or the change-password page) and the request is done.
 */
export async function authenticateForm(
  request: FastifyRequest<{ Body: CredentialForm }>,
  reply: FastifyReply,
  rp: RelyingPartyConfig,
  protocol: string,
): Promise<DirectoryUser | undefined> {
  const { passwords } = request.server.gatehouse;
  const b = request.body;
  const attempt = { username: b.UserName ?? '', addresses: clientAddresses(request), protocol, realm: rp.id };
  if (b.Action === 'changePassword') {
    try {
      if ((b.NewPassword ?? '') !== (b.ConfirmPassword ?? '')) throw new GatehouseError('GH_PASSWORD_MISMATCH');
      if (!b.NewPassword) throw new GatehouseError('GH_PASSWORD_REJECTED', { detail: 'empty new password' });
      const changed = await passwords.changePassword({ ...attempt, password: b.OldPassword ?? '' }, b.NewPassword, request.log);
      // Sessions started with the old password end with it (a session signed in elsewhere, a stolen cookie).
      await request.server.gatehouse.sessions.revokeAccount(changed.objectGUID.toString('hex'));
      // Sign in with the new password, as the user would next time.
      return await passwords.verify({ ...attempt, password: b.NewPassword }, request.log);
    } catch (err) {
      if (!isFormError(err)) throw err;
      const reason = b.Reason === 'expired' || b.Reason === 'mustChange' ? (b.Reason as ChangeReason) : undefined;
      await renderChangePassword(request, reply, { username: b.UserName, reason, error: err });
      return undefined;
    }
  }
  try {
    return await passwords.verify({ ...attempt, password: b.Password ?? '' }, request.log);
  } catch (err) {
    if (err instanceof GatehouseError && (err.code === 'GH_PASSWORD_EXPIRED' || err.code === 'GH_PASSWORD_MUST_CHANGE')) {
      await renderChangePassword(request, reply, { username: b.UserName, reason: err.code === 'GH_PASSWORD_EXPIRED' ? 'expired' : 'mustChange' });
      return undefined;
    }
    if (!isFormError(err)) throw err;
    await renderLogin(request, reply, { rpName: rp.name ?? rp.id, username: b.UserName, error: err });
    return undefined;
  }
}
