// Sync at Graph's write limit: a generated directory of N users in a private Samba DC, the Graph emulator
// enforcing Microsoft's documented write limit (3,000 writes per 150 s per app per tenant, 429 +
// Retry-After past it) with time sped up by --time-scale, and `gatehouse sync --once` (the built CLI, a
// child process) for a full cycle and then an incremental cycle after 10 changes in AD.
//
// Every figure is set against the floor that Graph's write limit imposes in the same run:
// N users need N writes, so a full cycle cannot take less than N / (3000 / 150 s) x time-scale
// (a little less in fact: the sliding window lets the first 3,000 go at once).
// Also reported: time, peak RSS, LDAP entries read and Graph requests of each cycle (the sync's own
// summary counters, checked against the emulator's request log). See docs/BENCHMARKS.md, "Sync".
//
// Isolation: the whole benchmark runs in a network namespace of its own (`unshare -n`, then
// `ip link set lo up`), with its own DC folder (SAMBA_DC_DIR, default /tmp/gatehouse-bench-dc): its DC,
// the emulator and the sync use that namespace's 127.0.0.1, never the shared test DC on the host's.
//
//   npm run bench -- sync [--users 10000] [--time-scale 0.1] [--max-minutes 25] [--fresh] [--dc-dir DIR]
// --max-minutes bounds the directory generation and the full cycle each; past it the bench stops and extrapolates.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { Attribute, Change, Client } from 'ldapts';
import { stringify } from 'yaml';
import { ldbaddLdif } from './lib.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SELF = fileURLToPath(import.meta.url);
const DEFAULT_SHARED_DC = '/tmp/gatehouse-samba-dc';
const BASE_DN = 'DC=corp,DC=example,DC=test';
const REALM = 'corp.example.test';
const ADMIN = { bindName: 'CORP\\Administrator', password: 'Passw0rd!Adm1n' };
const SERVICE = { dn: `CN=svc-gatehouse,CN=Users,${BASE_DN}`, password: 'Passw0rd!Svc1' };
const TENANT = '11111111-2222-3333-4444-555555555555';
const CLIENT_ID = 'aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee';
const SECRET = 'bench-secret-value';
/** Microsoft Graph, identity and access: writes per app per tenant. */
const GRAPH_LIMIT = { writes: 3000, windowSeconds: 150 };
const LDIF_CHUNK = 1000;

const log = (s) => console.log(`[bench sync] ${s}`);
const secs = (ms) => +(ms / 1000).toFixed(1);
const mib = (kib) => +(kib / 1024).toFixed(0);

// ---------------------------------------------------------------------------------------------------
// Outer process: re-run this file inside a new network namespace and hand its result back to run.mjs.

export default async function run(opts) {
  const args = [
    '--inner',
    '--users', String(opts.users ?? 10000),
    '--time-scale', String(opts.timeScale ?? 0.1),
    '--max-minutes', String(opts.maxMinutes ?? 25),
    '--dc-dir', opts.dcDir ?? '/tmp/gatehouse-bench-dc',
    ...(opts.fresh ? ['--fresh'] : []),
  ];
  const resultFile = join(mkdtempSync(join(tmpdir(), 'gatehouse-bench-sync-')), 'result.json');
  // `sh -c` inside the namespace: bring loopback up (a new namespace's lo is down), then exec node.
  const r = spawnSync('unshare', ['-n', '--', 'sh', '-c', 'ip link set lo up && exec "$0" "$@"', process.execPath, SELF, ...args, '--result', resultFile], {
    stdio: 'inherit',
    env: process.env,
  });
  if (r.error) throw new Error(`unshare: ${r.error.message} (the sync benchmark needs root for its own network namespace)`);
  if (!existsSync(resultFile)) throw new Error(`the benchmark inside its network namespace failed (exit ${r.status})`);
  return JSON.parse(readFileSync(resultFile, 'utf8'));
}

// ---------------------------------------------------------------------------------------------------
// Inner process (inside the namespace).

function checkNamespace() {
  // The host's namespace has more than lo; ours has only lo. Refuse to touch the shared DC by mistake.
  const links = spawnSync('ip', ['-o', 'link', 'show'], { encoding: 'utf8' }).stdout.trim().split('\n');
  if (links.length !== 1 || !/: lo:/.test(links[0])) throw new Error(`not in a private network namespace (links: ${links.length}); run through npm run bench -- sync`);
}

