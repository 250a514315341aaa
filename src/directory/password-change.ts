import { Attribute, Change, ConstraintViolationError, ResultCodeError, UnwillingToPerformError } from 'ldapts';
import type { Logger } from 'pino';
import { GatehouseError } from '../errors.js';
import { connectServiceAccount, type DirectoryOptions, type OpenOptions } from './connection.js';
import type { DcFailover } from './failover.js';
import type { DirectoryUser } from './user.js';

/** AD's Win32 code 0x56 ERROR_INVALID_PASSWORD: the old password is wrong. */
const OLD_PASSWORD_WRONG = /\b00000056\b/;

/**
 * Changes a password the way a user does (delete the old value, add the new one), so AD checks the old
 * password and applies its history, length and complexity rules. Done as the service account on a
 * connection of its own, always encrypted (StartTLS on ldap://), because a user whose password has
 * expired cannot bind to change it.
 * @throws GH_AUTHN_FAILED (old password wrong), GH_PASSWORD_REJECTED, GH_DIRECTORY_UNAVAILABLE
 */
export async function changePassword(
  dcs: DcFailover,
  dir: DirectoryOptions,
  open: OpenOptions,
  log: Logger,
  user: DirectoryUser,
  oldPassword: string,
  newPassword: string,
): Promise<void> {
  const quoted = (pw: string) => Buffer.from(`"${pw}"`, 'utf16le');
  await dcs.run({
    what: 'password change',
    attempt: async (url) => {
      const client = await connectServiceAccount(url, dir, { ...open, startTls: true });
      try {
        await client.modify(user.dn, [
          new Change({ operation: 'delete', modification: new Attribute({ type: 'unicodePwd', values: [quoted(oldPassword)] }) }),
          new Change({ operation: 'add', modification: new Attribute({ type: 'unicodePwd', values: [quoted(newPassword)] }) }),
        ]);
      } catch (err) {
        if (err instanceof ResultCodeError && OLD_PASSWORD_WRONG.test(err.message)) {
          throw new GatehouseError('GH_AUTHN_FAILED', { detail: `password change for ${user.dn}: old password wrong` });
        }
        // 0x52D ERROR_PASSWORD_RESTRICTION: length, complexity, history or minimum age.
        if (err instanceof ConstraintViolationError || err instanceof UnwillingToPerformError) {
          throw new GatehouseError('GH_PASSWORD_REJECTED', { detail: `password change for ${user.dn} refused: ${err.message}` });
        }
        throw err;
      } finally {
        await client.unbind().catch(() => {});
      }
      log.info({ user: user.dn }, 'directory: password changed');
    },
    isFinal: (err) => err instanceof GatehouseError,
  });
}
