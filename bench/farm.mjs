// A farm against one server, in one run: token issuance (single sign-on, a session cookie) and the full
// sign-in (login POST: look-up, smart lockout, bind, token).
// - throughput: 2 servers in farm mode behind HAProxy vs 1 server in farm mode behind the same HAProxy;
// - added latency of farm mode: 1 server with Redis vs 1 server with SQLite, both without a proxy;
// - Redis commands per request, from Redis's own INFO counters;
// - Redis round trips a request waits for: the same server on a slower link to Redis (a relay adding a
//   fixed delay each way), one request at a time: the added time divided by the added round-trip time.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSelfSignedCertificate } from '../dist/keys/generate.js';
import { cpuMs, DC, ensureAccounts, ensureDc, freePort, isolateDc, load, M365, sessionCookie, startGatehouse, table } from './lib.mjs';

const USER = { upn: 'alice@corp.example.test', password: 'Passw0rd!Alice' };
const SIGN_IN = `/adfs/ls/?wa=wsignin1.0&wtrealm=${encodeURIComponent(M365)}`;

function child(cmd, args, ready) {
  const p = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  p.stdout.on('data', (d) => (out += d));
  p.stderr.on('data', (d) => (out += d));
  return new Promise((resolve, reject) => {
    const t = setInterval(() => {
      if (ready(out)) {
        clearInterval(t);
        resolve(p);
      }
    }, 50);
    p.once('exit', (code) => {
      clearInterval(t);
      reject(new Error(`${cmd} exited ${code}: ${out}`));
    });
  });
}

async function redisServer(dir) {
  const port = await freePort();
  const p = await child('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], (o) => o.includes('Ready to accept'));
  return { url: `redis://127.0.0.1:${port}`, port, pid: p.pid, stop: () => p.kill('SIGKILL') };
}

/**
 * Commands Redis received from clients: EVALSHA/EVAL (one each, whatever the script does inside), plus
 * plain commands. INFO commandstats also counts the commands a script runs, so those are left out by
 * counting only the command types Gatehouse sends itself outside scripts.
 */
async function redisCommands(port) {
  const p = spawn('redis-cli', ['-p', String(port), 'INFO', 'commandstats']);
  let out = '';
  p.stdout.on('data', (d) => (out += d));
  await new Promise((r) => p.once('close', r));
  const calls = (name) => Number(new RegExp(`cmdstat_${name}:calls=(\\d+)`).exec(out)?.[1] ?? 0);
  // GET is sent outside scripts too (a lockout record not cached, the farm's keys), but the CAS script's
  // own GET is counted as well: it is left out here, so the figure is a lower bound for plain GETs.
  return calls('evalsha') + calls('eval') + calls('exists') + calls('publish') + calls('mget') + calls('ping');
}

async function haproxy(dir, backends) {
  const port = await freePort();
  const file = join(dir, `haproxy-${port}.cfg`);
  writeFileSync(
    file,
    `global\n  maxconn 4000\ndefaults\n  mode http\n  timeout connect 2s\n  timeout client 30s\n  timeout server 30s\n  option http-buffer-request\n  retries 2\n  retry-on conn-failure empty-response\n  option redispatch 1\n` +
      `frontend fe\n  bind 127.0.0.1:${port}\n  option forwardfor\n  default_backend be\nbackend be\n  balance roundrobin\n  option httpchk GET /adfs/probe\n  http-check expect status 200\n  default-server inter 2s fall 2 rise 2\n` +
      backends.map((b, i) => `  server n${i} ${new URL(b).host} check`).join('\n') + '\n',
  );
  const p = spawn('haproxy', ['-db', '-f', file], { stdio: 'ignore' });
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 100; i++) {
    try {
      if ((await fetch(`${url}/adfs/probe`)).ok) break;
    } catch {
      /* not yet */
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { url, pid: p.pid, stop: () => p.kill('SIGTERM') };
}

/** A TCP relay to `port` that holds every chunk `ms` milliseconds before passing it on, in each direction. */
async function slowLink(port, ms) {
  const delayed = (from, to) => from.on('data', (chunk) => setTimeout(() => to.write(chunk), ms));
  const server = createServer((client) => {
    const upstream = connect(port, '127.0.0.1');
    // No Nagle: a small write must not wait for the other side's (delayed) acknowledgement.
    client.setNoDelay(true);
    upstream.setNoDelay(true);
    delayed(client, upstream);
    delayed(upstream, client);
    const close = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', close).on('close', close);
    upstream.on('error', close).on('close', close);
  });
  const linkPort = await freePort();
  await new Promise((r) => server.listen(linkPort, '127.0.0.1', r));
  return { port: linkPort, stop: () => server.close() };
}

/** The signin benchmark's accounts (OU=BenchSignin), so sequential sign-ins are of different users, as in real use. */
const SLOW_ACCOUNTS = 40;
const slowUpn = (i) => `sign-${String((i % SLOW_ACCOUNTS) + 1).padStart(5, '0')}@corp.example.test`;

/** p50 (ms) of `n` sign-ins and of `n` token requests (single sign-on), one at a time. */
async function oneAtATime(url, n) {
  const p50 = (xs) => xs.sort((x, y) => x - y)[Math.floor(xs.length / 2)];
  const { cookie, token } = await csrfPair(url);
  const post = (i) => fetch(`${url}${SIGN_IN}`, { method: 'POST', headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ _csrf: token, UserName: slowUpn(i), Password: 'Passw0rd!Sign1' }) });
  // A first round: every account's lockout row exists and its address is familiar, as in steady use.
  for (let i = 0; i < SLOW_ACCOUNTS; i++) if (!(await (await post(i)).text()).includes('wresult')) throw new Error(`sign-in of ${slowUpn(i)} issued no token`);
  const signIns = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await (await post(i)).text();
    signIns.push(performance.now() - t0);
  }
  const session = await sessionCookie(url, USER.upn, USER.password);
  const tokens = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await (await fetch(`${url}${SIGN_IN}`, { headers: { cookie: session } })).text();
    tokens.push(performance.now() - t0);
  }
  return { signIn: p50(signIns), token: p50(tokens) };
}