function dcScript(cmd, dcDir) {
  if (dcDir.replace(/\/+$/, '') === DEFAULT_SHARED_DC) throw new Error(`refusing to use the shared DC folder ${DEFAULT_SHARED_DC}`);
  const r = spawnSync('bash', [join(ROOT, 'test/fixtures/samba-dc.sh'), cmd], { stdio: ['ignore', 'inherit', 'inherit'], env: { ...process.env, SAMBA_DC_DIR: dcDir } });
  if (r.status !== 0 && cmd !== 'status') throw new Error(`samba-dc.sh ${cmd} failed`);
  return r.status;
}

/**
 * Lets the service account list CN=Deleted Objects (List Contents + Read Property), as the README asks:
 * only then does an incremental cycle see deletions as tombstones instead of reading every user's GUID.
 * On Windows: dsacls "CN=Deleted Objects,DC=..." /takeownership, then /G DOMAIN\\account:LCRP.
 */
function grantTombstoneRead(dcDir) {
  const sam = join(dcDir, 'private/sam.ldb');
  const ldb = (tool, args, input) => {
    const r = spawnSync(tool, ['-H', sam, ...args], { encoding: 'utf8', input });
    if (r.status !== 0) throw new Error(`${tool} ${args.join(' ')}: ${r.stderr || r.stdout}`);
    return r.stdout.replace(/\n /g, ''); // unfold LDIF lines
  };
  const sid = /^objectSid: (\S+)$/m.exec(ldb('ldbsearch', ['-b', SERVICE.dn, '-s', 'base', 'objectSid']))?.[1];
  const container = `CN=Deleted Objects,${BASE_DN}`;
  const sd = /^nTSecurityDescriptor: (\S+)$/m.exec(ldb('ldbsearch', ['--show-deleted', '-b', container, '-s', 'base', 'nTSecurityDescriptor']))?.[1];
  if (!sid || !sd) throw new Error('cannot read the service account SID or the Deleted Objects security descriptor');
  if (sd.includes(`;${sid})`)) return;
  // The DACL runs from "D:" to the SACL ("S:"); rights strings such as WDSDSW contain S themselves.
  const dacl = /D:.*?(?=S:|$)/.exec(sd)[0] + `(A;;RPLC;;;${sid})`;
  const ldif = `dn: ${container}\nchangetype: modify\nreplace: nTSecurityDescriptor\nnTSecurityDescriptor: ${dacl}\n`;
  const file = join(mkdtempSync(join(tmpdir(), 'gatehouse-bench-acl-')), 'acl.ldif');
  writeFileSync(file, ldif);
  ldb('ldbmodify', ['--show-deleted', '--controls=sd_flags:1:4', file]);
  rmSync(dirname(file), { recursive: true, force: true });
  // ldbmodify exits 0 even when it modified nothing (an SDDL it could not parse): read the result back.
  if (!ldb('ldbsearch', ['--show-deleted', '-b', container, '-s', 'base', 'nTSecurityDescriptor']).includes(`;${sid})`)) {
    throw new Error(`the grant on ${container} did not take (DACL ${dacl})`);
  }
  log(`granted ${SERVICE.dn} List Contents + Read Property on ${container}`);
}

async function adminClient() {
  const c = new Client({ url: 'ldap://127.0.0.1', timeout: 120_000 });
  await c.bind(ADMIN.bindName, ADMIN.password);
  return c;
}

const pad = (i) => String(i).padStart(6, '0');
const userRdn = (n, i) => `CN=bench${n}-${pad(i)}`;
const DEPARTMENTS = ['Sales', 'Engineering', 'Finance', 'Operations', 'Support', 'Legal', 'Marketing', 'HR'];

