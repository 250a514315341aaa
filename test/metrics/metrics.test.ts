// /metrics after a scripted set of real sign-ins against the test DC: a `gatehouse serve` with two worker
// processes and a metrics listener of its own (the primary sums the workers), then /metrics on the main
// port of an in-process app, protected by the address allow-list and a bearer token.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ServeProcess, freePort, writeConfig } from '../support/cli.js';
import { DC, USERS } from '../support/directory.js';
import { baseConfig, startGatehouse, TEST_RP } from '../support/gatehouse.js';
import { Browser } from '../support/http.js';
import { labelValues, sample, scrape } from '../support/metrics.js';
import { freshUser } from '../support/users.js';

const TOKEN = 'metrics-test-token-0123456789abcdef';
const signInUrl = (base: string, realm = TEST_RP.id) => `${base}/adfs/ls/?wa=wsignin1.0&wtrealm=${encodeURIComponent(realm)}`;

/** One login-form post on a fresh page; the page answered. */
async function signIn(base: string, username: string, password: string) {
  const b = new Browser();
  const login = await b.get(signInUrl(base));
  const { action, fields } = login.form();
  return b.post(new URL(action, base).toString(), { ...fields, UserName: username, Password: password });
}

describe('metrics of a two-worker server, on its own listener', () => {
  let serve: ServeProcess;
  let base: string;
  let metricsUrl: string;
  let eve: ReturnType<typeof freshUser>;

  beforeAll(async () => {
    eve = freshUser('metrics-eve', 'Passw0rd!Eve1');
    const dir = mkdtempSync(join(tmpdir(), 'gatehouse-metrics-'));
    const port = await freePort();
    const metricsPort = await freePort();
    const cfg = baseConfig(dir, port);
    base = `http://127.0.0.1:${port}`;
    metricsUrl = `http://127.0.0.1:${metricsPort}/metrics`;
    writeFileSync(join(dir, 'metrics.token'), TOKEN + '\n', { mode: 0o600 });
    Object.assign(cfg, {
      publicUrl: base,
      workers: 2,
      logLevel: 'info',
      // One bad password locks unknown locations: the lockout metrics move with few attempts.
      lockout: { threshold: 1 },
      metrics: { enabled: true, listen: `127.0.0.1:${metricsPort}`, bearerTokenFile: 'metrics.token' },
    });
    const file = writeConfig(dir, 'gatehouse.yaml', cfg);
    serve = new ServeProcess(['-c', file], { cwd: dir });
    await serve.ready(30_000);
    // Both workers listening (the first "serving" line may be one worker's).
    const deadline = Date.now() + 30_000;
    while (serve.logLines().filter((l) => l.msg === 'Gatehouse is serving').length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));

    // The script: 1 success, 2 names that match no account, 1 disabled account, 1 wrong password then
    // smart lockout's refusal for a user of the test's own, 1 unregistered relying party.
    expect((await signIn(base, USERS.alice.upn, USERS.alice.password)).body).toContain('wresult');
    expect((await signIn(base, 'metrics-nobody-1@corp.example.test', 'Wrong-1!x')).status).toBe(401);
    expect((await signIn(base, 'metrics-nobody-2@corp.example.test', 'Wrong-2!x')).status).toBe(401);
    expect((await signIn(base, USERS.carol.upn, USERS.carol.password)).status).toBe(403);
    expect((await signIn(base, eve.upn, 'Wrong-3!x')).status).toBe(401);
    expect((await signIn(base, eve.upn, eve.password)).status).toBe(401); // refused by smart lockout: AD is not asked
    expect((await new Browser().get(signInUrl(base, 'urn:not-registered'))).status).toBe(400);
  }, 90_000);

  afterAll(async () => {
    await serve?.stop('SIGTERM', 15_000).catch(() => serve.kill());
  });

  it('refuses a scrape without the bearer token, or with a wrong one', async () => {
    expect((await scrape(metricsUrl)).status).toBe(401);
    expect((await scrape(metricsUrl, 'not-the-token-at-all')).status).toBe(401);
    expect((await fetch(metricsUrl.replace('/metrics', '/other'), { headers: { authorization: `Bearer ${TOKEN}` } })).status).toBe(404);
  });

  it('counts the sign-ins by protocol, relying party and outcome, summed over both workers', async () => {
    const { status, text, type } = await scrape(metricsUrl, TOKEN);
    expect(status).toBe(200);
    expect(type).toContain('text/plain');
    const signins = (outcome: string, rp = TEST_RP.id) => sample(text, 'gatehouse_signins_total', { protocol: 'wsfed', relying_party: rp, outcome });
    expect(signins('success')).toBe(1);
    expect(signins('authn_failed')).toBe(3);
    expect(signins('account_disabled')).toBe(1);
    expect(signins('extranet_lockout')).toBe(1);
    expect(signins('rp_unknown', 'unknown')).toBe(1);
    expect(sample(text, 'gatehouse_tokens_issued_total', { protocol: 'wsfed', relying_party: TEST_RP.id, authn_method: 'form-password' })).toBe(1);
    expect(sample(text, 'gatehouse_password_checks_total', { kind: 'signin_attempt', outcome: 'success' })).toBe(1);
    expect(sample(text, 'gatehouse_password_checks_total', { kind: 'signin_attempt', outcome: 'authn_failed' })).toBe(3);
  });

  it('shows smart lockout, the DC, the certificate, request latency per route and the process', async () => {
    const { text } = await scrape(metricsUrl, TOKEN);
    expect(sample(text, 'gatehouse_lockout_refusals_total', { location: 'unknown', reason: 'threshold', enforced: 'true' })).toBe(1);
    expect(sample(text, 'gatehouse_lockout_locked_locations', { location: 'unknown' })).toBe(1);
    expect(sample(text, 'gatehouse_dc_up', { dc: DC.url })).toBe(1);
    // Binds: the success, carol, eve's wrong password (names without an account get a dummy bind, not counted).
    expect(sample(text, 'gatehouse_ldap_operation_duration_seconds_count', { dc: DC.url, operation: 'bind' })).toBe(3);
    expect(sample(text, 'gatehouse_ldap_operation_duration_seconds_count', { dc: DC.url, operation: 'search' })).toBeGreaterThanOrEqual(5);
    expect(sample(text, 'gatehouse_ldap_errors_total', { dc: DC.url, operation: 'bind' })).toBeUndefined();
    // The test certificate is made for 30 days; the two workers' values are taken once (min), not summed.
    const days = sample(text, 'gatehouse_signing_certificate_expiry_days', { slot: 'current' })!;
    expect(days).toBeGreaterThan(28);
    expect(days).toBeLessThanOrEqual(30);
    expect(sample(text, 'gatehouse_signing_certificate_expiry_days', { slot: 'next' })).toBeUndefined();
    // 7 GETs of the login page and 6 posts, under the route's pattern.
    expect(sample(text, 'gatehouse_http_request_duration_seconds_count', { method: 'GET', route: '/adfs/ls/', status: '2xx' })).toBe(6);
    expect(sample(text, 'gatehouse_http_request_duration_seconds_count', { method: 'POST', route: '/adfs/ls/', status: '2xx' })).toBe(1);
    expect(sample(text, 'gatehouse_http_request_duration_seconds_count', { method: 'POST', route: '/adfs/ls/', status: '4xx' })).toBe(5);
    expect(sample(text, 'gatehouse_saml_schema_validation_queue')).toBe(0);
    expect(sample(text, 'gatehouse_process_resident_memory_bytes')).toBeGreaterThan(0);
  });

  it('has no user name or client address among its label values', async () => {
    const values = [...labelValues((await scrape(metricsUrl, TOKEN)).text)];
    for (const v of values) {
      expect(v).not.toMatch(/alice|carol|metrics-eve|metrics-nobody|@corp/i);
      if (v !== DC.url) expect(v).not.toMatch(/127\.0\.0\.1/);
    }
  });
});

