import { createPrivateKey, X509Certificate } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { baseConfig } from '../support/gatehouse.js';
import { DC, USERS, unlockUser } from '../support/directory.js';
import { Browser } from '../support/http.js';
import { ensureBuilt, freePort, ROOT, runCli, ServeProcess, writeConfig } from '../support/cli.js';

const M365 = 'urn:federation:MicrosoftOnline';
const DAY = 86_400_000;

/** Enough for `certs init` (it loads the whole configuration, but never contacts the directory). */
const CERTS_CONFIG = {
  publicUrl: 'https://sts.corp.example.com',
  directory: { urls: ['ldaps://dc1.corp.example.com'], baseDn: 'DC=corp,DC=example,DC=com', bindDn: 'svc', bindPassword: 'S3rvice!pw' },
  // Nested relative paths: certs init must create the folders, relative to cwd.
  signing: { certFile: 'pki/token-signing.crt', keyFile: 'pki/private/token-signing.key' },
  session: { keyFile: 'pki/private/session.key' },
};

const root = mkdtempSync(join(tmpdir(), 'gatehouse-cli-'));
let seq = 0;
const tmp = () => mkdtempSync(join(root, `${++seq}-`));
const servers: ServeProcess[] = [];

beforeAll(() => ensureBuilt());
afterEach(() => {
  for (const s of servers.splice(0)) s.kill();
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

const mode = (file: string) => statSync(file).mode & 0o777;
const validityDays = (c: X509Certificate) => (Date.parse(c.validTo) - Date.parse(c.validFrom)) / DAY;
const thumbprintOf = (pem: string) => new X509Certificate(pem).fingerprint.replace(/:/g, '');

/** A config for the real Samba DC and the shared test keys (written into dir), as YAML. */
function dcConfig(dir: string, mutate?: (c: Record<string, any>) => void): string {
  const raw: Record<string, any> = baseConfig(dir);
  mutate?.(raw);
  return writeConfig(dir, 'gatehouse.yaml', raw);
}

describe('gatehouse certs init', () => {
  const dir = tmp();
  const files = {
    cert: join(dir, 'pki/token-signing.crt'),
    key: join(dir, 'pki/private/token-signing.key'),
    session: join(dir, 'pki/private/session.key'),
  };
  const snapshot = () => Object.fromEntries(Object.entries(files).map(([k, f]) => [k, readFileSync(f, 'utf8')]));
  let first: Record<string, string>;

  beforeAll(() => {
    writeConfig(dir, 'gatehouse.yaml', CERTS_CONFIG);
  });

  it('writes the certificate (0644), its key and the session key (0600) at the configured paths', () => {
    const r = runCli(['certs', 'init', '--config', 'gatehouse.yaml'], { cwd: dir });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(mode(files.cert)).toBe(0o644);
    expect(mode(files.key)).toBe(0o600);
    expect(mode(files.session)).toBe(0o600);
    first = snapshot();

    const cert = new X509Certificate(first.cert!);
    const key = createPrivateKey(first.key!);
    expect(cert.publicKey.asymmetricKeyType).toBe('rsa');
    expect(cert.publicKey.asymmetricKeyDetails?.modulusLength).toBe(2048);
    // Self-signed, and CN = the host of the default issuer http://sts.corp.example.com/adfs/services/trust.
    expect(cert.subject).toBe('CN=sts.corp.example.com');
    expect(cert.issuer).toBe(cert.subject);
    // Signed by its own key. (Not checkIssued: OpenSSL wants keyCertSign in the issuer's keyUsage, and a
    // token-signing certificate is deliberately digitalSignature only.)
    expect(cert.verify(cert.publicKey)).toBe(true);
    expect(cert.checkPrivateKey(key)).toBe(true);
    // Three years, valid now.
    expect(Math.abs(validityDays(cert) - 1095)).toBeLessThanOrEqual(1);
    expect(Date.parse(cert.validFrom)).toBeLessThanOrEqual(Date.now());
    expect(Math.abs(Date.parse(cert.validTo) - (Date.now() + 1095 * DAY))).toBeLessThan(DAY);
    expect(Buffer.from(first.session!.trim(), 'base64')).toHaveLength(32);

    // The operator is told what was written and the thumbprint Microsoft 365 will show.
    expect(r.stdout).toContain(files.cert);
    expect(r.stdout).toContain(files.key);
    expect(r.stdout).toContain(files.session);
    expect(r.stdout).toContain('CN=sts.corp.example.com');
    expect(r.stdout).toContain(thumbprintOf(first.cert!));
  });

  it('refuses to replace existing files without --force, leaving them as they were', () => {
    expect(first, 'depends on the previous test').toBeDefined();
    const mtimes = Object.values(files).map((f) => statSync(f).mtimeMs);
    const r = runCli(['certs', 'init', '--config', 'gatehouse.yaml'], { cwd: dir });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('already exists (use --force');
    expect(r.stderr).toContain(files.cert);
    expect(snapshot()).toEqual(first);
    expect(Object.values(files).map((f) => statSync(f).mtimeMs)).toEqual(mtimes);
  });

  it('--force replaces all three; --days sets the validity', () => {
    expect(first, 'depends on the first test').toBeDefined();
    const r = runCli(['certs', 'init', '--config', 'gatehouse.yaml', '--force', '--days', '30'], { cwd: dir });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const now = snapshot();
    expect(now.cert).not.toBe(first.cert);
    expect(now.key).not.toBe(first.key);
    expect(now.session).not.toBe(first.session);
    const cert = new X509Certificate(now.cert!);
    expect(cert.checkPrivateKey(createPrivateKey(now.key!))).toBe(true);
    expect(Math.abs(validityDays(cert) - 30)).toBeLessThanOrEqual(1);
    expect(mode(files.key)).toBe(0o600);
    expect(mode(files.session)).toBe(0o600);
  });

  it('--bits 3072 and --cn choose the key size and the subject', () => {
    const d = tmp();
    writeConfig(d, 'gatehouse.yaml', CERTS_CONFIG);
    const r = runCli(['certs', 'init', '--config', 'gatehouse.yaml', '--bits', '3072', '--cn', 'adfs.corp.example.com'], { cwd: d });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const cert = new X509Certificate(readFileSync(join(d, 'pki/token-signing.crt')));
    expect(cert.publicKey.asymmetricKeyDetails?.modulusLength).toBe(3072);
    expect(cert.subject).toBe('CN=adfs.corp.example.com');
  });

  it('keeps an existing session key (replacing it would end every session); a URN issuer gives publicUrl\'s host as CN', () => {
    const d = tmp();
    writeConfig(d, 'gatehouse.json', { ...CERTS_CONFIG, issuer: 'urn:gatehouse:corp' });
    const existing = Buffer.alloc(32, 7).toString('base64') + '\n';
    mkdirSync(join(d, 'pki/private'), { recursive: true });
    writeFileSync(join(d, 'pki/private/session.key'), existing, { mode: 0o600 });
    const r = runCli(['certs', 'init', '--config', 'gatehouse.json'], { cwd: d });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(readFileSync(join(d, 'pki/private/session.key'), 'utf8')).toBe(existing);
    expect(r.stdout).not.toContain('session key:');
    expect(new X509Certificate(readFileSync(join(d, 'pki/token-signing.crt'))).subject).toBe('CN=sts.corp.example.com');
  });

  it('refuses key sizes below 2048 bits and validities outside 1..3650 days, writing nothing', () => {
    const d = tmp();
    writeConfig(d, 'gatehouse.yaml', CERTS_CONFIG);
    const small = runCli(['certs', 'init', '--config', 'gatehouse.yaml', '--bits', '1024'], { cwd: d });
    expect(small.status).toBe(1);
    expect(small.stderr).toContain('Allowed choices are 2048, 3072, 4096');
    for (const days of ['0', '1.5']) {
      const r = runCli(['certs', 'init', '--config', 'gatehouse.yaml', '--days', days], { cwd: d });
      expect(r.status, days).toBe(1);
      expect(r.stderr, days).toBe('gatehouse certs init: --days must be a whole number from 1 to 3650\n');
    }
    expect(existsSync(join(d, 'pki'))).toBe(false);
  });

  it('does not need the directory secret: a bindPasswordFile that is not there, or no password at all', () => {
    for (const directory of [
      { ...CERTS_CONFIG.directory, bindPassword: undefined, bindPasswordFile: '/run/secrets/not-mounted-here' },
      { ...CERTS_CONFIG.directory, bindPassword: undefined },
    ]) {
      const d = tmp();
      writeConfig(d, 'gatehouse.json', { ...CERTS_CONFIG, directory });
      const r = runCli(['certs', 'init', '--config', 'gatehouse.json'], { cwd: d });
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      expect(existsSync(join(d, 'pki/token-signing.crt'))).toBe(true);
      // Nor do the other commands that only touch files.
      for (const args of [['certs', 'rotate-session-key'], ['certs', 'rollover'], ['lockout', 'list']]) {
        const other = runCli([...args, '--config', 'gatehouse.json'], { cwd: d });
        expect(other.stderr, args.join(' ')).toBe('');
        expect(other.status, args.join(' ')).toBe(0);
      }
    }
  });
});

describe('every command', () => {
  const commands = [
    ['serve'],
    ['check-config'],
    ['certs', 'init'],
    ['certs', 'rollover'],
    ['lockout', 'list'],
    ['lockout', 'reset', 'alice'],
    ['sync', '--once'],
    ['tenant-setup', '--domain', 'corp.example.com'],
  ];

  it('without --config and GATEHOUSE_CONFIG says "no configuration given" and exits non-zero', () => {
    for (const args of commands) {
      const r = runCli(args, { cwd: tmp() });
      const name = args.filter((a) => !a.startsWith('-') && a !== 'alice' && a !== 'corp.example.com').join(' ');
      expect(r.stderr, name).toBe(`gatehouse ${name}: no configuration given (use --config FILE or set GATEHOUSE_CONFIG)\n`);
      // tenant-setup keeps its own status for "could not run" (1 means --check found differences).
      expect(r.status, name).toBe(name === 'tenant-setup' ? 2 : 1);
    }
  });

  it('reports a configuration error the same way, naming itself', () => {
    const d = tmp();
    writeConfig(d, 'gatehouse.yaml', { ...CERTS_CONFIG, listen: { prot: 1 } });
    for (const args of commands) {
      const r = runCli([...args, '-c', 'gatehouse.yaml'], { cwd: d });
      const name = args.filter((a) => !a.startsWith('-') && a !== 'alice' && a !== 'corp.example.com').join(' ');
      expect(r.stderr, name).toBe(`gatehouse ${name}: configuration error:\n  listen.prot: unknown key\n`);
    }
  });
});

describe('gatehouse serve', () => {
  async function startServe(mutate?: (c: Record<string, any>) => void) {
    const dir = tmp();
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    dcConfig(dir, (c) => {
      c.publicUrl = url;
      c.listen = { host: '127.0.0.1', port };
      c.logLevel = 'info';
      mutate?.(c);
    });
    const server = new ServeProcess(['--config', 'gatehouse.yaml'], { cwd: dir });
    servers.push(server);
    await server.ready();
    return { server, url };
  }

  it('serves the probe and the metadata, and exits 0 on SIGTERM', async () => {
    const { server, url } = await startServe();
    const probe = await fetch(`${url}/adfs/probe`);
    expect(probe.status).toBe(200);
    expect(await probe.text()).toBe('OK');
    const md = await fetch(`${url}/FederationMetadata/2007-06/FederationMetadata.xml`);
    expect(md.status).toBe(200);
    expect(md.headers.get('content-type')).toMatch(/xml/);
    expect(await md.text()).toContain('entityID="http://127.0.0.1/adfs/services/trust"');

    const exit = await server.stop('SIGTERM', 5_000);
    expect(exit).toMatchObject({ code: 0, signal: null });
    expect(server.logLines().some((l) => l.msg === 'shutting down' && l.signal === 'SIGTERM')).toBe(true);
  });

  it('exits 1 pointing at "gatehouse certs init" when the certificate files are missing (one process or several)', async () => {
    for (const workers of ['1', '2']) {
      const dir = tmp();
      writeConfig(dir, 'gatehouse.yaml', { ...CERTS_CONFIG, listen: { host: '127.0.0.1', port: await freePort() } });
      const server = new ServeProcess(['--config', 'gatehouse.yaml', '--workers', workers], { cwd: dir });
      servers.push(server);
      const exit = await server.exit;
      expect(exit.code, workers).toBe(1);
      expect(server.stderr, workers).toBe(
        `gatehouse serve: configuration error:\n  signing.certFile: cannot read ${join(dir, 'pki/token-signing.crt')} (ENOENT); run "gatehouse certs init"\n`,
      );
    }
  });

  it('by default (workers: 0) runs one server process per core, each told its share of the rate limits; SIGTERM stops them all', async () => {
    const cores = availableParallelism();
    const { server, url } = await startServe((c) => delete c.workers);
    // ready() saw the first; wait for all of them.
    await expect.poll(() => server.logLines().filter((l) => l.msg === 'Gatehouse is serving').length, { timeout: 10_000 }).toBe(cores);
    if (cores > 1) {
      expect(server.logLines().find((l) => l.msg === 'started server processes')).toMatchObject({ workers: cores });
      const serving = server.logLines().filter((l) => l.msg === 'Gatehouse is serving');
      expect(serving.map((l) => l.worker).sort()).toEqual([...Array(cores).keys()]);
      for (const l of serving) expect(l.serverProcesses).toBe(cores);
    }
    for (let i = 0; i < 4; i++) expect((await fetch(`${url}/adfs/probe`)).status).toBe(200);
    expect(await server.stop('SIGTERM', 10_000)).toMatchObject({ code: 0, signal: null });
    expect(server.logLines().filter((l) => l.msg === 'shutting down')).toHaveLength(cores);
  });

  it('--workers 1 pins a single process (overriding the configuration)', async () => {
    const dir = tmp();
    const port = await freePort();
    dcConfig(dir, (c) => {
      c.publicUrl = `http://127.0.0.1:${port}`;
      c.listen = { host: '127.0.0.1', port };
      c.logLevel = 'info';
      c.workers = 4;
    });
    const server = new ServeProcess(['--config', 'gatehouse.yaml', '--workers', '1'], { cwd: dir });
    servers.push(server);
    await server.ready();
    expect(server.logLines().some((l) => l.msg === 'started server processes')).toBe(false);
    expect(server.logLines().find((l) => l.msg === 'Gatehouse is serving')?.serverProcesses).toBeUndefined();
    expect(await server.stop()).toMatchObject({ code: 0 });
    const bad = runCli(['serve', '--config', 'gatehouse.yaml', '--workers', 'many'], { cwd: dir });
    expect(bad.status).toBe(1);
    expect(bad.stderr).toBe('gatehouse serve: --workers must be a whole number from 0 to 64\n');
  });

  it('with several processes, one that cannot start (port taken) stops them all with exit 1 instead of restarting forever', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as { port: number }).port;
    try {
      const dir = tmp();
      dcConfig(dir, (c) => {
        c.publicUrl = `http://127.0.0.1:${port}`;
        c.listen = { host: '127.0.0.1', port };
        c.logLevel = 'info';
      });
      const server = new ServeProcess(['--config', 'gatehouse.yaml', '--workers', '2'], { cwd: dir });
      servers.push(server);
      let timer: NodeJS.Timeout | undefined;
      const exit = await Promise.race([
        server.exit,
        new Promise((resolve) => (timer = setTimeout(() => resolve('still running'), 15_000))),
      ]).finally(() => clearTimeout(timer));
      expect(exit).toMatchObject({ code: 1 });
      expect(server.stderr).toContain('EADDRINUSE');
      expect(server.logLines().some((l) => l.msg === 'a server process failed to start; stopping')).toBe(true);
    } finally {
      blocker.close();
    }
  });

  it('never logs the service account password or a user password, even at trace level', async () => {
    const { server, url } = await startServe((c) => (c.logLevel = 'trace'));
    const wrong = 'Wr0ng-User-Pw!' + Math.random().toString(36).slice(2);
    async function signIn(username: string, password: string) {
      const browser = new Browser();
      const login = await browser.get(`${url}/adfs/ls/?wa=wsignin1.0&wtrealm=${encodeURIComponent(M365)}`);
      expect(login.status).toBe(200);
      return browser.post(new URL(login.form().action, url).toString(), { ...login.form().fields, UserName: username, Password: password });
    }
    try {
      const failed = await signIn(USERS.bob.upn, wrong);
      expect(failed.status).toBe(401);
      expect(failed.body).not.toContain('wresult');
      const ok = await signIn(USERS.alice.upn, USERS.alice.password);
      expect(ok.status).toBe(200);
      expect(ok.form().fields.wresult).toContain('Assertion');
    } finally {
      unlockUser(USERS.bob.sam);
    }
    expect(await server.stop()).toMatchObject({ code: 0 });

    // Both attempts were logged (so the check below looked at real output)...
    const attempts = server.logLines().filter((l) => l.event === 'signin_attempt').map((l) => l.outcome);
    expect(attempts).toEqual(['failure', 'success']);
    // ...and no form of any password made it in.
    const output = server.stdout + server.stderr;
    for (const secret of [DC.service.password, wrong, USERS.alice.password]) {
      expect(output).not.toContain(secret);
      expect(output).not.toContain(encodeURIComponent(secret));
    }
  });
});

