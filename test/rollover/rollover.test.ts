// Token-signing certificate rollover: `certs rollover` makes the next certificate, which the metadata
// publishes beside the current one while the current one still signs; `certs promote` switches, and the
// server signs with the new one after a restart (or SIGHUP). Automatic mode runs the same steps in the
// server on a clock the test moves (no sleeping).
import type { ChildProcess } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import type { FastifyInstance } from 'fastify';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { baseConfig, TEST_RP } from '../support/gatehouse.js';
import { USERS } from '../support/directory.js';
import { Browser } from '../support/http.js';
import { SessionCodec } from '../../src/authn/session.js';
import { ensureBuilt, freePort, ServeProcess, writeConfig } from '../support/cli.js';
import { METADATA_ID, SAML11_ID, xmlsecVerify } from '../support/xml.js';
import { buildApp } from '../../src/app.js';
import { loadConfig, type Config } from '../../src/config/load.js';
import { Directory } from '../../src/directory/directory.js';
import { createSelfSignedCertificate, newSessionKey } from '../../src/keys/generate.js';
import { loadSessionKeys } from '../../src/keys/keystore.js';
import { SigningKeyRing } from '../../src/keys/keyring.js';
import { CertificateMonitor, loadCurrentKey, loadNextKey } from '../../src/keys/rollover.js';
import { gatehouse, metadataCertificates, signatureCertificate, wsTrustToken } from './support.js';

const DAY = 86_400_000;
const b64 = (pem: string) => new X509Certificate(pem).raw.toString('base64');
const thumb = (pem: string) => new X509Certificate(pem).fingerprint.replace(/:/g, '');
const read = (f: string) => readFileSync(f, 'utf8');
const getMetadata = async (url: string) => (await fetch(`${url}/FederationMetadata/2007-06/FederationMetadata.xml`)).text();

