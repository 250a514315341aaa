// The second factor's cost: server time added to a browser sign-in when TOTP is required. Sequential
// sign-ins (one client, so the figures are server time, not queueing) on two servers of the same
// configuration, one with MFA off (the password POST answers with the token) and one with
// mfa.require.always (the password POST answers with the code page, the code POST with the token).
// Both go round the same accounts; each account has enrolled once (warm-up), and every measured
// sign-in uses a code of its own (the replay cache accepts a code once), so ACCOUNTS x 3 codes (previous,
// current, next step) bound the number of measured sign-ins.
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Secret, TOTP } from 'otpauth';
import { createSelfSignedCertificate } from '../dist/keys/generate.js';
import { cookieJar, DC, ensureAccounts, ensureDc, M365, startGatehouse, table } from './lib.mjs';

const ACCOUNTS = 40;
const PASSWORD = 'Passw0rd!Mfa1';
const OU = `OU=BenchMfa,${DC.baseDn}`;
const upn = (i) => `mfa-${String((i % ACCOUNTS) + 1).padStart(5, '0')}@corp.example.test`;
const PATH = `/adfs/ls/?wa=wsignin1.0&wtrealm=${encodeURIComponent(M365)}`;
const codeFor = (secret, offset) => new TOTP({ secret: Secret.fromBase32(secret), digits: 6, period: 30, algorithm: 'SHA1' }).generate({ timestamp: Date.now() + offset * 30_000 });

/** A cookie jar and form posts, as a browser does them. */
function client(url) {
  const { keep, cookie } = cookieJar();
  return {
    async get() {
      const res = await fetch(`${url}${PATH}`, { headers: { cookie: cookie() } });
      keep(res);
      return res.text();
    },
    /** @returns the page and the server's time for it (ms, from sending to the last byte). */
    async post(fields) {
      const t0 = process.hrtime.bigint();
      const res = await fetch(`${url}${PATH}`, { method: 'POST', headers: { cookie: cookie(), 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(fields) });
      keep(res);
      const body = await res.text();
      return { body, ms: Number(process.hrtime.bigint() - t0) / 1e6 };
    },
  };
}

const csrfOf = (html) => /name="_csrf" value="([^"]+)"/.exec(html)[1];
const field = (html, name) => new RegExp(`name="${name}" value="([^"]+)"`).exec(html)?.[1];

/** One sign-in from a fresh browser: password, then (MFA on) the code. Times of each POST. */
async function signIn(url, i, code) {
  const c = client(url);
  const login = await c.get();
  const pw = await c.post({ _csrf: csrfOf(login), UserName: upn(i), Password: PASSWORD });
  if (!code) {
    if (!pw.body.includes('wresult')) throw new Error(`no token for ${upn(i)}`);
    return { password: pw.ms, code: 0 };
  }
  if (!pw.body.includes('name="Code"')) throw new Error(`no code page for ${upn(i)}`);
  const second = await c.post({ _csrf: csrfOf(pw.body), Action: 'mfaCode', Code: code(i) });
  if (!second.body.includes('wresult')) throw new Error(`no token after the code for ${upn(i)}: ${second.body.slice(0, 300)}`);
  return { password: pw.ms, code: second.ms };
}

/** Enrols every account once (enrolment page, first code, Continue); returns the secrets. */
async function enrolAll(url) {
  const secrets = [];
  for (let i = 0; i < ACCOUNTS; i++) {
    const c = client(url);
    const pw = await c.post({ _csrf: csrfOf(await c.get()), UserName: upn(i), Password: PASSWORD });
    const secret = /id="secret">([A-Z2-7 ]+)</.exec(pw.body)[1].replace(/ /g, '');
    const codes = await c.post({ _csrf: csrfOf(pw.body), Action: 'mfaEnrol', Enrolment: field(pw.body, 'Enrolment'), Code: codeFor(secret, -1) });
    if (!codes.body.includes('recoveryCodes')) throw new Error(`enrolment of ${upn(i)} failed`);
    secrets.push(secret);
  }
  return secrets;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const p90 = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length * 0.9)];

export default async function run() {
  ensureDc();
  const added = await ensureAccounts({ dcDir: process.env.SAMBA_DC_DIR ?? '/tmp/gatehouse-samba-dc', ou: OU, count: ACCOUNTS, password: PASSWORD, prefix: 'mfa' });
  if (added) console.log(`added ${ACCOUNTS} accounts in ${added.toFixed(1)} s`);
  const keys = { ...createSelfSignedCertificate({ commonName: 'bench', bits: 2048, days: 365 }), sessionKey: randomBytes(32).toString('base64') + '\n' };
  const off = await startGatehouse({ keys });
  const mfaKey = join(off.dir, 'bench-mfa.key');
  writeFileSync(mfaKey, randomBytes(32).toString('base64') + '\n', { mode: 0o600 });
  const on = await startGatehouse({ keys, extra: { mfa: { enabled: true, keyFile: mfaKey, require: { always: true } } } });
  try {
    console.log(`enrolling ${ACCOUNTS} accounts...`);
    const secrets = await enrolAll(on.url);
    // Warm both servers (templates, connections, account cache), then alternate so drift hits both alike.
    for (let i = 0; i < ACCOUNTS; i++) await signIn(off.url, i);
    const rounds = [];
    for (const offset of [0, 1]) {
      for (let i = 0; i < ACCOUNTS; i++) {
        const a = await signIn(off.url, i);
        const b = await signIn(on.url, i, (k) => codeFor(secrets[k], offset));
        rounds.push({ off: a.password, onPassword: b.password, onCode: b.code });
      }
    }
    const offMs = rounds.map((r) => r.off);
    const pwMs = rounds.map((r) => r.onPassword);
    const codeMs = rounds.map((r) => r.onCode);
    const totalOn = rounds.map((r) => r.onPassword + r.onCode);
    const addedMs = median(totalOn) - median(offMs);
    table([
      { measure: 'MFA off: password POST -> token', 'p50 ms': median(offMs).toFixed(1), 'p90 ms': p90(offMs).toFixed(1), ratio: '1.00' },
      { measure: 'TOTP on: password POST -> code page', 'p50 ms': median(pwMs).toFixed(1), 'p90 ms': p90(pwMs).toFixed(1), ratio: (median(pwMs) / median(offMs)).toFixed(2) },
      { measure: 'TOTP on: code POST -> token', 'p50 ms': median(codeMs).toFixed(1), 'p90 ms': p90(codeMs).toFixed(1), ratio: (median(codeMs) / median(offMs)).toFixed(2) },
      { measure: 'TOTP on: both POSTs', 'p50 ms': median(totalOn).toFixed(1), 'p90 ms': p90(totalOn).toFixed(1), ratio: (median(totalOn) / median(offMs)).toFixed(2) },
    ]);
    console.log(`\nadded server time per sign-in with TOTP (p50 of both POSTs minus p50 of the password-only POST): ${addedMs.toFixed(1)} ms over ${rounds.length} sign-ins`);
    return { signIns: rounds.length, p50: { off: median(offMs), onPassword: median(pwMs), onCode: median(codeMs), onTotal: median(totalOn) }, addedMs };
  } finally {
    await on.stop();
    await off.stop();
  }
}