/** One LDIF entry per user: what the sync's scope filter and attribute mapping read. */
function ldifUser(n, i, ou) {
  const sam = `b${n}-${pad(i)}`.slice(0, 20);
  const given = `Given${i}`;
  const sn = `Surname${i % 997}`;
  return [
    `dn: ${userRdn(n, i)},${ou}`,
    'objectClass: top',
    'objectClass: person',
    'objectClass: organizationalPerson',
    'objectClass: user',
    `sAMAccountName: ${sam}`,
    `userPrincipalName: ${sam}@${REALM}`,
    `givenName: ${given}`,
    `sn: ${sn}`,
    `displayName: ${given} ${sn}`,
    `mail: ${sam}@${REALM}`,
    `title: Engineer ${i % 13}`,
    `department: ${DEPARTMENTS[i % DEPARTMENTS.length]}`,
    `telephoneNumber: +1 555 ${pad(i)}`,
    // 512 = NORMAL_ACCOUNT; every 50th user disabled (514), as real directories have some.
    `userAccountControl: ${i % 50 === 0 ? 514 : 512}`,
    '',
    '',
  ].join('\n');
}

/**
 * The OU with users 1..n. Missing users are added with ldbadd from LDIF, LDIF_CHUNK per call (each call is
 * one transaction, so a stopped run keeps whole chunks and the next run goes on from there); users that an
 * earlier run's incremental cycle moved out are moved back, deleted ones are added again.
 * Stops adding after `budgetMs` (Samba's ldb makes each add cost more as the directory grows).
 */
async function ensureUsers(n, dcDir, budgetMs) {
  const ou = `OU=Bench${n},${BASE_DN}`;
  const c = await adminClient();
  const have = new Set();
  try {
    const count = async (base, filter, scope) => {
      const found = [];
      try {
        for await (const page of c.searchPaginated(base, { scope, filter, attributes: ['cn'], paged: { pageSize: 1000 } })) {
          for (const e of page.searchEntries) found.push(e);
        }
      } catch (err) {
        if (err.name !== 'NoSuchObjectError') throw err;
        return undefined;
      }
      return found;
    };
    const inOu = await count(ou, '(objectClass=user)', 'one');
    if (!inOu) await c.add(ou, { objectClass: ['top', 'organizationalUnit'], ou: `Bench${n}` });
    for (const e of inOu ?? []) have.add(Number(/-(\d+)$/.exec(String(e.cn))[1]));
    for (const e of (await count(`CN=Users,${BASE_DN}`, `(cn=bench${n}-*)`, 'one')) ?? []) {
      await c.modifyDN(e.dn, `CN=${e.cn},${ou}`);
      have.add(Number(/-(\d+)$/.exec(String(e.cn))[1]));
    }
  } finally {
    await c.unbind().catch(() => {});
  }
  const missing = [];
  for (let i = 1; i <= n; i++) if (!have.has(i)) missing.push(i);
  if (missing.length === 0) {
    log(`${ou}: ${n} users already there (from an earlier run; --fresh to start from a new DC)`);
    return { ou, complete: true, added: 0, seconds: 0, chunks: [] };
  }
  log(`${ou}: ${have.size} users there, adding ${missing.length} with ldbadd (LDIF, ${LDIF_CHUNK} per call)`);
  const t0 = Date.now();
  const chunks = [];
  let added = 0;
  for (let k = 0; k < missing.length; k += LDIF_CHUNK) {
    if (Date.now() - t0 > budgetMs) break;
    const part = missing.slice(k, k + LDIF_CHUNK);
    const t = Date.now();
    ldbaddLdif(dcDir, part.map((i) => ldifUser(n, i, ou)).join(''));
    added += part.length;
    chunks.push({ usersBefore: have.size + added - part.length, added: part.length, seconds: secs(Date.now() - t) });
    if (chunks.length % 5 === 0 || k + LDIF_CHUNK >= missing.length) {
      log(`ldbadd: ${have.size + added}/${n} users (${secs(Date.now() - t0)} s; last ${part.length} took ${secs(Date.now() - t)} s)`);
    }
  }
  const seconds = secs(Date.now() - t0);
  const complete = have.size + added === n;
  log(`${added} users added in ${seconds} s${complete ? '' : ` - stopped at ${have.size + added}/${n} after the ${(budgetMs / 60000).toFixed(0)} min budget`}`);
  return { ou, complete, have: have.size + added, added, seconds, chunks };
}

