// Full sign-in: the login POST (user look-up by the service account, LDAP bind as the user, smart
// lockout, token) against baselines doing the same directory work raw with ldapts in the same run:
// the same look-up on a reused service-account connection, then the bind as the user on (a) a new
// connection, (b) a reused one. Sign-ins go round ACCOUNTS users, as real load does: smart lockout
// serialises one account's attempts in flight by design. Gatehouse runs twice, with smart lockout
// enforced and off, so its cost shows as a ratio too.
import { randomBytes } from 'node:crypto';
import { Client, escapeFilter } from 'ldapts';
import { createSelfSignedCertificate } from '../dist/keys/generate.js';
import { cpuMs, DC, ensureAccounts, ensureDc, isolateDc, load, M365, startGatehouse, table } from './lib.mjs';

const ACCOUNTS = 500;
const PASSWORD = 'Passw0rd!Sign1';
const OU = `OU=BenchSignin,${DC.baseDn}`;
const upn = (i) => `sign-${String((i % ACCOUNTS) + 1).padStart(5, '0')}@corp.example.test`;

// Gatehouse's own look-up (src/directory/lookup.ts): the default userFilter, the UPN, these attributes.
const lookup = (i) => ({
  filter: `(&(&(objectCategory=person)(objectClass=user))${escapeFilter`(userPrincipalName=${upn(i)})`})`,
  attributes: ['sAMAccountName', 'userPrincipalName', 'objectGUID', 'mS-DS-ConsistencyGuid', 'displayName', 'givenName', 'sn', 'mail', 'userAccountControl', 'msDS-UserPasswordExpiryTimeComputed', 'badPwdCount', 'badPasswordTime'],
});

/**
 * `concurrency` loops doing the raw directory work of a sign-in for `seconds`: the look-up on one shared
 * service-account connection, then the bind as the user, on a new connection each time or (`reuse`) on a
 * connection of the loop's own that binds again and again. Rate and latency percentiles.
 */
async function rawLdap(concurrency, seconds, { reuse }) {
  const service = new Client({ url: DC.url, timeout: 5000, connectTimeout: 5000 });
  await service.bind(DC.service.dn, DC.service.password);
  const latencies = [];
  const end = Date.now() + seconds * 1000;
  let next = 0;
  const loop = async () => {
    const own = reuse ? new Client({ url: DC.url, timeout: 5000, connectTimeout: 5000 }) : undefined;
    while (Date.now() < end) {
      const t0 = process.hrtime.bigint();
      const { searchEntries } = await service.search(DC.baseDn, { scope: 'sub', ...lookup(next++), sizeLimit: 2, explicitBufferAttributes: ['objectGUID', 'mS-DS-ConsistencyGuid'] });
      const user = own ?? new Client({ url: DC.url, timeout: 5000, connectTimeout: 5000 });
      await user.bind(searchEntries[0].dn, PASSWORD);
      if (!own) await user.unbind();
      latencies.push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
    await own?.unbind();
  };
  const start = Date.now();
  await Promise.all(Array.from({ length: concurrency }, loop));
  const elapsed = (Date.now() - start) / 1000;
  await service.unbind();
  latencies.sort((a, b) => a - b);
  const pct = (p) => latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))];
  return { rps: latencies.length / elapsed, p50: +pct(50).toFixed(1), p99: +pct(99).toFixed(1) };
}

async function csrfPair(url) {
  const res = await fetch(`${url}/adfs/ls/?wa=wsignin1.0&wtrealm=${encodeURIComponent(M365)}`);
  const cookie = res.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
  const token = /name="_csrf" value="([^"]+)"/.exec(await res.text())[1];
  return { cookie, token };
}

/** One sign-in per account, 16 at a time. */
async function warmUp(gh) {
  const { cookie, token } = await csrfPair(gh.url);
  const path = `${gh.url}/adfs/ls/?wa=wsignin1.0&wtrealm=${encodeURIComponent(M365)}`;
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < ACCOUNTS; i = next++) {
      const res = await fetch(path, { method: 'POST', headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ _csrf: token, UserName: upn(i), Password: PASSWORD }) });
      if (!(await res.text()).includes('wresult')) throw new Error(`warm-up sign-in of ${upn(i)} did not issue a token`);
    }
  };
  await Promise.all(Array.from({ length: 16 }, worker));
}

