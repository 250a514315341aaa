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
import { DC, ensureAccounts, ensureDc, freePort, isolateDc, load, M365, sessionCookie, startGatehouse, table } from './lib.mjs';

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
  return { url: `redis://127.0.0.1:${port}`, port, stop: () => p.kill('SIGKILL') };
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
  return { url, stop: () => p.kill('SIGTERM') };
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
  return { url: `redis://127.0.0.1:${linkPort}`, stop: () => server.close() };
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

/** Token issuance and full sign-in against `url` (a server or the balancer), `connections` clients each. */
async function measure(url, { duration, connections }) {
  const session = await sessionCookie(url, USER.upn, USER.password);
  const check = await fetch(`${url}${SIGN_IN}`, { headers: { cookie: session } });
  if (check.status !== 200) throw new Error(`token request answered ${check.status}: ${(await check.text()).slice(0, 300)}`);
  const token = await load({ url: `${url}${SIGN_IN}`, headers: { cookie: session }, connections, duration });
  const { cookie, token: csrf } = await csrfPair(url);
  const one = await fetch(`${url}${SIGN_IN}`, { method: 'POST', headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ _csrf: csrf, UserName: USER.upn, Password: USER.password }).toString() });
  const oneBody = await one.text();
  if (one.status !== 200 || !oneBody.includes('wresult')) throw new Error(`sign-in answered ${one.status}: ${oneBody.slice(0, 400)}`);
  const signin = await load({
    url: `${url}${SIGN_IN}`,
    method: 'POST',
    headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ _csrf: csrf, UserName: USER.upn, Password: USER.password }).toString(),
    connections,
    duration,
  });
  return { token, signin };
}