async function csrfPair(url) {
  const res = await fetch(`${url}${SIGN_IN}`);
  const cookie = res.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
  const token = /name="_csrf" value="([^"]+)"/.exec(await res.text())[1];
  return { cookie, token };
}

/**
 * A configuration under test: `url` (a server or the balancer) and the processes whose CPU it uses, by role. Its
 * session cookie (token requests) and CSRF pair (sign-in posts) are made once and checked.
 */
async function prepare(name, url, pids) {
  const session = await sessionCookie(url, USER.upn, USER.password);
  const check = await fetch(`${url}${SIGN_IN}`, { headers: { cookie: session } });
  if (check.status !== 200) throw new Error(`${name}: token request answered ${check.status}: ${(await check.text()).slice(0, 300)}`);
  const { cookie, token: csrf } = await csrfPair(url);
  const body = new URLSearchParams({ _csrf: csrf, UserName: USER.upn, Password: USER.password }).toString();
  const one = await fetch(`${url}${SIGN_IN}`, { method: 'POST', headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' }, body });
  const oneBody = await one.text();
  if (one.status !== 200 || !oneBody.includes('wresult')) throw new Error(`${name}: sign-in answered ${one.status}: ${oneBody.slice(0, 400)}`);
  return {
    name,
    pids,
    token: { url: `${url}${SIGN_IN}`, headers: { cookie: session } },
    signin: { url: `${url}${SIGN_IN}`, method: 'POST', headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' }, body },
    slices: { token: [], signin: [] },
  };
}

/** One slice of load of one kind ('token' or 'signin') against a configuration, with the CPU its processes used. */
async function slice(cfg, kind, { duration, connections }) {
  const roles = Object.entries(cfg.pids);
  const before = roles.map(([, pids]) => pids.map(cpuMs));
  const r = await load({ ...cfg[kind], connections, duration });
  const used = Object.fromEntries(roles.map(([role, pids], i) => [role, pids.reduce((sum, pid, j) => sum + cpuMs(pid) - before[i][j], 0) / r.total]));
  cfg.slices[kind].push({ ...r, cpuMsPerRequest: Object.values(used).reduce((x, y) => x + y, 0), cpuMsPerRequestBy: used });
}

const median = (xs) => {
  const s = [...xs].sort((x, y) => x - y);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/** Medians over the rounds of a configuration's slices of one kind. */
function summary(cfg, kind) {
  const xs = cfg.slices[kind];
  const by = Object.fromEntries(Object.keys(xs[0].cpuMsPerRequestBy).map((role) => [role, +median(xs.map((x) => x.cpuMsPerRequestBy[role])).toFixed(3)]));
  return { rps: median(xs.map((x) => x.rps)), p50: median(xs.map((x) => x.p50)), p99: median(xs.map((x) => x.p99)), cpuMsPerRequest: median(xs.map((x) => x.cpuMsPerRequest)), cpuMsPerRequestBy: by, rounds: xs.map((x) => Math.round(x.rps)) };
}

/**
 * Every configuration gets a slice of each kind in every round, in an order rotated each round, so a slow
 * spell of the machine falls on all of them rather than on whichever was measured then.
 */
async function rounds(configs, n, opts, log) {
  for (let round = 0; round < n; round++) {
    log(`round ${round + 1} of ${n}`);
    const order = configs.map((_, i) => configs[(i + round) % configs.length]);
    for (const cfg of order) {
      await slice(cfg, 'token', opts);
      await slice(cfg, 'signin', opts);
    }
  }
}

export default async function run({ duration, connections, rounds: n = 5, placement = 'one-core' }) {
  ensureDc();
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-bench-farm-'));
  const keys = { ...createSelfSignedCertificate({ commonName: 'bench', bits: 2048, days: 365 }), sessionKey: randomBytes(32).toString('base64') + '\n' };
  const farmKey = join(dir, 'farm.key');
  writeFileSync(farmKey, randomBytes(32).toString('base64') + '\n', { mode: 0o600 });
  // one-core: the DC on core 0, everything else (servers, HAProxy, Redis, the load) on the other core, so
  // two servers share one core. whole-machine: nothing pinned, every process may use both cores.
  if (!['one-core', 'whole-machine'].includes(placement)) throw new Error(`--placement is one-core or whole-machine, not ${placement}`);
  const isolation = placement === 'one-core' ? isolateDc() : { note: 'nothing pinned (the DC, Redis, HAProxy, the servers and the load share both cores)', undo() {} };
  console.log(`placement: ${isolation.note}; ${connections} clients; ${n} rounds of ${duration} s slices per configuration and kind`);
  const redis = await redisServer(dir);
  // Smart lockout in log-only mode: every attempt is reserved and settled in the store exactly as when
  // enforced, but 16 concurrent sign-ins of one user are not serialised (enforced, an attempt waits for the
  // account's attempts in flight, by design; real load spreads over many accounts). Rate limits lifted.
  const lockout = { lockout: { mode: 'log-only', threshold: 2 } };
  // One server process per server (workers: 1): "2 servers" is 2 processes, "1 server" is 1.
  const farm = () => ({ ...lockout, workers: 1, trustedProxies: ['127.0.0.1'], state: { redis: { url: redis.url }, farmKeyFile: farmKey } });
  const alone = () => ({ ...lockout, workers: 1, trustedProxies: ['127.0.0.1'] });
  const servers = [];
  const stops = [];
  const start = async (extra) => {
    const srv = await startGatehouse({ keys, extra, cpuList: isolation.cpuList });
    servers.push(srv);
    return srv;
  };
  const balance = async (backends) => {
    const lb = await haproxy(dir, backends.map((b) => b.url));
    stops.push(lb.stop);
    return lb;
  };
  try {
    // Servers: one with SQLite and one in farm mode, reached directly (the latency farm mode adds); two in
    // farm mode and, as the control, two with their own SQLite state (no shared state at all), each pair
    // behind HAProxy with one and with both servers.
    const sqlite = await start(alone());
    const one = await start(farm());
    const [fa, fb] = [await start(farm()), await start(farm())];
    const [sa, sb] = [await start(alone()), await start(alone())];
    const [f1, f2, s1, s2] = [await balance([fa]), await balance([fa, fb]), await balance([sa]), await balance([sa, sb])];
    const configs = [
      await prepare('1 server, SQLite', sqlite.url, { servers: [sqlite.pid] }),
      await prepare('1 server, Redis', one.url, { servers: [one.pid], redis: [redis.pid] }),
      await prepare('HAProxy + 1 server (Redis)', f1.url, { servers: [fa.pid], haproxy: [f1.pid], redis: [redis.pid] }),
      await prepare('HAProxy + 2 servers (Redis)', f2.url, { servers: [fa.pid, fb.pid], haproxy: [f2.pid], redis: [redis.pid] }),
      await prepare('HAProxy + 1 server (own SQLite)', s1.url, { servers: [sa.pid], haproxy: [s1.pid] }),
      await prepare('HAProxy + 2 servers (own SQLite each)', s2.url, { servers: [sa.pid, sb.pid], haproxy: [s2.pid] }),
    ];
    // A warm-up slice each (not counted): every server's code is compiled and its caches are filled.
    for (const cfg of configs) for (const kind of ['token', 'signin']) await load({ ...cfg[kind], connections, duration: 2 });
    await rounds(configs, n, { duration, connections }, console.log);
    const [S, R, F1, F2, A1, A2] = configs.map((c) => ({ token: summary(c, 'token'), signin: summary(c, 'signin') }));

    // Redis commands per sign-in and per token request, measured apart (a short run of each), with the
    // requests prepared for the farm-mode server above.
    const N = 50;
    const direct = configs[1];
    const cs0 = await redisCommands(redis.port);
    for (let i = 0; i < N; i++) await (await fetch(direct.signin.url, direct.signin)).text();
    const cs1 = await redisCommands(redis.port);
    const ct0 = await redisCommands(redis.port);
    for (let i = 0; i < N; i++) await (await fetch(direct.token.url, direct.token)).text();
    const ct1 = await redisCommands(redis.port);
    const perSignIn = (cs1 - cs0) / N;
    const perToken = (ct1 - ct0) / N;

    // Round trips waited for: the same server again, its Redis behind a link adding 2 × LINK_MS to every
    // round trip; one request at a time, so the added time is the waited round trips' time.
    const LINK_MS = 5;
    await ensureAccounts({ dcDir: process.env.SAMBA_DC_DIR ?? '/tmp/gatehouse-samba-dc', ou: `OU=BenchSignin,${DC.baseDn}`, count: 500, password: 'Passw0rd!Sign1', prefix: 'sign' });
    const link = await slowLink(redis.port, LINK_MS);
    stops.push(link.stop);
    const overLink = { state: { redis: { url: `redis://127.0.0.1:${link.port}` }, farmKeyFile: farmKey } };
    const far = await start({ ...farm(), ...overLink });
    console.log(`one request at a time, Redis direct and over a link adding ${2 * LINK_MS} ms a round trip...`);
    const near = await oneAtATime(one.url, 200);
    const slow = await oneAtATime(far.url, 200);
    const waited = { signIn: (slow.signIn - near.signIn) / (2 * LINK_MS), token: (slow.token - near.token) / (2 * LINK_MS) };
    // The same with the directory farther away than Redis (a link adding 2 × DC_LINK_MS to each LDAP round
    // trip), as on a LAN where Redis answers within the directory look-up: the Redis reads sent beside the
    // look-up are no longer waited for.
    const DC_LINK_MS = 10;
    const dcLink = await slowLink(Number(new URL(DC.url).port || 389), DC_LINK_MS);
    stops.push(dcLink.stop);
    const farDc = { directory: { urls: [`ldap://127.0.0.1:${dcLink.port}`], baseDn: DC.baseDn, bindDn: DC.service.dn, bindPassword: DC.service.password } };
    const nearRedisFarDc = await start({ ...farm(), ...farDc });
    const farRedisFarDc = await start({ ...farm(), ...overLink, ...farDc });
    console.log(`the same with the directory over a link adding ${2 * DC_LINK_MS} ms a round trip...`);
    const nearL = await oneAtATime(nearRedisFarDc.url, 100);
    const slowL = await oneAtATime(farRedisFarDc.url, 100);
    const waitedFarDc = (slowL.signIn - nearL.signIn) / (2 * LINK_MS);

    const row = (setup, x) => ({
      setup,
      'tokens /s': x.token.rps.toFixed(0),
      'token p50/p99 ms': `${x.token.p50}/${x.token.p99}`,
      'CPU ms /token': x.token.cpuMsPerRequest.toFixed(2),
      'of it servers': x.token.cpuMsPerRequestBy.servers.toFixed(2),
      'sign-ins /s': x.signin.rps.toFixed(0),
      'sign-in p50/p99 ms': `${x.signin.p50}/${x.signin.p99}`,
      'CPU ms /sign-in': x.signin.cpuMsPerRequest.toFixed(2),
      'of it servers ': x.signin.cpuMsPerRequestBy.servers.toFixed(2),
    });
    table(configs.map((c, i) => row(c.name, [S, R, F1, F2, A1, A2][i])));
    const ratio = (x, y) => +(x / y).toFixed(2);
    // The same ratio round by round (configurations of one round ran within a minute of each other).
    const perRound = (a, b, kind) => a.slices[kind].map((x, i) => ratio(x.rps, b.slices[kind][i].rps));
    const result = {
      placement: isolation.note,
      connections,
      sliceSeconds: duration,
      rounds: n,
      configurations: Object.fromEntries(configs.map((c, i) => [c.name, [S, R, F1, F2, A1, A2][i]])),
      ratios: {
        'tokens/s, 2 servers vs 1 (HAProxy, Redis)': ratio(F2.token.rps, F1.token.rps),
        'sign-ins/s, 2 servers vs 1 (HAProxy, Redis)': ratio(F2.signin.rps, F1.signin.rps),
        'tokens/s, 2 servers vs 1 (HAProxy, own SQLite each: no shared state)': ratio(A2.token.rps, A1.token.rps),
        'sign-ins/s, 2 servers vs 1 (HAProxy, own SQLite each: no shared state)': ratio(A2.signin.rps, A1.signin.rps),
        'tokens/s, 2-server farm vs 2 servers without shared state': ratio(F2.token.rps, A2.token.rps),
        'sign-ins/s, 2-server farm vs 2 servers without shared state': ratio(F2.signin.rps, A2.signin.rps),
        'CPU per token, 2-server farm vs 1 server (HAProxy, Redis)': ratio(F2.token.cpuMsPerRequest, F1.token.cpuMsPerRequest),
        'CPU per sign-in, 2-server farm vs 1 server (HAProxy, Redis)': ratio(F2.signin.cpuMsPerRequest, F1.signin.cpuMsPerRequest),
        'token p50 added by Redis, ms': +(R.token.p50 - S.token.p50).toFixed(2),
        'token p99 added by Redis, ms': +(R.token.p99 - S.token.p99).toFixed(2),
        'sign-in p50 added by Redis, ms': +(R.signin.p50 - S.signin.p50).toFixed(2),
        'sign-in p99 added by Redis, ms': +(R.signin.p99 - S.signin.p99).toFixed(2),
        'tokens/s Redis vs SQLite': ratio(R.token.rps, S.token.rps),
        'sign-ins/s Redis vs SQLite': ratio(R.signin.rps, S.signin.rps),
      },
      perRound: {
        'tokens/s, 2 servers vs 1 (HAProxy, Redis)': perRound(configs[3], configs[2], 'token'),
        'sign-ins/s, 2 servers vs 1 (HAProxy, Redis)': perRound(configs[3], configs[2], 'signin'),
        'tokens/s, 2 servers vs 1 (HAProxy, own SQLite each)': perRound(configs[5], configs[4], 'token'),
        'sign-ins/s, 2 servers vs 1 (HAProxy, own SQLite each)': perRound(configs[5], configs[4], 'signin'),
      },
      redisRoundTripCommands: { perSignIn: +perSignIn.toFixed(2), perTokenRequest: +perToken.toFixed(2) },
      redisRoundTripsWaited: {
        linkAddsMs: 2 * LINK_MS,
        p50DirectMs: near,
        p50OverLinkMs: slow,
        perSignIn: +waited.signIn.toFixed(2),
        perTokenRequest: +waited.token.toFixed(2),
        directoryLinkAddsMs: 2 * DC_LINK_MS,
        p50DirectoryFarMs: { redisDirect: nearL.signIn, redisOverLink: slowL.signIn },
        perSignInDirectoryFarther: +waitedFarDc.toFixed(2),
      },
    };
    console.log(JSON.stringify({ ratios: result.ratios, perRound: result.perRound, redisRoundTripCommands: result.redisRoundTripCommands, redisRoundTripsWaited: result.redisRoundTripsWaited }, null, 2));
    return result;
  } finally {
    for (const stop of stops) stop();
    for (const srv of servers) await srv.stop();
    redis.stop();
    isolation.undo();
    rmSync(dir, { recursive: true, force: true });
  }
}