describe('certs rollover / promote with a running server', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-rollover-'));
  const f = {
    cert: join(dir, 'signing.crt'),
    key: join(dir, 'signing.key'),
    nextCert: join(dir, 'signing-next.crt'),
    nextKey: join(dir, 'signing-next.key'),
    prevCert: join(dir, 'signing-previous.crt'),
    prevKey: join(dir, 'signing-previous.key'),
  };
  let url: string;
  let config: string;
  const servers: ServeProcess[] = [];
  const cli = (...args: string[]) => gatehouse([...args, '-c', config], { cwd: dir });
  const start = async () => {
    const s = new ServeProcess(['-c', config], { cwd: dir });
    servers.push(s);
    await s.ready();
    return s;
  };

  beforeAll(async () => {
    ensureBuilt();
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    config = writeConfig(dir, 'gatehouse.yaml', { ...baseConfig(dir, port), publicUrl: url, logLevel: 'info' });
  });
  afterEach(() => {
    for (const s of servers.splice(0)) s.kill();
  });

  let current: string;
  let next: string;

  it('certs rollover makes the next certificate beside the current one; refuses a second one without --force', async () => {
    current = read(f.cert);
    const r = await cli('certs', 'rollover');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(statSync(f.nextKey).mode & 0o777).toBe(0o600);
    const first = read(f.nextCert);
    expect(r.stdout).toContain(thumb(first));
    expect(r.stdout).toContain(`current certificate ${thumb(current)} (expires`);
    expect(read(f.cert)).toBe(current); // the current one is untouched
    const nc = new X509Certificate(first);
    expect(nc.subject).toBe(new X509Certificate(current).subject); // same name
    expect(Math.round((Date.parse(nc.validTo) - Date.parse(nc.validFrom)) / DAY)).toBe(365); // the test cert lives 30 days: at least a year

    const again = await cli('certs', 'rollover');
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('already exists');
    expect(read(f.nextCert)).toBe(first);
    const forced = await cli('certs', 'rollover', '--force', '--days', '400');
    expect(forced.code).toBe(0);
    next = read(f.nextCert);
    expect(thumb(next)).not.toBe(thumb(first));
  });

  it('the metadata lists both certificates (current first) and still verifies; tokens are signed with the current one only', async () => {
    const s = await start();
    expect(s.logLines().find((l) => l.msg === 'Gatehouse is serving')).toMatchObject({ thumbprint: thumb(current), nextThumbprint: thumb(next) });
    const md = await getMetadata(url);
    expect(metadataCertificates(md)).toEqual([b64(current), b64(next)]);
    expect(signatureCertificate(md)).toBe(b64(current));
    expect(xmlsecVerify(md, current, METADATA_ID).ok).toBe(true);
    expect(xmlsecVerify(md, next, METADATA_ID).ok).toBe(false);

    const token = await wsTrustToken(url);
    expect(xmlsecVerify(token, current, SAML11_ID).ok).toBe(true);
    expect(xmlsecVerify(token, next, SAML11_ID).ok).toBe(false);

    const probe = (await (await fetch(`${url}/adfs/probe?verbose=1`)).json()) as Record<string, any>;
    expect(probe.certificates.current).toMatchObject({ thumbprint: thumb(current), daysLeft: expect.any(Number) });
    expect(probe.certificates.current.daysLeft).toBeGreaterThanOrEqual(28);
    expect(probe.certificates.next).toMatchObject({ thumbprint: thumb(next) });
    expect(probe.certificates.next.daysLeft).toBeGreaterThanOrEqual(398);
    expect(probe.certificate.expiresSoon).toBe(true); // 29 days left < signing.warnDaysBefore
    // The 30-day test certificate is within signing.warnDaysBefore (30): logged loudly at start.
    expect(s.logLines().find((l) => /^TOKEN-SIGNING CERTIFICATE EXPIRES IN \d+ DAYS$/.test(String(l.msg)))).toMatchObject({
      thumbprint: thumb(current),
      next: { thumbprint: thumb(next) },
    });
  });

  it('certs promote makes the next one current (old one kept as -previous); after a restart tokens verify with it', async () => {
    const r = await cli('certs', 'promote');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(read(f.cert)).toBe(next);
    expect(read(f.prevCert)).toBe(current);
    expect(existsSync(f.nextCert) || existsSync(f.nextKey)).toBe(false);
    expect(statSync(f.key).mode & 0o777).toBe(0o600);
    expect(statSync(f.prevKey).mode & 0o777).toBe(0o600);
    expect(new X509Certificate(next).checkPrivateKey((await import('node:crypto')).createPrivateKey(read(f.key)))).toBe(true);
    expect(r.stdout).toContain(`previous: ${thumb(current)} kept as ${f.prevCert}`);
    expect((await cli('certs', 'promote')).stderr).toContain('no next certificate');

    await start();
    const md = await getMetadata(url);
    expect(metadataCertificates(md)).toEqual([b64(next)]);
    expect(xmlsecVerify(md, next, METADATA_ID).ok).toBe(true);
    const token = await wsTrustToken(url);
    expect(xmlsecVerify(token, next, SAML11_ID).ok).toBe(true);
    expect(xmlsecVerify(token, current, SAML11_ID).ok).toBe(false);
  });

  it('SIGHUP re-reads the certificates: a rollover shows in the metadata, a promote in the tokens, without a restart', async () => {
    const s = await start();
    const hup = () => (s as unknown as { child: ChildProcess }).child.kill('SIGHUP');
    const signing = read(f.cert);
    expect((await cli('certs', 'rollover')).code).toBe(0);
    const third = read(f.nextCert);
    expect(metadataCertificates(await getMetadata(url))).toEqual([b64(signing)]);
    hup();
    await expect.poll(async () => metadataCertificates(await getMetadata(url)), { timeout: 5000 }).toEqual([b64(signing), b64(third)]);

    expect((await cli('certs', 'promote')).code).toBe(0);
    hup();
    await expect.poll(async () => metadataCertificates(await getMetadata(url)), { timeout: 5000 }).toEqual([b64(third)]);
    const token = await wsTrustToken(url);
    expect(xmlsecVerify(token, third, SAML11_ID).ok).toBe(true);
    expect(s.logLines().filter((l) => l.msg === 'token-signing certificates reloaded from disk')).toHaveLength(2);

    // A broken next certificate on disk: the reload is refused and the keys in use stay.
    writeFileSync(f.nextCert, 'not a certificate\n');
    writeFileSync(f.nextKey, 'nor a key\n', { mode: 0o600 });
    hup();
    await expect.poll(() => s.logLines().some((l) => String(l.msg).startsWith('token-signing certificates: cannot reload')), { timeout: 5000 }).toBe(true);
    expect(metadataCertificates(await getMetadata(url))).toEqual([b64(third)]);
    expect(xmlsecVerify(await wsTrustToken(url), third, SAML11_ID).ok).toBe(true);
  });

  it('SIGHUP re-reads the session keys: after certs rotate-session-key, new cookies are sealed with the new key and old ones still open', async () => {
    rmSync(f.nextCert); // the broken files of the test before
    rmSync(f.nextKey);
    const s = await start();
    const sessionFile = join(dir, 'session.key');
    const signIn = async () => {
      const b = new Browser();
      const form = (await b.get(`${url}/adfs/ls/?wa=wsignin1.0&wtrealm=${encodeURIComponent(TEST_RP.id)}`)).form();
      const page = await b.post(form.action, { ...form.fields, UserName: USERS.alice.upn, Password: USERS.alice.password });
      expect(page.body).toContain('name="wresult"');
      return b;
    };
    const before = await signIn();
    expect((await cli('certs', 'rotate-session-key')).code).toBe(0);
    const [fresh, old] = read(sessionFile).trim().split('\n').map((k) => new SessionCodec([Buffer.from(k, 'base64')]));
    (s as unknown as { child: ChildProcess }).child.kill('SIGHUP');
    await expect.poll(() => s.logLines().some((l) => l.event === 'session_keys'), { timeout: 5000 }).toBe(true);
    const after = await signIn();
    expect(fresh!.open(after.cookies.get('gatehouse_session'))).toBeDefined();
    expect(old!.open(after.cookies.get('gatehouse_session'))).toBeUndefined();
    const sso = await before.get(`${url}/adfs/ls/?wa=wsignin1.0&wtrealm=${encodeURIComponent(TEST_RP.id)}`);
    expect(sso.body).toContain('name="wresult"');
  });
});

