// Several UPN suffixes in the test domain and users of each, for the Microsoft 365 domain tests: what an AD
// that federates more than one domain (and has .local UPNs with a routable mail) looks like.
import { execFile, execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { DC } from './directory.js';

const run = promisify(execFile);

/** The suffixes added to the forest (uPNSuffixes on CN=Partitions, as "Active Directory Domains and Trusts" adds them). */
export const UPN_SUFFIXES = ['corp.example.com', 'corp.example.co.uk', 'eu.corp.example.com', 'fabrikam.example', 'corp.local'];

/** Sets the forest's alternative UPN suffixes (idempotent: a replace). */
export async function addUpnSuffixes(): Promise<void> {
  const ldif = [
    `dn: CN=Partitions,CN=Configuration,${DC.baseDn}`,
    'changetype: modify',
    'replace: uPNSuffixes',
    ...UPN_SUFFIXES.map((s) => `uPNSuffixes: ${s}`),
    '',
  ].join('\n');
  await ldbModify(ldif);
}

/** The forest's uPNSuffixes as the DC serves them over LDAP (read as the administrator). */
export function upnSuffixes(): string[] {
  const out = execFileSync(
    'ldapsearch',
    ['-LLL', '-o', 'ldif-wrap=no', '-x', '-H', DC.url, '-D', DC.admin.bindName, '-w', DC.admin.password, '-b', `CN=Partitions,CN=Configuration,${DC.baseDn}`, '-s', 'base', 'uPNSuffixes'],
    { encoding: 'utf8' },
  );
  return [...out.matchAll(/^uPNSuffixes: (\S+)$/gm)].map((m) => m[1]!);
}

async function ldbModify(ldif: string): Promise<void> {
  const child = execFile('ldbmodify', ['-H', join(DC.dir, 'private/sam.ldb')]);
  let stderr = '';
  child.stderr?.on('data', (d) => (stderr += d));
  child.stdin!.end(ldif);
  const code: number = await new Promise((resolve) => child.once('close', (c) => resolve(c ?? 1)));
  if (code !== 0) throw new Error(`ldbmodify failed (${code}): ${stderr.trim()}\n${ldif}`);
}

export interface DomainUser {
  sam: string;
  upn: string;
  mail: string | undefined;
  password: string;
  dn: string;
}

/**
 * Users with the given UPN suffix and mail, created anew with samba-tool and their UPN (and mail) set with
 * ldbmodify (samba-tool sets only realm UPNs). Names are unique per run.
 */
export async function domainUsers<K extends string>(
  password: string,
  specs: Record<K, { upnSuffix: string; mail?: (sam: string) => string }>,
): Promise<Record<K, DomainUser>> {
  const tag = Math.floor(Math.random() * 36 ** 3).toString(36).padStart(3, '0');
  const out = {} as Record<K, DomainUser>;
  let i = 0;
  for (const [key, spec] of Object.entries(specs) as [K, { upnSuffix: string; mail?: (sam: string) => string }][]) {
    const sam = `dm${i++}${tag}${key}`.slice(0, 20);
    out[key] = { sam, upn: `${sam}@${spec.upnSuffix}`, mail: spec.mail?.(sam), password, dn: `CN=${sam},CN=Users,${DC.baseDn}` };
  }
  const queue = Object.values<DomainUser>(out);
  const lane = async () => {
    for (let u = queue.shift(); u; u = queue.shift()) await run('samba-tool', ['user', 'create', u.sam, password, '-s', DC.smbConf]);
  };
  await Promise.all([lane(), lane()]);
  const ldif = Object.values<DomainUser>(out)
    .map((u) =>
      [
        `dn: ${u.dn}`,
        'changetype: modify',
        'replace: userPrincipalName',
        `userPrincipalName: ${u.upn}`,
        ...(u.mail ? ['-', 'replace: mail', `mail: ${u.mail}`] : []),
        '',
      ].join('\n'),
    )
    .join('\n');
  await ldbModify(ldif);
  return out;
}