describe('gatehouse --help and --version', () => {
  it('lists serve, check-config and certs, with examples', () => {
    const r = runCli(['--help'], { cwd: root });
    expect(r.status).toBe(0);
    for (const cmd of ['serve', 'check-config', 'certs', 'lockout', 'sync', 'tenant-setup']) expect(r.stdout).toMatch(new RegExp(`^  ${cmd}\\b`, 'm'));
    expect(r.stdout).toContain('\n  gatehouse certs init -c gatehouse.yaml ');
    expect(r.stdout).toMatch(/^  -V, --version +print the version$/m);
    const certs = runCli(['certs', '--help'], { cwd: root });
    expect(certs.stdout).toMatch(/^  init\b/m);
    for (const args of [['serve'], ['check-config'], ['certs'], ['lockout']]) {
      const help = runCli([...args, '--help'], { cwd: root });
      expect(help.status, args.join(' ')).toBe(0);
      expect(help.stdout, args.join(' ')).toMatch(new RegExp(`\nExamples:\n  gatehouse ${args[0]} `));
    }
  });

  it('--version prints the version of package.json', () => {
    const { version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    for (const flag of ['--version', '-V']) {
      const r = runCli([flag], { cwd: root });
      expect(r.status).toBe(0);
      expect(r.stdout).toBe(`${version}\n`);
    }
  });
});