/** Seconds to add users 1..n, from a straight line fitted to the per-chunk times against the directory size. */
function extrapolateGeneration(chunks, n) {
  const xs = chunks.map((c) => c.usersBefore);
  const ys = chunks.map((c) => c.seconds / c.added); // seconds per user at that size
  const mx = xs.reduce((a, b) => a + b, 0) / xs.length;
  const my = ys.reduce((a, b) => a + b, 0) / ys.length;
  const sxx = xs.reduce((a, x) => a + (x - mx) ** 2, 0);
  const slope = sxx ? xs.reduce((a, x, i) => a + (x - mx) * (ys[i] - my), 0) / sxx : 0;
  const at0 = my - slope * mx;
  // Integral of (at0 + slope * x) dx from 0 to n.
  return { secondsPerUserAt0: +at0.toFixed(5), extraSecondsPerUserPerThousand: +(slope * 1000).toFixed(5), totalSeconds: Math.round(at0 * n + (slope * n * n) / 2) };
}

/**
 * The emulator's user store finds users by UPN and ImmutableID with a linear scan (fine for tests); at
 * 100,000 users every create would scan them all. Index them here so the emulator is not what is measured.
 */
function indexEmulatorUsers(store) {
  const byUpn = new Map();
  const byIid = new Map();
  const add = (u) => {
    byUpn.set(String(u.userPrincipalName).toLowerCase(), u);
    if (u.onPremisesImmutableId) byIid.set(String(u.onPremisesImmutableId), u);
  };
  const map = store.users;
  const set = map.set.bind(map);
  map.set = (k, u) => {
    add(u);
    return set(k, u);
  };
  const live = (u) => u && map.get(u.id) === u;
  store.byUpn = (upn) => {
    const u = byUpn.get(upn.toLowerCase());
    return live(u) && String(u.userPrincipalName).toLowerCase() === upn.toLowerCase() ? u : undefined;
  };
  store.byImmutableId = (id) => {
    const u = byIid.get(id);
    return live(u) && u.onPremisesImmutableId === id ? u : undefined;
  };
  return { reindex: (id) => map.get(id) && add(map.get(id)) };
}

async function startEmulator(timeScale) {
  // The emulator is TypeScript under test/; compile it next to dist/ so that it resolves node_modules.
  const out = join(ROOT, 'dist/bench-graph-emulator');
  const tsc = spawnSync(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '--outDir', out, '--rootDir', join(ROOT, 'test/graph-emulator'),
    '--module', 'nodenext', '--moduleResolution', 'nodenext', '--target', 'es2022', '--skipLibCheck', '--esModuleInterop',
    join(ROOT, 'test/graph-emulator/emulator.ts'), join(ROOT, 'test/graph-emulator/test-ca.ts')], { encoding: 'utf8' });
  if (tsc.status !== 0) throw new Error(`compiling test/graph-emulator failed:\n${tsc.stdout}${tsc.stderr}`);
  const { startGraphEmulator } = await import(pathToFileURL(join(out, 'emulator.js')).href);
  const { createTestPki } = await import(pathToFileURL(join(out, 'test-ca.js')).href);
  const pki = createTestPki();
  let index;
  const emulator = await startGraphEmulator({
    tenantId: TENANT,
    domains: [REALM],
    clients: [{ clientId: CLIENT_ID, secret: SECRET }],
    tls: { certPem: pki.serverCertPem, keyPem: pki.serverKeyPem },
    writeLimit: GRAPH_LIMIT,
    timeScale,
    routes: [
      (app) =>
        app.addHook('onResponse', async (req) => {
          // A PATCH may change the UPN: keep the index right.
          const m = req.method === 'PATCH' && /^\/v1\.0\/users\/([^/?]+)/.exec(req.url);
          if (m) index?.reindex(decodeURIComponent(m[1]));
        }),
    ],
  });
  index = indexEmulatorUsers(emulator.users);
  return { emulator, pki };
}

/** Counters of the emulator since `from` (an index into its request log). */
function emulatorCounts(ctx, from) {
  const recs = ctx.log.slice(from);
  const graph = recs.filter((r) => r.url.startsWith('/v1.0/'));
  return {
    httpRequests: graph.filter((r) => !r.sub).length,
    subRequests: graph.filter((r) => r.sub).length,
    writes: graph.filter((r) => r.method !== 'GET' && r.url !== '/v1.0/$batch' && r.status < 300).length,
    throttled429: graph.filter((r) => r.status === 429).length,
    tokenRequests: recs.filter((r) => r.url.includes('/oauth2/')).length,
  };
}

