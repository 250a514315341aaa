import type { Directory, DirectoryUser } from '../directory/directory.js';
import { fileTimeToDate, isDisabled } from '../directory/user.js';
import { GatehouseError } from '../errors.js';

/**
 * The AD account a Kerberos client principal names: `alice@CORP.EXAMPLE.COM` is the sAMAccountName alice
 * of the domain whose realm that is (compared without case, as AD does); an enterprise principal
 * `alice\@example.com@CORP.EXAMPLE.COM` names a UPN. Undefined for another realm or a service principal.
 */
export function accountOfPrincipal(principal: string, realm: string): { sam: string } | { upn: string } | undefined {
  const at = principal.search(/@[^@]*$/);
  if (at <= 0) return undefined;
  if (principal.slice(at + 1).toUpperCase() !== realm.toUpperCase()) return undefined;
  const name = principal.slice(0, at);
  if (name.includes('/')) return undefined;
  if (name.includes('\\@')) return { upn: name.replace(/\\@/g, '@') };
  if (name.includes('@') || name.includes('\\')) return undefined;
  return { sam: name };
}

const UF_LOCKOUT = 0x10; // msDS-User-Account-Control-Computed
const UF_PASSWORD_EXPIRED = 0x800000;

/**
 * A ticket proves who the user was when the KDC issued it (up to ten hours ago): the account is read
 * again and refused as a password bind would be when it has been disabled, has expired or is locked out
 * since, or its password has expired.
 * @throws GH_ACCOUNT_DISABLED, GH_ACCOUNT_EXPIRED, GH_ACCOUNT_LOCKED, GH_PASSWORD_EXPIRED, GH_DIRECTORY_UNAVAILABLE
 */
export async function checkAccountState(directory: Directory, user: DirectoryUser, now = new Date()): Promise<void> {
  const who = user.userPrincipalName ?? user.sAMAccountName;
  if (isDisabled(user)) throw new GatehouseError('GH_ACCOUNT_DISABLED', { detail: `${who}: Kerberos ticket for a disabled account` });
  const attrs = await directory.readAttributes(user.dn, ['accountExpires', 'msDS-User-Account-Control-Computed']);
  const expires = fileTimeToDate(String(attrs.get('accountexpires')?.[0] ?? ''));
  if (expires && expires <= now) throw new GatehouseError('GH_ACCOUNT_EXPIRED', { detail: `${who}: account expired ${expires.toISOString()}` });
  const computed = Number(attrs.get('msds-user-account-control-computed')?.[0] ?? 0);
  if (computed & UF_LOCKOUT) throw new GatehouseError('GH_ACCOUNT_LOCKED', { detail: `${who}: locked out in AD` });
  if (computed & UF_PASSWORD_EXPIRED) throw new GatehouseError('GH_PASSWORD_EXPIRED', { detail: `${who}: password expired` });
}

/** A machine principal: the computer account's sAMAccountName, which ends in `$` (WS01$@CORP.EXAMPLE.COM). */
export function isComputerAccount(account: { sam: string } | { upn: string }): boolean {
  return 'sam' in account && account.sam.endsWith('$') && account.sam.length > 1;
}

/**
 * The directory user of a Kerberos principal, usable now. A computer's principal (`WS01$@REALM`) is
 * looked up among computers only when `computers` is true (WS-Trust windowstransport, the hybrid join);
 * a browser never signs in as a computer.
 * @throws GH_AUTHN_FAILED (no such user in this directory), the account-state errors, GH_DIRECTORY_UNAVAILABLE
 */
export async function windowsUser(directory: Directory, principal: string, realm: string, opts: { computers?: boolean } = {}): Promise<DirectoryUser> {
  const account = accountOfPrincipal(principal, realm);
  if (!account) throw new GatehouseError('GH_AUTHN_FAILED', { detail: `Kerberos principal ${principal} is not a user of realm ${realm}` });
  const computer = isComputerAccount(account);
  if (computer && !opts.computers) throw new GatehouseError('GH_AUTHN_FAILED', { detail: `Kerberos principal ${principal} is a computer; computers sign in at windowstransport only` });
  const user = computer ? await directory.findComputer((account as { sam: string }).sam) : await directory.findUser('sam' in account ? account.sam : account.upn);
  if (!user) throw new GatehouseError('GH_AUTHN_FAILED', { detail: `Kerberos principal ${principal}: no such ${computer ? 'computer' : 'user'} in the directory` });
  await checkAccountState(directory, user);
  return user;
}