describe('metrics on the main port', () => {
  it('answers only the allowed addresses, and counts rate-limit refusals', async () => {
    const open = await startGatehouse((c) => {
      c.metrics = { enabled: true, allowFrom: ['127.0.0.0/8', '::1'] };
      c.lockout = { mode: 'off' };
      c.rateLimit = { perAddressPerMinute: 2, globalPerMinute: 100_000 };
    });
    const closed = await startGatehouse((c) => {
      c.metrics = { enabled: true, allowFrom: ['10.0.0.0/8'] };
    });
    try {
      const before = sample((await scrape(`${open.url}/metrics`)).text, 'gatehouse_rate_limit_refusals_total', { limit: 'address' }) ?? 0;
      const statuses = [];
      for (let i = 0; i < 3; i++) statuses.push((await signIn(open.url, 'metrics-nobody@corp.example.test', `Wrong-${i}!x`)).status);
      expect(statuses).toEqual([401, 401, 429]);
      const after = await scrape(`${open.url}/metrics`);
      expect(after.status).toBe(200);
      expect(sample(after.text, 'gatehouse_rate_limit_refusals_total', { limit: 'address' })).toBe(before + 1);
      expect((await scrape(`${closed.url}/metrics`)).status).toBe(403);
    } finally {
      await open.close();
      await closed.close();
    }
  });

  it('with a bearer token file: 401 without it, the metrics with it', async () => {
    const g = await startGatehouse((c) => {
      writeFileSync(join(String(c.stateDir), '..', 'token'), TOKEN);
      c.metrics = { enabled: true, bearerTokenFile: join(String(c.stateDir), '..', 'token') };
    });
    try {
      const none = await fetch(`${g.url}/metrics`);
      expect(none.status).toBe(401);
      expect(none.headers.get('www-authenticate')).toBe('Bearer');
      const ok = await scrape(`${g.url}/metrics`, TOKEN);
      expect(ok.status).toBe(200);
      expect(ok.text).toContain('# TYPE gatehouse_signins_total counter');
    } finally {
      await g.close();
    }
  });
});