// Peak RSS of the sync process as the kernel counts it (getrusage ru_maxrss), written when it exits.
const RSS_HOOK = `data:text/javascript,${encodeURIComponent(
  "import{writeFileSync}from'node:fs';let h=0,e=0;setInterval(()=>{const m=process.memoryUsage();h=Math.max(h,m.heapUsed);e=Math.max(e,m.external+m.arrayBuffers)},200).unref();" +
    "process.on('exit',()=>{const f=process.env.BENCH_RSS_FILE;if(f)writeFileSync(f,JSON.stringify({maxRssKiB:process.resourceUsage().maxRSS,heapUsedMiB:Math.round(h/1048576),externalMiB:Math.round(e/1048576)}))});",
)}`;

/** `gatehouse sync --once` as an operator runs it; returns its summary, wall time and peak RSS. */
async function syncOnce({ config, pki, emulator, args = [], maxMinutes, label, total }) {
  const rssFile = join(mkdtempSync(join(tmpdir(), 'gatehouse-bench-rss-')), 'rss');
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('GATEHOUSE_')));
  const mark = emulator.ctx.log.length;
  const t0 = Date.now();
  const nodeArgs = (process.env.BENCH_SYNC_NODE_ARGS ?? '').split(' ').filter(Boolean); // e.g. --max-old-space-size=64
  const child = spawn(process.execPath, [...nodeArgs, '--import', RSS_HOOK, join(ROOT, 'dist/cli.js'), 'sync', '--once', '-c', config, ...args], {
    env: { ...env, NODE_EXTRA_CA_CERTS: pki.caFile, BENCH_RSS_FILE: rssFile },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (s) => (stdout += s));
  child.stderr.setEncoding('utf8').on('data', (s) => (stderr += s));
  // Progress from the emulator's side: users in the tenant over time (for an extrapolation if stopped).
  const samples = [];
  const sampler = setInterval(() => {
    const s = { t: secs(Date.now() - t0), users: emulator.users.users.size, vmRssMiB: null };
    try {
      s.vmRssMiB = mib(Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))[1]));
    } catch {
      // exited
    }
    samples.push(s);
    if (total && samples.length % 6 === 0) log(`${label}: ${s.t} s, ${s.users}/${total} users in Entra, sync RSS ${s.vmRssMiB} MiB`);
  }, 5000);
  let stopped = false;
  const limit = setTimeout(() => {
    stopped = true;
    log(`${label}: ${maxMinutes} min reached; stopping the sync (SIGTERM: it finishes the current batch and records it)`);
    child.kill('SIGTERM');
  }, maxMinutes * 60_000);
  const code = await new Promise((resolve) => child.once('close', (c) => resolve(c)));
  clearInterval(sampler);
  clearTimeout(limit);
  const wallMs = Date.now() - t0;
  const summaryLine = stderr.split('\n').find((l) => l.includes('"sync: cycle finished"'));
  const summary = summaryLine ? JSON.parse(summaryLine).summary : undefined;
  if (!summary) throw new Error(`${label}: no summary (exit ${code})\n${stdout}\n${stderr.slice(-3000)}`);
  const mem = existsSync(rssFile) ? JSON.parse(readFileSync(rssFile, 'utf8')) : null;
  const peakRssKiB = mem?.maxRssKiB;
  // Phases as Graph saw them: before the first write (LDAP read, Entra listing, plan), then the writes.
  const writes = emulator.ctx.log.slice(mark).filter((r) => r.sub && r.method !== 'GET');
  const phases = writes.length
    ? { beforeFirstWriteSeconds: secs(writes[0].at - t0), writePhaseSeconds: secs(writes.at(-1).at - writes[0].at) }
    : { beforeFirstWriteSeconds: null, writePhaseSeconds: 0 };
  return { code, stopped, wallMs, summary, phases, peakRssMiB: peakRssKiB && mib(peakRssKiB), peakHeapUsedMiB: mem?.heapUsedMiB ?? null, emulator: emulatorCounts(emulator.ctx, mark), samples, stdout };
}

