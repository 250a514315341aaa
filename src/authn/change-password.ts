import type { FastifyBaseLogger } from 'fastify';
import type { DirectoryUser } from '../directory/directory.js';
import { GatehouseError } from '../errors.js';
import type { CredentialForm } from './forms.js';
import type { Attempt, PasswordVerifier } from './password-check.js';
import type { SessionStore } from './session-cookie.js';

/**
 * The change-password form (the portal's page, and the one shown at sign-in when AD asks for a change):
 * the new password typed twice alike, the change under smart lockout (PasswordVerifier), then every
 * session started with the old password ends (a session signed in elsewhere, a stolen cookie).
 * @throws GH_PASSWORD_MISMATCH, GH_PASSWORD_REJECTED, and what PasswordVerifier.changePassword throws
 */
export async function changePasswordFromForm(
  deps: { passwords: Pick<PasswordVerifier, 'changePassword'>; sessions: Pick<SessionStore, 'revokeAccount'> },
  attempt: Omit<Attempt, 'password'>,
  form: CredentialForm,
  log: FastifyBaseLogger,
): Promise<DirectoryUser> {
  if ((form.NewPassword ?? '') !== (form.ConfirmPassword ?? '')) throw new GatehouseError('GH_PASSWORD_MISMATCH');
  if (!form.NewPassword) throw new GatehouseError('GH_PASSWORD_REJECTED', { detail: 'empty new password' });
  const user = await deps.passwords.changePassword({ ...attempt, password: form.OldPassword ?? '' }, form.NewPassword, log);
  await deps.sessions.revokeAccount(user.objectGUID.toString('hex'));
  return user;
}
