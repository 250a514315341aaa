// Shared pieces of the benchmarks: the Samba DC, a Gatehouse child process, load generation, checks.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { stringify } from 'yaml';

export const ROOT = fileURLToPath(new URL('..', import.meta.url));
export const DC = {
  url: 'ldap://127.0.0.1',
  baseDn: 'DC=corp,DC=example,DC=test',
  service: { dn: 'CN=svc-gatehouse,CN=Users,DC=corp,DC=example,DC=test', password: 'Passw0rd!Svc1' },
};
export const M365 = 'urn:federation:MicrosoftOnline';

/** The test directory (test/fixtures/samba-dc.sh): started if it is not running, left running. */
export function ensureDc() {
  const script = join(ROOT, 'test/fixtures/samba-dc.sh');
  if (spawnSync('bash', [script, 'status'], { stdio: 'ignore' }).status === 0) return;
  const r = spawnSync('bash', [script, 'install'], { stdio: 'inherit' });
  if (r.status !== 0) throw new Error('samba-dc.sh install failed');
  if (spawnSync('bash', [script, 'up'], { stdio: 'inherit' }).status !== 0) throw new Error('samba-dc.sh up failed');
}

/**
 * Adds LDIF records to a Samba DC's sam.ldb with ldbadd, through Samba's own modules (objectGUID, USNs,
 * SIDs, password hashes), as samba-tool does but without its start-up per user; a running samba sees them
 * at once. batch_mode: a failed record fails the whole call, so ldb skips its per-record sub-transaction,
 * which copied every shared index record on each add (about 10 times faster on a large directory).
 */