/** Ten changes in AD over LDAP as the domain admin: what an incremental cycle has to find. */
async function makeChanges(n, ou) {
  const c = await adminClient();
  const replace = (dn, type, value) => c.modify(dn, new Change({ operation: 'replace', modification: new Attribute({ type, values: [value] }) }));
  const dn = (i) => `${userRdn(n, i)},${ou}`;
  const pick = (k) => 1 + Math.floor(((k + 1) * n) / 12); // spread over the directory; none is a multiple of 50 for these n
  const stamp = Date.now().toString(36);
  const changes = [];
  try {
    for (let k = 0; k < 3; k++) {
      await replace(dn(pick(k)), 'displayName', `Renamed ${stamp} ${k}`);
      changes.push('rename (displayName)');
    }
    for (let k = 3; k < 5; k++) {
      await replace(dn(pick(k)), 'sn', `Married${stamp}`);
      changes.push('surname');
    }
    for (let k = 5; k < 7; k++) {
      // Flip the account's state, so that a directory reused from an earlier run changes too.
      const { searchEntries } = await c.search(dn(pick(k)), { scope: 'base', attributes: ['userAccountControl'] });
      const disabled = (Number(searchEntries[0].userAccountControl) & 2) !== 0;
      await replace(dn(pick(k)), 'userAccountControl', disabled ? '512' : '514');
      changes.push(disabled ? 'enable (userAccountControl 512)' : 'disable (userAccountControl 514)');
    }
    await replace(dn(pick(7)), 'department', `Dept ${stamp}`);
    changes.push('department');
    await c.modifyDN(dn(pick(8)), `${userRdn(n, pick(8))},CN=Users,${BASE_DN}`);
    changes.push('move out of the scope OU');
    await c.del(dn(pick(9)));
    changes.push('delete');
  } finally {
    await c.unbind().catch(() => {});
  }
  return changes;
}

