// The test domain seeded by test/fixtures/samba-dc.sh, and helpers that read it with the
// OpenLDAP / Samba command-line tools. Deliberately independent of src/: these are the oracle.
import { execFileSync, spawnSync } from 'node:child_process';
import path from 'node:path';

const dir = process.env.SAMBA_DC_DIR ?? '/tmp/gatehouse-samba-dc';
const realm = 'corp.example.test';
const baseDn = 'DC=corp,DC=example,DC=test';

export interface DirectoryUser {
  sam: string;
  upn: string;
  password: string;
  dn: string;
  /** AD "data" code of a simple bind with the right password; null = bind succeeds (as seeded). */
  bindData: string | null;
  givenName?: string;
  surname?: string;
  mail?: string;
}

function user(sam: string, password: string, bindData: string | null, rdn = `CN=${sam},CN=Users`): DirectoryUser {
  return { sam, upn: `${sam}@${realm}`, password, dn: `${rdn},${baseDn}`, bindData };
}

export const DC = {
  url: 'ldap://127.0.0.1',
  ldapsUrl: 'ldaps://127.0.0.1',
  baseDn,
  realm,
  netbios: 'CORP',
  dir,
  smbConf: path.join(dir, 'etc/smb.conf'),
  // Samba generates this CA and the LDAPS certificate on its first start.
  caFile: path.join(dir, 'private/tls/ca.pem'),
  // CN of the LDAPS certificate (no subjectAltName): connect to 127.0.0.1 with this as servername.
  tlsServerName: 'DC1.corp.example.test',
  // Over LDAP the admin must bind as CORP\Administrator (bare "Administrator" gives data 51f).
  admin: { bindName: 'CORP\\Administrator', dn: `CN=Administrator,CN=Users,${baseDn}`, password: 'Passw0rd!Adm1n' },
  service: user('svc-gatehouse', 'Passw0rd!Svc1', null),
} as const;

export const USERS = {
  alice: {
    ...user('alice', 'Passw0rd!Alice', null, 'CN=Alice Liddell,OU=Staff'),
    givenName: 'Alice',
    surname: 'Liddell',
    mail: 'alice@corp.example.test',
  },
  bob: user('bob', 'Passw0rd!Bob1', null), // for wrong-password tests (52e)
  carol: user('carol', 'Passw0rd!Carol', '533'), // disabled
  dave: user('dave', 'Passw0rd!Dave1', '773'), // must change password at next logon
  erin: user('erin', 'Passw0rd!Erin1', null), // lockout tests: 3 bad binds -> 775; unlockUser('erin')
  frank: user('frank', 'Passw0rd!Frank1', '701'), // account expired
  hank: user('hank', 'Passw0rd!Hank1', '532'), // password expired (created 50 days in the past)
  ivan: user('ivan', 'Passw0rd!Ivan1', null), // spare, for browser tests
} as const satisfies Record<string, DirectoryUser>;

export type UserName = keyof typeof USERS;

/** Run `samba-tool ARGS -s DIR/etc/smb.conf` against the local sam.ldb; returns stdout. */
export function samba(...args: string[]): string {
  try {
    return execFileSync('samba-tool', [...args, '-s', DC.smbConf], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  } catch (err) {
    const e = err as { stderr?: string; stdout?: string };
    throw new Error(`samba-tool ${args.join(' ')} failed: ${(e.stderr || e.stdout || String(err)).trim()}`);
  }
}

export function unlockUser(sam: string): void {
  samba('user', 'unlock', sam);
}

export interface BindResult {
  ok: boolean;
  /** AD sub-code from "AcceptSecurityContext error, data XXX" (52e, 533, 773, 775, ...). */
  data: string | null;
  stderr: string;
}

/** Simple bind with ldapsearch (Samba has no "Who am I?"), reading the rootDSE. */
export function ldapBind(bindName: string, password: string): BindResult {
  const r = spawnSync('ldapsearch', ['-x', '-H', DC.url, '-D', bindName, '-w', password, '-b', '', '-s', 'base', 'dnsHostName'], {
    encoding: 'utf8',
  });
  if (r.error) throw r.error;
  return { ok: r.status === 0, data: /\bdata ([0-9a-f]+)\b/.exec(r.stderr)?.[1] ?? null, stderr: r.stderr };
}

/** LDIF (unwrapped) of a subtree search under the base DN, bound as the service account. */
export function searchAsService(filter: string, attrs: string[] = []): string {
  try {
    return execFileSync(
      'ldapsearch',
      ['-LLL', '-o', 'ldif-wrap=no', '-x', '-H', DC.url, '-D', DC.service.dn, '-w', DC.service.password, '-b', DC.baseDn, filter, ...attrs],
      { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] },
    );
  } catch (err) {
    throw new Error(`ldapsearch ${filter} failed: ${String((err as { stderr?: string }).stderr ?? err).trim()}`);
  }
}

/** RFC 4515 escaping for a value inside a filter. */
export function escapeFilterValue(v: string): string {
  return v.replace(/[\\*()\0]/g, (c) => `\\${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

/** base64 of the raw objectGUID bytes (= Microsoft 365 ImmutableID), read independently of Gatehouse. */
export function objectGuidBase64(sam: string): string {
  const ldif = searchAsService(`(sAMAccountName=${escapeFilterValue(sam)})`, ['objectGUID']);
  const m = /^objectGUID:: (\S+)$/m.exec(ldif);
  if (!m?.[1]) throw new Error(`no objectGUID for ${sam}:\n${ldif}`);
  return m[1];
}