export default async function run({ duration, connections }) {
  ensureDc();
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-bench-farm-'));
  const keys = { ...createSelfSignedCertificate({ commonName: 'bench', bits: 2048, days: 365 }), sessionKey: randomBytes(32).toString('base64') + '\n' };
  const farmKey = join(dir, 'farm.key');
  writeFileSync(farmKey, randomBytes(32).toString('base64') + '\n', { mode: 0o600 });
  const isolation = isolateDc();
  console.log(`placement: ${isolation.note}; ${connections} clients, ${duration} s per measurement`);
  const redis = await redisServer(dir);
  // Smart lockout in log-only mode: every attempt is reserved and settled in the store exactly as when
  // enforced, but 16 concurrent sign-ins of one user are not serialised (enforced, an attempt waits for the
  // account's attempts in flight, by design; real load spreads over many accounts). Rate limits lifted.
  const lockout = { lockout: { mode: 'log-only', threshold: 2 } };
  // One server process per server (workers: 1): "2 servers" is 2 processes, "1 server" is 1.
  const farm = (publicUrl) => ({ ...lockout, workers: 1, trustedProxies: ['127.0.0.1'], state: { redis: { url: redis.url }, farmKeyFile: farmKey }, ...(publicUrl ? { publicUrl } : {}) });
  const servers = [];
  const stops = [];
  try {
    // 1. latency: SQLite vs farm mode, one server each, no proxy.
    const sqlite = await startGatehouse({ keys, extra: { ...lockout, workers: 1 }, cpuList: isolation.cpuList });
    servers.push(sqlite);
    const one = await startGatehouse({ keys, extra: farm(), cpuList: isolation.cpuList });
    servers.push(one);
    console.log('1 server, SQLite state...');
    const s = await measure(sqlite.url, { duration, connections });
    console.log('1 server, Redis state...');
    const c0 = await redisCommands(redis.port);
    const r = await measure(one.url, { duration, connections });
    const c1 = await redisCommands(redis.port);
    const perRequest = (c1 - c0) / (r.token.total + r.signin.total + 4);
    // Commands per sign-in and per token request, measured apart (a short run of each).
    const cs0 = await redisCommands(redis.port);
    const { cookie, token: csrf } = await csrfPair(one.url);
    const N = 50;
    for (let i = 0; i < N; i++) {
      const res = await fetch(`${one.url}${SIGN_IN}`, { method: 'POST', headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ _csrf: csrf, UserName: USER.upn, Password: USER.password }) });
      await res.text();
    }
    const cs1 = await redisCommands(redis.port);
    const sess = await sessionCookie(one.url, USER.upn, USER.password);
    const ct0 = await redisCommands(redis.port);
    for (let i = 0; i < N; i++) await (await fetch(`${one.url}${SIGN_IN}`, { headers: { cookie: sess } })).text();
    const ct1 = await redisCommands(redis.port);
    const perSignIn = (cs1 - cs0) / N;
    const perToken = (ct1 - ct0) / N;

    // 1b. round trips waited for: the same server again, its Redis behind a link adding 2 × LINK_MS to
    // every round trip; one request at a time, so the added time is the waited round trips' time.
    const LINK_MS = 5;
    await ensureAccounts({ dcDir: process.env.SAMBA_DC_DIR ?? '/tmp/gatehouse-samba-dc', ou: `OU=BenchSignin,${DC.baseDn}`, count: 500, password: 'Passw0rd!Sign1', prefix: 'sign' });
    const link = await slowLink(redis.port, LINK_MS);
    stops.push(link.stop);
    const far = await startGatehouse({ keys, extra: { ...farm(), state: { redis: { url: link.url }, farmKeyFile: farmKey } }, cpuList: isolation.cpuList });
    servers.push(far);
    console.log(`one request at a time, Redis direct and over a link adding ${2 * LINK_MS} ms a round trip...`);
    const near = await oneAtATime(one.url, 200);
    const slow = await oneAtATime(far.url, 200);
    const waited = { signIn: (slow.signIn - near.signIn) / (2 * LINK_MS), token: (slow.token - near.token) / (2 * LINK_MS) };
    console.log(JSON.stringify({ near, slow, waited }));

    // 2. throughput: 2 servers behind HAProxy vs 1 behind the same configuration.
    const lbPort = await freePort();
    const lbUrl = `http://127.0.0.1:${lbPort}`;
    const a = await startGatehouse({ keys, extra: farm(), cpuList: isolation.cpuList });
    const b = await startGatehouse({ keys, extra: farm(), cpuList: isolation.cpuList });
    servers.push(a, b);
    const lb1 = await haproxy(dir, [a.url]);
    stops.push(lb1.stop);
    console.log('1 server behind HAProxy...');
    const t1 = await measure(lb1.url, { duration, connections });
    const lb2 = await haproxy(dir, [a.url, b.url]);
    stops.push(lb2.stop);
    console.log('2 servers behind HAProxy...');
    const t2 = await measure(lb2.url, { duration, connections });
    void lbUrl;

    const rows = [
      { setup: '1 server, SQLite', 'tokens /s': s.token.rps.toFixed(0), 'token p50/p99 ms': `${s.token.p50}/${s.token.p99}`, 'sign-ins /s': s.signin.rps.toFixed(0), 'sign-in p50/p99 ms': `${s.signin.p50}/${s.signin.p99}` },
      { setup: '1 server, Redis', 'tokens /s': r.token.rps.toFixed(0), 'token p50/p99 ms': `${r.token.p50}/${r.token.p99}`, 'sign-ins /s': r.signin.rps.toFixed(0), 'sign-in p50/p99 ms': `${r.signin.p50}/${r.signin.p99}` },
      { setup: 'HAProxy + 1 server (Redis)', 'tokens /s': t1.token.rps.toFixed(0), 'token p50/p99 ms': `${t1.token.p50}/${t1.token.p99}`, 'sign-ins /s': t1.signin.rps.toFixed(0), 'sign-in p50/p99 ms': `${t1.signin.p50}/${t1.signin.p99}` },
      { setup: 'HAProxy + 2 servers (Redis)', 'tokens /s': t2.token.rps.toFixed(0), 'token p50/p99 ms': `${t2.token.p50}/${t2.token.p99}`, 'sign-ins /s': t2.signin.rps.toFixed(0), 'sign-in p50/p99 ms': `${t2.signin.p50}/${t2.signin.p99}` },
    ];
    table(rows);
    const result = {
      placement: isolation.note,
      connections,
      duration,
      sqlite: s,
      redis: r,
      haproxy1: t1,
      haproxy2: t2,
      ratios: {
        'tokens/s, 2 servers vs 1 (HAProxy)': +(t2.token.rps / t1.token.rps).toFixed(2),
        'sign-ins/s, 2 servers vs 1 (HAProxy)': +(t2.signin.rps / t1.signin.rps).toFixed(2),
        'token p50 added by Redis, ms': +(r.token.p50 - s.token.p50).toFixed(2),
        'token p99 added by Redis, ms': +(r.token.p99 - s.token.p99).toFixed(2),
        'sign-in p50 added by Redis, ms': +(r.signin.p50 - s.signin.p50).toFixed(2),
        'sign-in p99 added by Redis, ms': +(r.signin.p99 - s.signin.p99).toFixed(2),
        'tokens/s Redis vs SQLite': +(r.token.rps / s.token.rps).toFixed(2),
        'sign-ins/s Redis vs SQLite': +(r.signin.rps / s.signin.rps).toFixed(2),
      },
      redisRoundTripCommands: { perSignIn: +perSignIn.toFixed(2), perTokenRequest: +perToken.toFixed(2), perRequestUnderLoad: +perRequest.toFixed(2) },
      redisRoundTripsWaited: { linkAddsMs: 2 * LINK_MS, p50DirectMs: near, p50OverLinkMs: slow, perSignIn: +waited.signIn.toFixed(2), perTokenRequest: +waited.token.toFixed(2) },
    };
    console.log(JSON.stringify({ ratios: result.ratios, redisRoundTripCommands: result.redisRoundTripCommands, redisRoundTripsWaited: result.redisRoundTripsWaited }, null, 2));
    return result;
  } finally {
    for (const stop of stops) stop();
    for (const srv of servers) await srv.stop();
    redis.stop();
    isolation.undo();
    rmSync(dir, { recursive: true, force: true });
  }
}
