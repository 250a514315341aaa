// Windows sign-in against password sign-in, one sign-in at a time: the time the server takes to answer a
// Kerberos sign-in (GET with Authorization: Negotiate; GSSAPI accepts the ticket, the account is read and
// its state checked, the token signed) and a password sign-in (the login POST: look-up, LDAP bind as the
// user, token), alternated so both see the same machine. Measured at the client over loopback with one
// request in flight, so it is the server's time plus a loopback round trip. The Negotiate tokens are made
// beforehand (each carries a fresh authenticator: the server's replay cache refuses a second use).
// Needs the test DC's KDC (test/fixtures/samba-dc.sh), MIT kinit, and a network namespace of its own:
//   unshare -n -- sh -c 'ip link set lo up && SAMBA_DC_DIR=$(mktemp -d)/dc npm run bench -- kerberos'
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSelfSignedCertificate } from '../dist/keys/generate.js';
import { randomBytes } from 'node:crypto';
import { ensureDc, M365, startGatehouse, table } from './lib.mjs';

const REALM = 'CORP.EXAMPLE.TEST';
const ALICE = { sam: 'alice', upn: 'alice@corp.example.test', password: 'Passw0rd!Alice' };
const kerberos = createRequire(import.meta.url)('kerberos');

function samba(dcDir, ...args) {
  execFileSync('samba-tool', [...args, '-s', join(dcDir, 'etc/smb.conf')], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, PATH: `${process.env.PATH}:/usr/sbin` } });
}

function stats(ms) {
  const s = [...ms].sort((a, b) => a - b);
  const at = (p) => s[Math.min(s.length - 1, Math.floor(p * s.length))];
  return { p50: at(0.5), p90: at(0.9) };
}

export default async function run({ duration }) {
  const rounds = Math.max(50, duration * 20);
  ensureDc();
  const dcDir = process.env.SAMBA_DC_DIR ?? '/tmp/gatehouse-samba-dc';
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-bench-krb-'));
  const krb5Conf = join(dir, 'krb5.conf');
  writeFileSync(krb5Conf, `[libdefaults]\n  default_realm = ${REALM}\n  dns_lookup_kdc = false\n  dns_canonicalize_hostname = false\n  rdns = false\n[realms]\n  ${REALM} = {\n    kdc = 127.0.0.1\n  }\n[domain_realm]\n  localhost = ${REALM}\n`);
  const keytab = join(dir, 'http.keytab');
  const account = `svc-bk-${randomBytes(3).toString('hex')}`;
  samba(dcDir, 'user', 'create', account, `Passw0rd!${account}`);
  samba(dcDir, 'spn', 'add', 'HTTP/localhost', account);
  samba(dcDir, 'domain', 'exportkeytab', keytab, '--principal=HTTP/localhost');
  const ccache = `FILE:${join(dir, 'alice.ccache')}`;
  Object.assign(process.env, { KRB5_CONFIG: krb5Conf, KRB5CCNAME: ccache, KRB5RCACHEDIR: dir });
  execFileSync('kinit', [`${ALICE.sam}@${REALM}`], { input: `${ALICE.password}\n`, stdio: ['pipe', 'ignore', 'pipe'] });

  const cert = createSelfSignedCertificate({ commonName: 'bench', bits: 2048, days: 2 });
  const gh = await startGatehouse({
    keys: { ...cert, sessionKey: randomBytes(32).toString('base64') },
    extra: {
      network: { corporate: ['127.0.0.0/8'] },
      kerberos: { enabled: true, keytab, servicePrincipal: 'HTTP/localhost', userAgents: ['^bench$'] },
    },
  });
  try {
    const url = `${gh.url}/adfs/ls/?wa=wsignin1.0&wtrealm=${encodeURIComponent(M365)}`;
    const tokens = [];
    for (let i = 0; i < rounds + 10; i++) tokens.push(await (await kerberos.initializeClient('HTTP@localhost', { mechOID: kerberos.GSS_MECH_OID_SPNEGO })).step(''));
    // The login form's CSRF pair, fetched as a browser without Negotiate support would.
    const page = await fetch(url, { headers: { 'user-agent': 'other' } });
    const cookie = page.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
    const csrf = /name="_csrf" value="([^"]+)"/.exec(await page.text())[1];
    const body = new URLSearchParams({ _csrf: csrf, UserName: ALICE.upn, Password: ALICE.password }).toString();

    const timed = async (req) => {
      const t0 = process.hrtime.bigint();
      const res = await fetch(url, req);
      const text = await res.text();
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      if (!text.includes('wresult')) throw new Error(`no token (status ${res.status})`);
      return ms;
    };
    const krb = [];
    const pwd = [];
    for (let i = 0; i < rounds + 10; i++) {
      const k = await timed({ headers: { 'user-agent': 'bench', authorization: `Negotiate ${tokens[i]}` } });
      const p = await timed({ method: 'POST', headers: { 'user-agent': 'bench', cookie, 'content-type': 'application/x-www-form-urlencoded' }, body });
      // The first ten of each warm up the server (JIT, connections to the DC).
      if (i >= 10) {
        krb.push(k);
        pwd.push(p);
      }
    }
    const k = stats(krb);
    const p = stats(pwd);
    const rows = [
      { sign_in: 'password (login POST: look-up, bind as the user, token)', p50_ms: p.p50.toFixed(1), p90_ms: p.p90.toFixed(1), ratio_p50: '1.00' },
      { sign_in: 'Kerberos (GET with Negotiate: GSSAPI, account read + state, token)', p50_ms: k.p50.toFixed(1), p90_ms: k.p90.toFixed(1), ratio_p50: (k.p50 / p.p50).toFixed(2) },
    ];
    table(rows);
    return { rounds, rows };
  } finally {
    await gh.stop();
    try {
      samba(dcDir, 'user', 'delete', account);
    } catch {
      // the DC may already be gone
    }
  }
}
