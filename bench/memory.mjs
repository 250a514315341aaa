// Memory of the server: RSS idle, and after 10,000 sign-ins (each one a new session), against the RSS of a
// bare Node HTTP server measured in the same run. Sessions live in the browser's cookie (sealed with
// AES-GCM), so what may grow on the server is per-account state: the account re-check cache and the smart
// lockout rows (SQLite, on disk).
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createSelfSignedCertificate } from '../dist/keys/generate.js';
import { DC, ensureAccounts, ensureDc, M365, startGatehouse, table } from './lib.mjs';

const DC_DIR = process.env.SAMBA_DC_DIR ?? '/tmp/gatehouse-samba-dc';
const OU = `OU=BenchMemory,${DC.baseDn}`;
const ACCOUNTS = 1000;
const SESSIONS = 10_000;
const CONCURRENCY = 16;
const PASSWORD = 'Passw0rd!Mem1';
const name = (i) => `mem-${String(i).padStart(5, '0')}`;

const log = (s) => console.log(`[bench memory] ${s}`);
const mib = (kib) => +(kib / 1024).toFixed(1);

/** VmRSS and VmHWM (peak) of a process, in KiB. */
function rss(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (key) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)[1]);
  return { rss: kib('VmRSS'), hwm: kib('VmHWM') };
}

/** ACCOUNTS users with a password in OU=BenchMemory of the test DC, added once with ldbadd. */
const ensureMemoryAccounts = () => ensureAccounts({ dcDir: DC_DIR, ou: OU, count: ACCOUNTS, password: PASSWORD, prefix: 'mem' });

/** One browser sign-in: the login page (CSRF cookie and token), then the POST; returns the session cookie. */
async function signIn(url, user) {
  const signInUrl = `${url}/adfs/ls/?wa=wsignin1.0&wtrealm=${encodeURIComponent(M365)}`;
  const page = await fetch(signInUrl);
  const csrfCookie = page.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
  const csrf = /name="_csrf" value="([^"]+)"/.exec(await page.text())[1];
  const res = await fetch(signInUrl, {
    method: 'POST',
    headers: { cookie: csrfCookie, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ _csrf: csrf, UserName: `${user}@corp.example.test`, Password: PASSWORD }),
  });
  const body = await res.text();
  const session = res.headers.getSetCookie().find((c) => c.startsWith('gatehouse_session='));
  if (!body.includes('wresult') || !session) throw new Error(`sign-in of ${user} failed (HTTP ${res.status})`);
  return session;
}

/** A Node process doing nothing but listening on HTTP: what any Node server costs. */
async function bareNodeRss() {
  const child = spawn(process.execPath, ['-e', "require('node:http').createServer((q, s) => s.end('ok')).listen(0, '127.0.0.1', () => console.log('up'))"], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise((r) => child.stdout.once('data', r));
  await new Promise((r) => setTimeout(r, 1000));
  const m = rss(child.pid);
  child.kill();
  return m.rss;
}

export default async function run() {
  ensureDc();
  const added = await ensureMemoryAccounts();
  if (added) log(`added ${ACCOUNTS} accounts with passwords to ${OU} in ${added.toFixed(1)} s`);
  const bare = await bareNodeRss();
  const keys = { ...createSelfSignedCertificate({ commonName: 'bench', bits: 2048, days: 365 }), sessionKey: randomBytes(32).toString('base64') + '\n' };
  // Default protections on (smart lockout with its SQLite rows per account); only the rate limits are lifted.
  const gh = await startGatehouse({ keys, extra: { lockout: { mode: 'enforce', threshold: 2 } } });
  try {
    await new Promise((r) => setTimeout(r, 2000));
    const idle = rss(gh.pid);
    log(`idle: RSS ${mib(idle.rss)} MiB`);
    const samples = [];
    const sampler = setInterval(() => samples.push(rss(gh.pid).rss), 500);
    // Two rounds: the first shows what 10,000 sessions cost, the second whether anything keeps growing.
    const rounds = [];
    for (let round = 1; round <= 2; round++) {
      log(`round ${round}: signing in ${SESSIONS} times (${ACCOUNTS} accounts, ${CONCURRENCY} at a time)...`);
      const t0 = Date.now();
      let next = 0;
      const sessions = new Set();
      await Promise.all(
        Array.from({ length: CONCURRENCY }, async () => {
          while (next < SESSIONS) {
            const i = next++;
            sessions.add(await signIn(gh.url, name((i % ACCOUNTS) + 1)));
          }
        }),
      );
      if (sessions.size !== SESSIONS) throw new Error(`${sessions.size} distinct session cookies for ${SESSIONS} sign-ins`);
      const after = rss(gh.pid).rss;
      await new Promise((r) => setTimeout(r, 10_000));
      rounds.push({ round, seconds: (Date.now() - t0) / 1000 - 10, after, settled: rss(gh.pid).rss });
    }
    clearInterval(sampler);
    const peak = Math.max(rss(gh.pid).hwm, ...samples);
    const ratio = (kib) => (kib / bare).toFixed(2);
    const rows = [
      { state: 'bare Node HTTP server (baseline)', 'RSS MiB': mib(bare), 'vs baseline': '1.00', 'vs idle': '-' },
      { state: 'Gatehouse idle (started, no request)', 'RSS MiB': mib(idle.rss), 'vs baseline': ratio(idle.rss), 'vs idle': '1.00' },
      ...rounds.flatMap((r) => [
        { state: `after ${r.round * SESSIONS} sign-ins`, 'RSS MiB': mib(r.after), 'vs baseline': ratio(r.after), 'vs idle': (r.after / idle.rss).toFixed(2) },
        { state: '  10 s later', 'RSS MiB': mib(r.settled), 'vs baseline': ratio(r.settled), 'vs idle': (r.settled / idle.rss).toFixed(2) },
      ]),
      { state: 'peak', 'RSS MiB': mib(peak), 'vs baseline': ratio(peak), 'vs idle': (peak / idle.rss).toFixed(2) },
    ];
    table(rows);
    const [first, second] = rounds;
    console.log(
      `\n${SESSIONS} sign-ins per round (${first.seconds.toFixed(0)} s and ${second.seconds.toFixed(0)} s), each a new session cookie.` +
        ` Growth over idle after the first round: ${mib(first.settled - idle.rss)} MiB; the second round added ${mib(second.settled - first.settled)} MiB.`,
    );
    return {
      accounts: ACCOUNTS,
      sessionsPerRound: SESSIONS,
      concurrency: CONCURRENCY,
      rssKiB: { bareNode: bare, idle: idle.rss, rounds, peak },
      ratios: { idleVsBareNode: idle.rss / bare, firstRoundSettledVsIdle: first.settled / idle.rss, secondRoundSettledVsFirst: second.settled / first.settled },
    };
  } finally {
    await gh.stop();
  }
}