async function inner(o) {
  checkNamespace();
  const n = o.users;
  const dcDir = o.dcDir;
  // down first: a DC left running by an interrupted run lives in that run's (other) namespace.
  dcScript(o.fresh ? 'destroy' : 'down', dcDir);
  dcScript('install', dcDir);
  dcScript('up', dcDir);
  grantTombstoneRead(dcDir);
  let emu;
  try {
    const gen = await ensureUsers(n, dcDir, o.maxMinutes * 60_000);
    if (!gen.complete) {
      const fit = extrapolateGeneration(gen.chunks, n);
      log(`generating ${n} users would take ~${(fit.totalSeconds / 60).toFixed(0)} min in all (per-user cost grows with the directory: ${fit.secondsPerUserAt0 * 1000} ms + ${fit.extraSecondsPerUserPerThousand * 1000} ms per 1,000 users already there)`);
      return { users: n, timeScale: o.timeScale, generation: { complete: false, usersGenerated: gen.have, addedThisRun: gen.added, seconds: gen.seconds, extrapolation: fit, chunks: gen.chunks } };
    }
    emu = await startEmulator(o.timeScale);
    const { emulator, pki } = emu;
    const work = mkdtempSync(join(tmpdir(), 'gatehouse-bench-sync-'));
    const config = join(work, 'gatehouse.yaml');
    writeFileSync(
      config,
      stringify({
        publicUrl: 'https://sts.example.test',
        logLevel: 'info',
        directory: { urls: ['ldap://127.0.0.1'], baseDn: BASE_DN, bindDn: SERVICE.dn, bindPassword: SERVICE.password, netbiosName: 'CORP', timeoutMs: 5000 },
        // Not used by the sync; the configuration requires them.
        signing: { certFile: join(work, 'signing.crt'), keyFile: join(work, 'signing.key') },
        session: { keyFile: join(work, 'session.key') },
        stateDir: join(work, 'var'),
        sync: {
          tenantId: TENANT,
          clientId: CLIENT_ID,
          clientSecret: SECRET,
          graphUrl: emulator.url,
          authorityHost: emulator.url,
          domains: [REALM],
          scope: { ous: [gen.ou] },
          // Graph's limit in the emulator's time: the sync paces itself under it.
          writeLimit: { writes: GRAPH_LIMIT.writes, windowSeconds: GRAPH_LIMIT.windowSeconds * o.timeScale },
          ...(o.syncExtra ?? {}),
        },
      }),
    );
    const floorSeconds = (n / (GRAPH_LIMIT.writes / GRAPH_LIMIT.windowSeconds)) * o.timeScale;
    // The limit is a sliding window: the first 3,000 writes go at once, the k-th 3,000 not before (k-1) windows.
    const burstFloorSeconds = (Math.ceil(n / GRAPH_LIMIT.writes) - 1) * GRAPH_LIMIT.windowSeconds * o.timeScale;
    log(`Graph write limit ${GRAPH_LIMIT.writes} per ${GRAPH_LIMIT.windowSeconds} s, time x${o.timeScale}: floor for ${n} writes = ${floorSeconds.toFixed(1)} s`);

    log(`full cycle: ${n} users (stops after ${o.maxMinutes} min)...`);
    const full = await syncOnce({ config, pki, emulator, maxMinutes: o.maxMinutes, label: 'full cycle', total: n });
    const fullDone = !full.stopped && full.summary.outcome === 'success' && full.summary.created === n && emulator.users.users.size === n;
    const result = {
      users: n,
      timeScale: o.timeScale,
      graphLimit: GRAPH_LIMIT,
      floorSeconds: +floorSeconds.toFixed(1),
      burstFloorSeconds: +burstFloorSeconds.toFixed(1),
      generation: { complete: true, addedThisRun: gen.added, seconds: gen.seconds, tool: `ldbadd --nosync -o batch_mode -H DIR/private/sam.ldb (LDIF, ${LDIF_CHUNK} users per call)`, chunks: gen.chunks },
      full: {
        completed: fullDone,
        outcome: full.summary.outcome,
        seconds: secs(full.summary.durationMs),
        wallSeconds: secs(full.wallMs),
        floorRatio: +(full.summary.durationMs / 1000 / floorSeconds).toFixed(3),
        ...full.phases,
        writePhaseFloorRatio: +(full.phases.writePhaseSeconds / floorSeconds).toFixed(3),
        // Graph time is scaled, the directory read is not: the same cycle against Graph's real windows.
        projectedRealTimeFloorRatio: full.phases.beforeFirstWriteSeconds === null ? null : +((full.phases.beforeFirstWriteSeconds + full.phases.writePhaseSeconds / o.timeScale) / (floorSeconds / o.timeScale)).toFixed(3),
        peakRssMiB: full.peakRssMiB,
        peakHeapUsedMiB: full.peakHeapUsedMiB,
        ldapEntriesRead: full.summary.ldapEntriesRead,
        graphRequests: full.summary.graphRequests,
        graphSubRequests: full.summary.graphSubRequests,
        throttled: full.summary.throttled,
        created: full.summary.created,
        errors: full.summary.errors,
        emulator: full.emulator,
        usersInEntra: emulator.users.users.size,
        samples: full.samples,
      },
    };
    if (!fullDone) {
      const last = full.samples.at(-1) ?? { t: secs(full.wallMs), users: emulator.users.users.size };
      const rate = last.users / Math.max(1, last.t);
      result.full.extrapolatedSeconds = Math.round(n / rate);
      result.full.extrapolatedFloorRatio = +(n / rate / floorSeconds).toFixed(2);
      log(`full cycle stopped at ${emulator.users.users.size}/${n} users after ${secs(full.wallMs)} s; at ${rate.toFixed(0)} users/s the whole cycle would take ~${result.full.extrapolatedSeconds} s`);
      return result;
    }

    log('10 changes in AD over LDAP, then an incremental cycle...');
    const changes = await makeChanges(n, gen.ou);
    const inc = await syncOnce({ config, pki, emulator, maxMinutes: 10, label: 'incremental cycle' });
    result.incremental = {
      changes,
      outcome: inc.summary.outcome,
      kind: inc.summary.kind,
      seconds: secs(inc.summary.durationMs),
      wallSeconds: secs(inc.wallMs),
      peakRssMiB: inc.peakRssMiB,
      peakHeapUsedMiB: inc.peakHeapUsedMiB,
      ldapEntriesRead: inc.summary.ldapEntriesRead,
      graphRequests: inc.summary.graphRequests,
      graphSubRequests: inc.summary.graphSubRequests,
      writes: inc.emulator.writes,
      updated: inc.summary.updated,
      disabled: inc.summary.disabled,
      errors: inc.summary.errors,
      emulator: inc.emulator,
    };
    // A cycle with nothing changed: the fixed cost of an incremental cycle.
    const idle = await syncOnce({ config, pki, emulator, maxMinutes: 10, label: 'idle cycle' });
    result.idle = {
      seconds: secs(idle.summary.durationMs),
      wallSeconds: secs(idle.wallMs),
      peakRssMiB: idle.peakRssMiB,
      peakHeapUsedMiB: idle.peakHeapUsedMiB,
      ldapEntriesRead: idle.summary.ldapEntriesRead,
      graphRequests: idle.summary.graphRequests,
      writes: idle.emulator.writes,
    };
    return result;
  } finally {
    await emu?.emulator.close().catch(() => {});
    dcScript('down', dcDir); // the bench's own DC (in this namespace), never the shared one
  }
}