export function ldbaddLdif(dcDir, ldif) {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-bench-ldif-'));
  try {
    writeFileSync(join(dir, 'records.ldif'), ldif);
    const r = spawnSync('ldbadd', ['--nosync', '-o', 'batch_mode', '-H', join(dcDir, 'private/sam.ldb'), join(dir, 'records.ldif')], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`ldbadd failed: ${r.stderr || r.stdout}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * On a machine with at least 2 cores, put the domain controller on core 0 and Gatehouse, the load
 * generator and the raw-LDAP baseline on the others, as if the DC were its own machine (it is, in any real
 * deployment). Without this, Gatehouse's own CPU work (HTTP, RSA) is taken from the DC's and the
 * comparison measures the 2-core box, not Gatehouse. Returns a function that undoes it.
 */
export function isolateDc(dcDir = process.env.SAMBA_DC_DIR ?? '/tmp/gatehouse-samba-dc') {
  const cores = cpus().length;
  if (cores < 2 || spawnSync('sh', ['-c', 'command -v taskset'], { stdio: 'ignore' }).status !== 0) return { note: 'not isolated', undo() {} };
  const pid = readFileSync(join(dcDir, 'run/samba.pid'), 'utf8').trim();
  const rest = `1-${cores - 1}`;
  spawnSync('taskset', ['-a', '-p', '-c', '0', pid], { stdio: 'ignore' });
  spawnSync('taskset', ['-a', '-p', '-c', rest, String(process.pid)], { stdio: 'ignore' });
  return {
    note: `DC on core 0, Gatehouse + load on cores ${rest}`,
    cpuList: rest,
    undo() {
      spawnSync('taskset', ['-a', '-p', '-c', `0-${cores - 1}`, pid], { stdio: 'ignore' });
      spawnSync('taskset', ['-a', '-p', '-c', `0-${cores - 1}`, String(process.pid)], { stdio: 'ignore' });
    },
  };
}

/**
 * `count` users with `password` in `ou` (created if missing) of the test DC, named `prefix-00001`…, added
 * once with ldbadd (see ldbaddLdif); returns the seconds spent adding them (0 when they were there).
 */
export async function ensureAccounts({ dcDir, ou, count, password, prefix }) {
  const { Client } = await import('ldapts');
  const admin = { dn: `CN=Administrator,CN=Users,${DC.baseDn}`, password: 'Passw0rd!Adm1n' };
  const c = new Client({ url: DC.url });
  await c.bind(admin.dn, admin.password);
  let have = 0;
  try {
    for await (const page of c.searchPaginated(ou, { scope: 'one', filter: '(objectClass=user)', attributes: ['1.1'], paged: { pageSize: 1000 } })) have += page.searchEntries.length;
  } catch (err) {
    if (err.name !== 'NoSuchObjectError') throw err;
    await c.add(ou, { objectClass: ['top', 'organizationalUnit'], ou: /^OU=([^,]+)/.exec(ou)[1] });
  } finally {
    await c.unbind().catch(() => {});
  }
  if (have >= count) return 0;
  if (have > 0) throw new Error(`${ou} has ${have} of ${count} users: delete the OU (or re-provision the test DC) and run again`);
  const pwd = Buffer.from(`"${password}"`, 'utf16le').toString('base64');
  const ldif = [];
  for (let i = 1; i <= count; i++) {
    const name = `${prefix}-${String(i).padStart(5, '0')}`;
    ldif.push(`dn: CN=${name},${ou}\nobjectClass: user\nsAMAccountName: ${name}\nuserPrincipalName: ${name}@corp.example.test\nunicodePwd:: ${pwd}\nuserAccountControl: 512\n`);
  }
  const t0 = Date.now();
  ldbaddLdif(dcDir, ldif.join('\n'));
  return (Date.now() - t0) / 1000;
}

export function freePort() {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/** Operations per second of a synchronous function, over `seconds` (after a short warm-up). */
export function rate(fn, seconds) {
  const warm = Date.now() + 300;
  while (Date.now() < warm) fn();
  let n = 0;
  const start = process.hrtime.bigint();
  const end = start + BigInt(Math.round(seconds * 1e9));
  let now = start;
  while (now < end) {
    for (let i = 0; i < 20; i++) fn();
    n += 20;
    now = process.hrtime.bigint();
  }
  return n / (Number(now - start) / 1e9);
}

/** A configured Gatehouse (`gatehouse serve`) in a child process, so load and server do not share a thread. */
export async function startGatehouse({ keys, extra = {}, cpuList }) {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-bench-'));
  writeFileSync(join(dir, 'signing.crt'), keys.certPem);
  writeFileSync(join(dir, 'signing.key'), keys.keyPem, { mode: 0o600 });
  writeFileSync(join(dir, 'session.key'), keys.sessionKey, { mode: 0o600 });
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const config = {
    publicUrl: url,
    listen: { host: '127.0.0.1', port },
    logLevel: 'warn',
    directory: { urls: [DC.url], baseDn: DC.baseDn, bindDn: DC.service.dn, bindPassword: DC.service.password },
    signing: { certFile: join(dir, 'signing.crt'), keyFile: join(dir, 'signing.key') },
    session: { keyFile: join(dir, 'session.key') },
    stateDir: join(dir, 'var'),
    lockout: { mode: 'off' },
    rateLimit: { perAddressPerMinute: 10_000_000, globalPerMinute: 10_000_000 },
    // The load generator is one address with many connections: no per-address cap (a proxy is exempt anyway).
    http: { maxConnectionsPerAddress: 0 },
    // One process unless the benchmark asks for more (the default, 0, is one per core).
    workers: 1,
    ...extra,
  };
  const file = join(dir, 'gatehouse.yaml');
  writeFileSync(file, stringify(config));
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('GATEHOUSE_')));
  const argv = [process.execPath, join(ROOT, 'dist/cli.js'), 'serve', '--config', file];
  const [cmd, ...args] = cpuList ? ['taskset', '-c', cpuList, ...argv] : argv;
  const child = spawn(cmd, args, { env, stdio: ['ignore', 'pipe', 'inherit'] });
  let exited = false;
  child.once('exit', () => (exited = true));
  child.stdout.resume();
  for (let i = 0; ; i++) {
    if (exited) throw new Error('gatehouse exited at start (see its output above)');
    if (i > 200) throw new Error('gatehouse did not answer /adfs/probe within 20 s');
    try {
      if ((await fetch(`${url}/adfs/probe`)).ok) break;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    dir,
    /** taskset execs node, so this is the server's pid either way. */
    pid: child.pid,
    async stop() {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A browser's cookie jar: `keep` takes a response's Set-Cookie lines, `cookie` is the request header. */
export function cookieJar() {
  const jar = new Map();
  return {
    keep(res) {
      for (const line of res.headers.getSetCookie()) {
        const [pair] = line.split(';');
        const i = pair.indexOf('=');
        jar.set(pair.slice(0, i), pair.slice(i + 1));
      }
    },
    cookie: () => [...jar].map(([k, v]) => `${k}=${v}`).join('; '),
  };
}

/** Signs a user in through the login page; returns the cookie header of the session. */
export async function sessionCookie(url, username, password) {
  const { keep, cookie } = cookieJar();
  const signIn = `${url}/adfs/ls/?wa=wsignin1.0&wtrealm=${encodeURIComponent(M365)}`;
  const page = await fetch(signIn, { headers: { cookie: cookie() } });
  keep(page);
  const csrf = /name="_csrf" value="([^"]+)"/.exec(await page.text())[1];
  const res = await fetch(signIn, {
    method: 'POST',
    headers: { cookie: cookie(), 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ _csrf: csrf, UserName: username, Password: password }),
  });
  keep(res);
  if (!(await res.text()).includes('wresult')) throw new Error(`sign-in failed for ${username}`);
  return cookie();
}

/** autocannon against one request shape; returns rate and latency percentiles. */
export async function load(opts) {
  const r = await autocannon({ ...opts, connections: opts.connections ?? 16, duration: opts.duration ?? 10 });
  if (r.non2xx || r.errors) throw new Error(`load run had ${r.non2xx} non-2xx answers and ${r.errors} errors`);
  return { rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99, total: r.requests.total };
}

/**
 * CPU time (ms) a process has used so far, user + system, all its threads (Linux /proc). Unlike a rate, the
 * CPU a request costs the server hardly moves when other work shares the machine.
 */
export function cpuMs(pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  // utime and stime are fields 14 and 15 of stat(5), counted from after the command name (field 3 is index 0).
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS;
}
const CLOCK_TICKS = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;

/** xmlsec1, trusting only the certificate: the same independent check the tests use. */
export function xmlsecVerifies(xml, certPem, idAttr, idNode) {
  const dir = mkdtempSync(join(tmpdir(), 'bench-xmlsec-'));
  writeFileSync(join(dir, 'doc.xml'), xml);
  writeFileSync(join(dir, 'cert.pem'), certPem);
  const r = spawnSync('xmlsec1', ['--verify', '--enabled-key-data', 'x509', '--pubkey-cert-pem', join(dir, 'cert.pem'), `--id-attr:${idAttr}`, idNode, join(dir, 'doc.xml')], { encoding: 'utf8' });
  rmSync(dir, { recursive: true, force: true });
  return r.status === 0;
}

export function table(rows) {
  const cols = Object.keys(rows[0]);
  const width = cols.map((c) => Math.max(c.length, ...rows.map((r) => String(r[c]).length)));
  const line = (vals) => vals.map((v, i) => String(v).padEnd(width[i])).join('  ');
  console.log(line(cols));
  console.log(line(width.map((w) => '-'.repeat(w))));
  for (const r of rows) console.log(line(cols.map((c) => r[c])));
}
