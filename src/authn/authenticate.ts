import type { FastifyBaseLogger } from 'fastify';
import type { Directory, DirectoryUser } from '../directory/directory.js';
import type { Session } from './session.js';
import { GatehouseError } from '../errors.js';

/**
 * Stage 2 of a sign-in: who is this? Either the password just typed (checked by an LDAP bind), or a
 * single sign-on session that is fresh enough for this request and whose account is still usable.
 */
export async function authenticateWithPassword(
  directory: Directory,
  log: FastifyBaseLogger,
  username: string,
  password: string,
): Promise<DirectoryUser> {
  try {
    const user = await directory.authenticate(username, password);
    log.info({ event: 'authn_success', user: user.userPrincipalName ?? user.sAMAccountName }, 'password accepted');
    return user;
  } catch (err) {
    if (err instanceof GatehouseError) {
      log.warn({ event: 'authn_failure', code: err.code, detail: err.detail, username }, 'password sign-in refused');
    }
    throw err;
  }
}

/** The user behind a session, or undefined when the session may not be used for this request. */
export async function userFromSession(
  directory: Directory,
  session: Session | undefined,
  maxAgeMinutes: number | undefined,
  now = Date.now(),
): Promise<DirectoryUser | undefined> {
  if (!session) return undefined;
  if (maxAgeMinutes !== undefined && now - session.authInstant > maxAgeMinutes * 60_000) return undefined;
  return directory.findByDn(session.dn);
}