describe('automatic rollover (signing.autoRollover), on an injected clock', () => {
  // A certificate valid for 10 days from t0, six days ago: generate 7 days before expiry, promote 2 days after.
  const t0 = new Date(Date.now() - 6 * DAY);
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-autoroll-'));
  let clock = t0;
  let app: FastifyInstance;
  let directory: Directory;
  let config: Config;
  let ring: SigningKeyRing;
  let monitor: CertificateMonitor;
  let url: string;
  const logs: Record<string, any>[] = [];
  const first = createSelfSignedCertificate({ commonName: 'sts.autoroll.test', bits: 2048, days: 10, now: t0 });

  beforeAll(async () => {
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    const raw = { ...baseConfig(dir, port), publicUrl: url } as Record<string, any>;
    writeFileSync(join(dir, 'signing.crt'), first.certPem);
    writeFileSync(join(dir, 'signing.key'), first.keyPem, { mode: 0o600 });
    writeFileSync(join(dir, 'session.key'), newSessionKey(), { mode: 0o600 });
    raw.signing = { ...raw.signing, autoRollover: { enabled: true, generateDaysBefore: 7, promoteDaysAfter: 2 } };
    config = loadConfig({ file: writeConfig(dir, 'gatehouse.yaml', raw), env: {} });
    const stream = new Writable({
      write(chunk, _enc, cb) {
        for (const line of String(chunk).split('\n')) if (line.trim()) logs.push(JSON.parse(line));
        cb();
      },
    });
    const log = pino({ level: 'info' }, stream);
    ring = new SigningKeyRing(loadCurrentKey(config.signing));
    directory = new Directory(config.directory, pino({ level: 'silent' }));
    app = await buildApp({ config, directory, signingKey: ring.current, signingKeys: ring, sessionKeys: loadSessionKeys(config.session.keyFile), logger: { level: 'warn', stream } });
    await app.listen({ host: '127.0.0.1', port });
    monitor = new CertificateMonitor({ config, ring, log, now: () => clock });
  });
  afterAll(async () => {
    monitor?.stop();
    await app?.close();
    await directory?.close();
  });

  const at = (days: number) => {
    clock = new Date(t0.getTime() + days * DAY);
    logs.length = 0;
    monitor.check();
  };

  it('a rejected configuration: promotion must come before expiry', () => {
    const other = mkdtempSync(join(tmpdir(), 'gatehouse-autoroll-bad-'));
    const bad = writeConfig(other, 'bad.yaml', { ...baseConfig(other), signing: { autoRollover: { enabled: true, generateDaysBefore: 5, promoteDaysAfter: 5 } } });
    expect(() => loadConfig({ file: bad, env: {} })).toThrow(/signing\.autoRollover\.promoteDaysAfter: must be less than generateDaysBefore/);
  });

  it('day 0 and 2.9: nothing to do yet, but the expiry (10 days) is logged loudly every day', async () => {
    at(0);
    expect(ring.next).toBeUndefined();
    // 10 days minus the certificate's 5 minutes of NotBefore slack: 9 whole days; a warning.
    expect(logs.find((l) => l.msg === 'TOKEN-SIGNING CERTIFICATE EXPIRES IN 9 DAYS')).toMatchObject({ level: 40, todo: expect.stringContaining('automatic rollover makes the next certificate 7 days before expiry') });
    at(2.9);
    expect(ring.next).toBeUndefined();
    expect(existsSync(config.signing.nextCertFile)).toBe(false);
    // A week or less: an error.
    expect(logs.find((l) => l.msg === 'TOKEN-SIGNING CERTIFICATE EXPIRES IN 7 DAYS')).toMatchObject({ level: 50 });
    expect(metadataCertificates(await getMetadata(url))).toEqual([b64(first.certPem)]);
  });

  let next: string;
  it('day 3.1 (6.9 days before expiry): the next certificate is made and published; the current one still signs', async () => {
    at(3.1);
    expect(ring.next).toBeDefined();
    next = read(config.signing.nextCertFile);
    expect(ring.next!.thumbprint).toBe(thumb(next));
    expect(ring.current.thumbprint).toBe(thumb(first.certPem));
    expect(ring.next!.notBefore.getTime()).toBe(clock.getTime() - 5 * 60_000 - ((clock.getTime() - 5 * 60_000) % 1000)); // made "now" on the injected clock
    const made = logs.find((l) => String(l.msg).startsWith('automatic rollover: made the next'));
    expect(made?.promoteOn.slice(0, 16)).toBe(new Date(t0.getTime() + 5.1 * DAY).toISOString().slice(0, 16));
    const md = await getMetadata(url);
    expect(metadataCertificates(md)).toEqual([b64(first.certPem), b64(next)]);
    expect(xmlsecVerify(md, first.certPem, METADATA_ID).ok).toBe(true);
    const token = await wsTrustToken(url);
    expect(xmlsecVerify(token, first.certPem, SAML11_ID).ok).toBe(true);
    expect(xmlsecVerify(token, next, SAML11_ID).ok).toBe(false);
    const probe = (await (await fetch(`${url}/adfs/probe?verbose=1`)).json()) as Record<string, any>;
    expect(probe.certificates).toMatchObject({ autoRollover: true, current: { thumbprint: thumb(first.certPem) }, next: { thumbprint: thumb(next) } });
  });

  it('day 5.0 (1.9 days after): not promoted yet', () => {
    at(5.0);
    expect(ring.current.thumbprint).toBe(thumb(first.certPem));
    expect(read(config.signing.certFile)).toBe(first.certPem);
  });

  it('day 5.2 (2.1 days after): promoted in the running server - metadata re-signed, tokens signed with the new key, files rotated', async () => {
    const version = ring.version;
    at(5.2);
    expect(ring.version).toBe(version + 1); // one swap
    expect(ring.current.thumbprint).toBe(thumb(next));
    expect(ring.next).toBeUndefined();
    expect(logs.some((l) => String(l.msg).startsWith('automatic rollover: tokens are now signed with the next certificate'))).toBe(true);
    expect(read(config.signing.certFile)).toBe(next);
    expect(read(join(dir, 'signing-previous.crt'))).toBe(first.certPem);
    expect(loadNextKey(config.signing)).toBeUndefined();

    const md = await getMetadata(url);
    expect(metadataCertificates(md)).toEqual([b64(next)]);
    expect(xmlsecVerify(md, next, METADATA_ID).ok).toBe(true);
    const token = await wsTrustToken(url);
    expect(xmlsecVerify(token, next, SAML11_ID).ok).toBe(true);
    expect(xmlsecVerify(token, first.certPem, SAML11_ID).ok).toBe(false);
  });

  it('afterwards: the new certificate (a year) needs nothing, and no warning is logged', () => {
    at(6);
    expect(ring.current.thumbprint).toBe(thumb(next));
    expect(ring.next).toBeUndefined();
    expect(logs.filter((l) => l.level >= 40)).toEqual([]);
  });
});
