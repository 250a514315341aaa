// Real Kerberos for the Windows sign-in tests: the Samba DC is the KDC (samba-dc.sh runs it), samba-tool
// makes the service principal and exports its keytab, MIT kinit gets the users' tickets. Everything lives
// in a directory of the test's own; the host's /etc/krb5.conf and /etc/hosts are never read or changed:
// the service host is "localhost" (127.0.0.1's own name) and krb5.conf turns DNS canonicalisation off.
import { execFile, execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type * as KerberosModule from 'kerberos';
import { DC, samba } from './directory.js';

export const REALM = DC.realm.toUpperCase();
/** The host browsers use, and so the service principal HTTP/localhost. */
export const SERVICE_HOST = 'localhost';

export interface KerberosLab {
  dir: string;
  /** KRB5_CONFIG for clients and the server. */
  krb5Conf: string;
  keytab: string;
  /** Environment for kinit, curl and chromium: this lab's krb5.conf and the given credential cache. */
  env(ccache: string): NodeJS.ProcessEnv;
  /** `kinit user` into a cache of its own; returns the cache (FILE:...). */
  kinit(user: string, password: string): string;
  /** A service principal on an account of its own, its key exported into `keytab` (or another file). */
  addService(account: string, host: string, keytab?: string): void;
}

export function kerberosLab(): KerberosLab {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-krb5-'));
  const krb5Conf = join(dir, 'krb5.conf');
  writeFileSync(
    krb5Conf,
    `[libdefaults]
  default_realm = ${REALM}
  dns_lookup_kdc = false
  dns_lookup_realm = false
  dns_canonicalize_hostname = false
  rdns = false
[realms]
  ${REALM} = {
    kdc = 127.0.0.1
  }
[domain_realm]
  localhost = ${REALM}
  .localhost = ${REALM}
`,
  );
  const keytab = join(dir, 'http.keytab');
  const env = (ccache: string) => ({ ...process.env, KRB5_CONFIG: krb5Conf, KRB5CCNAME: ccache });
  return {
    dir,
    krb5Conf,
    keytab,
    env,
    kinit(user, password) {
      const ccache = `FILE:${join(dir, `${user}.ccache`)}`;
      execFileSync('kinit', [`${user}@${REALM}`], { input: `${password}\n`, env: env(ccache), stdio: ['pipe', 'ignore', 'pipe'] });
      return ccache;
    },
    addService(account, host, file = keytab) {
      samba('user', 'create', account, `Passw0rd!${account}1`);
      samba('spn', 'add', `HTTP/${host}`, account);
      samba('domain', 'exportkeytab', file, `--principal=HTTP/${host}`);
    },
  };
}

type Kerberos = typeof KerberosModule;
const kerberos = createRequire(import.meta.url)('kerberos') as Kerberos;

/**
 * The first Negotiate token a browser would send for HTTP/<host>, from the tickets in `ccache` (SPNEGO
 * wrapping a Kerberos AP-REQ). Made in this process by the same GSSAPI library the server uses.
 */
export async function negotiateToken(lab: KerberosLab, ccache: string, host = SERVICE_HOST): Promise<string> {
  const saved = { cfg: process.env.KRB5_CONFIG, cc: process.env.KRB5CCNAME };
  process.env.KRB5_CONFIG = lab.krb5Conf;
  process.env.KRB5CCNAME = ccache;
  try {
    const client = await kerberos.initializeClient(`HTTP@${host}`, { mechOID: kerberos.GSS_MECH_OID_SPNEGO });
    return await client.step('');
  } finally {
    process.env.KRB5CCNAME = saved.cc;
    if (saved.cfg === undefined) delete process.env.KRB5_CONFIG;
    else process.env.KRB5_CONFIG = saved.cfg;
  }
}

/** `curl --negotiate` (asynchronously: the server answering it runs in this process). */
export async function curlNegotiate(lab: KerberosLab, ccache: string, url: string, extra: string[] = []): Promise<{ status: number; body: string; trace: string }> {
  const out = join(lab.dir, `curl-${Date.now()}-${Math.random().toString(36).slice(2)}.html`);
  const { stdout, stderr } = await promisify(execFile)(
    'curl',
    ['-sS', '-v', '--negotiate', '-u', ':', '-A', 'curl/gatehouse-test', '-o', out, '-w', '%{http_code}', ...extra, url],
    { env: lab.env(ccache) },
  );
  const { readFileSync } = await import('node:fs');
  return { status: Number(stdout.trim()), body: readFileSync(out, 'utf8'), trace: stderr };
}
