import { execFileSync } from 'node:child_process';
import { DC, samba } from './directory.js';

/**
 * A user of the test's own, created anew (deleted first when a kept DC still has it), so tests that
 * change passwords, lock accounts or send wrong passwords never disturb the seeded ones. (A wrong password
 * moves AD's badPwdCount: the next file, signing in as a seeded user within AD's one-minute observation
 * window from an address its server does not know, would be refused by smart lockout.)
 * `passwordAgeDays` creates the user that many days in the past (libfaketime), which is the only way
 * to get an old pwdLastSet: LDAP can only set it to 0 or -1.
 */
export function freshUser(sam: string, password: string, opts: { mustChange?: boolean; passwordAgeDays?: number; disabled?: boolean } = {}) {
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
  if (opts.disabled) samba('user', 'disable', sam);
  return { sam, upn: `${sam}@${DC.realm}`, password, dn: `CN=${sam},CN=Users,${DC.baseDn}` };
}

/** A numeric attribute of a user as the service account reads it (0 when absent). */
function adNumber(sam: string, attribute: string): number {
  const out = execFileSync(
    'ldapsearch',
    ['-LLL', '-x', '-H', DC.url, '-D', DC.service.dn, '-w', DC.service.password, '-b', DC.baseDn, `(sAMAccountName=${sam})`, attribute],
    { encoding: 'utf8' },
  );
  return Number(new RegExp(`^${attribute}: (\\d+)$`, 'm').exec(out)?.[1] ?? 0);
}

/** AD's own bad-password counter for a user (what AD's lockout threshold compares with). */
export function adBadPwdCount(sam: string): number {
  return adNumber(sam, 'badPwdCount');
}

/** NT hash (MD4 of the UTF-16LE password), as AD stores it in unicodePwd. Node 20's OpenSSL 3 has MD4 only in its legacy provider. */
export function ntHash(password: string): string {
  return execFileSync(
    process.execPath,
    ['--openssl-legacy-provider', '-e', "let s='';process.stdin.on('data',(d)=>s+=d).on('end',()=>process.stdout.write(require('crypto').createHash('md4').update(s,'utf16le').digest('hex')))"],
    { input: password, encoding: 'utf8' },
  );
}

/**
 * What AD itself holds as the user's current password, read from sam.ldb with `samba-tool user getpassword`
 * (unicodePwd is the NT hash) and the time it was set. Unlike a bind, this has no "old password allowed
 * period": Samba accepts the previous password in simple binds for 60 minutes after a change.
 */
export function adPassword(sam: string): { ntHash: string; pwdLastSet: Date } {
  const out = samba('user', 'getpassword', sam, '--attributes=unicodePwd,pwdLastSet');
  const hash = /^unicodePwd:: (\S+)$/m.exec(out)?.[1];
  const lastSet = /^pwdLastSet: (\d+)$/m.exec(out)?.[1];
  if (!hash || !lastSet) throw new Error(`no unicodePwd/pwdLastSet for ${sam}:\n${out}`);
  // pwdLastSet counts 100 ns intervals since 1601-01-01.
  const ms = Number(BigInt(lastSet) / 10_000n) - 11_644_473_600_000;
  return { ntHash: Buffer.from(hash, 'base64').toString('hex'), pwdLastSet: new Date(ms) };
}

/**
 * `n` new users named `<prefix><run><i>` (unique per run, so a kept DC needs no clean-up), created two
 * at a time (each samba-tool call is mostly Python start-up).
 */
export async function freshUsers(prefix: string, n: number, password: string): Promise<{ sam: string; upn: string; password: string }[]> {
  const { execFile } = await import('node:child_process');
  const { promisify } = await import('node:util');
  const run = promisify(execFile);
  const tag = Math.floor(Math.random() * 36 ** 3).toString(36).padStart(3, '0');
  const users = Array.from({ length: n }, (_, i) => {
    const sam = `${prefix}${tag}${i}`.slice(0, 20);
    return { sam, upn: `${sam}@${DC.realm}`, password };
  });
  const queue = [...users];
  const lane = async () => {
    for (let u = queue.shift(); u; u = queue.shift()) await run('samba-tool', ['user', 'create', u.sam, password, '-s', DC.smbConf]);
  };
  await Promise.all([lane(), lane()]);
  return users;
}

/** AD's lockoutTime for the account: non-zero while AD has it locked. */
export function adLockoutTime(sam: string): number {
  return adNumber(sam, 'lockoutTime');
}