/** Login POSTs for `seconds`, each for the next account (one CSRF pair serves them all). */
async function gatehouseLoad(gh, connections, duration) {
  const { cookie, token } = await csrfPair(gh.url);
  const bodies = Array.from({ length: ACCOUNTS }, (_, i) => new URLSearchParams({ _csrf: token, UserName: upn(i), Password: PASSWORD }).toString());
  const path = `/adfs/ls/?wa=wsignin1.0&wtrealm=${encodeURIComponent(M365)}`;
  const probe = await fetch(`${gh.url}${path}`, { method: 'POST', headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' }, body: bodies[0] });
  if (!(await probe.text()).includes('wresult')) throw new Error('sign-in did not issue a token');
  let i = 0;
  const cpu0 = cpuMs(gh.pid);
  const r = await load({
    url: gh.url,
    connections,
    duration,
    requests: [{ method: 'POST', path, headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' }, setupRequest: (req) => ({ ...req, body: bodies[i++ % ACCOUNTS] }) }],
  });
  // The server's CPU per sign-in: what bounds its rate once it is busy, and steady under a loaded machine.
  return { ...r, cpuMs: (cpuMs(gh.pid) - cpu0) / r.total };
}

/**
 * Two servers measured in turn, A B B A, each for half its time a turn: what the directory or the machine
 * does over the run (a DC warming, another process) then weighs on both alike, not on whichever ran second.
 */
async function interleaved(a, b) {
  const [a1, b1, b2, a2] = [await a(), await b(), await b(), await a()];
  const mean = (x, y) => ({ rps: (x.rps + y.rps) / 2, p50: (x.p50 + y.p50) / 2, p99: (x.p99 + y.p99) / 2, total: x.total + y.total, cpuMs: (x.cpuMs * x.total + y.cpuMs * y.total) / (x.total + y.total) });
  return [mean(a1, a2), mean(b1, b2)];
}

export default async function run({ duration, clients = [1, 16, 64] }) {
  ensureDc();
  const added = await ensureAccounts({ dcDir: process.env.SAMBA_DC_DIR ?? '/tmp/gatehouse-samba-dc', ou: OU, count: ACCOUNTS, password: PASSWORD, prefix: 'sign' });
  if (added) console.log(`added ${ACCOUNTS} accounts in ${added.toFixed(1)} s`);
  const keys = { ...createSelfSignedCertificate({ commonName: 'bench', bits: 2048, days: 365 }), sessionKey: randomBytes(32).toString('base64') + '\n' };
  const isolation = isolateDc();
  console.log(`placement: ${isolation.note}`);
  // Default protections on (smart lockout with its SQLite counters); only the rate limits are lifted. The
  // same server again with smart lockout off, for its cost.
  const gh = await startGatehouse({ keys, extra: { workers: 1, lockout: { mode: 'enforce' } }, cpuList: isolation.cpuList });
  const ghOff = await startGatehouse({ keys, extra: { workers: 1, lockout: { mode: 'off' } }, cpuList: isolation.cpuList });
  const rows = [];
  const results = [];
  try {
    // Steady state: every account has signed in once on both servers (its smart-lockout row exists, its
    // address is familiar), as in a deployment that has run for a day.
    console.log(`warm-up: one sign-in per account on each server...`);
    for (const server of [gh, ghOff]) await warmUp(server);
    for (const c of clients) {
      console.log(`concurrency ${c}: raw ldapts (a) new connection per bind, (b) reused connection, ${duration} s each...`);
      const base = await rawLdap(c, duration, { reuse: false });
      const reused = await rawLdap(c, duration, { reuse: true });
      console.log(`concurrency ${c}: Gatehouse login POST with smart lockout enforced and off, in turn (A B B A), ${duration} s each...`);
      const [g, off] = await interleaved(() => gatehouseLoad(gh, c, duration / 2), () => gatehouseLoad(ghOff, c, duration / 2));
      results.push({ concurrency: c, baseline: base, baselineReusedBind: reused, gatehouse: g, gatehouseLockoutOff: off });
      rows.push({
        clients: c,
        '(a) raw /s': base.rps.toFixed(0),
        '(a) p50/p99 ms': `${base.p50}/${base.p99}`,
        '(b) raw reused /s': reused.rps.toFixed(0),
        '(b) p50/p99 ms': `${reused.p50}/${reused.p99}`,
        'Gatehouse /s': g.rps.toFixed(0),
        'Gatehouse p50/p99 ms': `${g.p50}/${g.p99}`,
        'rate vs (a)': (g.rps / base.rps).toFixed(2),
        'p99 added vs (a) ms': (g.p99 - base.p99).toFixed(1),
        'rate vs (b)': (g.rps / reused.rps).toFixed(2),
        'p99 added vs (b) ms': (g.p99 - reused.p99).toFixed(1),
        'lockout off /s': off.rps.toFixed(0),
        'rate with lockout vs off': (g.rps / off.rps).toFixed(2),
        'server CPU ms/sign-in on/off': `${g.cpuMs.toFixed(2)}/${off.cpuMs.toFixed(2)}`,
        'CPU with lockout vs off': (g.cpuMs / off.cpuMs).toFixed(2),
      });
      console.log(JSON.stringify(rows.at(-1)));
    }
  } finally {
    await gh.stop();
    await ghOff.stop();
    isolation.undo();
  }
  console.log(
    '\nDirectory work per sign-in: Gatehouse = baseline: the same search (filter and attributes) on the service connection, one bind as the user.' +
      ' The bind: (a) on a new connection, as the issue\'s baseline; (b) on a reused connection, as Gatehouse does (directory.bindConnections).' +
      ` Sign-ins go round ${ACCOUNTS} accounts.`,
  );
  table(rows);
  const at16 = results.find((r) => r.concurrency === 16) ?? results.at(-1);
  return {
    placement: isolation.note,
    results,
    targets: {
      'at least 90% of the raw rate (a) (every concurrency)': results.every((r) => r.gatehouse.rps / r.baseline.rps >= 0.9),
      'p99 added latency under 5 ms at 16 clients vs (a)': at16.gatehouse.p99 - at16.baseline.p99 < 5,
      'at least 90% of the raw rate (b) (every concurrency)': results.every((r) => r.gatehouse.rps / r.baselineReusedBind.rps >= 0.9),
      'p99 added latency under 5 ms at 16 clients vs (b)': at16.gatehouse.p99 - at16.baselineReusedBind.p99 < 5,
      'smart lockout costs at most 5% of the rate (every concurrency)': results.every((r) => r.gatehouse.rps / r.gatehouseLockoutOff.rps >= 0.95),
      'smart lockout adds at most 5% server CPU per sign-in (every concurrency)': results.every((r) => r.gatehouse.cpuMs / r.gatehouseLockoutOff.cpuMs <= 1.05),
    },
  };
}