function printTable(r) {
  if (!r.full) {
    const g = r.generation;
    console.log(`\nDirectory generation stopped at ${g.usersGenerated}/${r.users} users (${g.seconds} s this run); all ${r.users} would take ~${Math.round(g.extrapolation.totalSeconds / 60)} min. No sync cycle was run.`);
    return;
  }
  const rows = [];
  const f = r.full;
  rows.push({
    cycle: `full (${r.users} users)`,
    seconds: f.completed ? f.seconds : `stopped at ${f.wallSeconds}`,
    'x Graph floor': f.completed ? f.floorRatio.toFixed(2) : `~${f.extrapolatedFloorRatio} (extrapolated)`,
    'peak RSS MiB': f.peakRssMiB,
    'peak heap MiB': f.peakHeapUsedMiB,
    'LDAP entries': f.ldapEntriesRead,
    'Graph HTTP': f.graphRequests,
    'Graph sub-req': f.graphSubRequests,
    writes: f.emulator.writes,
    '429s': f.emulator.throttled429,
  });
  for (const [name, c] of [['incremental (10 changes)', r.incremental], ['incremental (no change)', r.idle]]) {
    if (!c) continue;
    rows.push({
      cycle: name,
      seconds: c.seconds,
      'x Graph floor': '-',
      'peak RSS MiB': c.peakRssMiB,
      'peak heap MiB': c.peakHeapUsedMiB ?? '-',
      'LDAP entries': c.ldapEntriesRead,
      'Graph HTTP': c.graphRequests,
      'Graph sub-req': c.graphSubRequests ?? '-',
      writes: c.writes,
      '429s': c.emulator?.throttled429 ?? 0,
    });
  }
  const cols = Object.keys(rows[0]);
  const width = cols.map((c) => Math.max(c.length, ...rows.map((x) => String(x[c]).length)));
  const line = (vals) => vals.map((v, i) => String(v).padEnd(width[i])).join('  ');
  console.log(`\nGraph floor for ${r.users} writes: ${r.floorSeconds} s (3,000 writes / 150 s, time x${r.timeScale}); sliding-window minimum: ${r.burstFloorSeconds} s`);
  if (r.full.completed) console.log(`full cycle: ${r.full.beforeFirstWriteSeconds} s before the first write (LDAP read, Entra listing, plan), then ${r.full.writePhaseSeconds} s of writes (${r.full.writePhaseFloorRatio} x floor); projected at Graph's real time: ${r.full.projectedRealTimeFloorRatio} x floor`);
  console.log(line(cols));
  console.log(line(width.map((w) => '-'.repeat(w))));
  for (const x of rows) console.log(line(cols.map((c) => x[c])));
}

if (process.argv[1] === SELF) {
  const { values } = parseArgs({
    options: {
      inner: { type: 'boolean', default: false },
      users: { type: 'string', default: '10000' },
      'time-scale': { type: 'string', default: '0.1' },
      'max-minutes': { type: 'string', default: '25' },
      'dc-dir': { type: 'string', default: '/tmp/gatehouse-bench-dc' },
      fresh: { type: 'boolean', default: false },
      result: { type: 'string' },
    },
  });
  if (!values.inner) {
    console.error('run it as: npm run bench -- sync [--users N] [--time-scale S]');
    process.exit(2);
  }
  try {
    const r = await inner({
      users: Number(values.users),
      timeScale: Number(values['time-scale']),
      maxMinutes: Number(values['max-minutes']),
      dcDir: values['dc-dir'],
      fresh: values.fresh,
    });
    printTable(r);
    if (values.result) writeFileSync(values.result, JSON.stringify(r));
    process.exit(0);
  } catch (err) {
    console.error(err);
    process.exit(1);
  }
}
