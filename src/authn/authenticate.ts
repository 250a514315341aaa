import type { Directory, DirectoryUser } from '../directory/directory.js';
import type { Session } from './session.js';
import type { SessionStore } from './session-cookie.js';

/**
 * Stage 2 without a form: the user behind a single sign-on session, or undefined when the session may
 * not be used for this request (too old for `maxAgeMinutes`, or the account is gone or disabled since:
 * the account is read again from AD, or from the AccountCache for session.accountRecheckSeconds).
 */
export async function userFromSession(
  directory: Pick<Directory, 'findByDn'>,
  session: Session | undefined,
  maxAgeMinutes: number | undefined,
  sessions?: Pick<SessionStore, 'revokeAccount'>,
  now = Date.now(),
): Promise<DirectoryUser | undefined> {
  if (!session) return undefined;
  if (maxAgeMinutes !== undefined && now - session.authInstant > maxAgeMinutes * 60_000) return undefined;
  const user = await directory.findByDn(session.dn);
  // Disabled, deleted or moved: its sessions stay void even if the account comes back.
  if (!user && session.account && sessions) await sessions.revokeAccount(session.account, now);
  return user;
}

