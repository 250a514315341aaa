import { execFileSync } from 'node:child_process';
import { DC, samba } from './directory.js';

/**
 * A user of the test's own, created anew (deleted first when a kept DC still has it), so tests that
 * change passwords or lock accounts never disturb the seeded ones.
 * `passwordAgeDays` creates the user that many days in the past (libfaketime), which is the only way
 * to get an old pwdLastSet: LDAP can only set it to 0 or -1.
 */
export function freshUser(sam: string, password: string, opts: { mustChange?: boolean; passwordAgeDays?: number } = {}) {
  try {
    samba('user', 'delete', sam);
  } catch {
    // did not exist
  }
  const args = ['user', 'create', sam, password, ...(opts.mustChange ? ['--must-change-at-next-login'] : [])];
  if (opts.passwordAgeDays) {
    execFileSync('faketime', ['-f', `-${opts.passwordAgeDays}d`, 'samba-tool', ...args, '-s', DC.smbConf], { stdio: 'ignore' });
  } else {
    samba(...args);
  }
  return { sam, upn: `${sam}@${DC.realm}`, password, dn: `CN=${sam},CN=Users,${DC.baseDn}` };
}

/** AD's own bad-password counter for a user (what AD's lockout threshold compares with). */
export function adBadPwdCount(sam: string): number {
  const out = execFileSync(
    'ldapsearch',
    ['-LLL', '-x', '-H', DC.url, '-D', DC.service.dn, '-w', DC.service.password, '-b', DC.baseDn, `(sAMAccountName=${sam})`, 'badPwdCount'],
    { encoding: 'utf8' },
  );
  return Number(/badPwdCount: (\d+)/.exec(out)?.[1] ?? 0);
}
