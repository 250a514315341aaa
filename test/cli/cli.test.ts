import { createPrivateKey, X509Certificate } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { baseConfig, testKeys } from '../support/gatehouse.js';
import { DC, USERS, unlockUser } from '../support/directory.js';
import { Browser } from '../support/http.js';
import { ensureBuilt, freePort, runCli, ServeProcess, writeConfig } from '../support/cli.js';

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
      expect(r.stderr, days).toBe('gatehouse: --days must be a whole number from 1 to 3650\n');
    }
    expect(existsSync(join(d, 'pki'))).toBe(false);
  });
});

describe('gatehouse check-config', () => {
  it('exits 1 and names the keys of a bad configuration', () => {
    const dir = tmp();
    const raw = structuredClone(CERTS_CONFIG) as Record<string, any>;
    raw.directory.bindDNN = 'typo';
    delete raw.directory.baseDn;
    writeConfig(dir, 'bad.yaml', raw);
    const r = runCli(['check-config', '--config', 'bad.yaml'], { cwd: dir });
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^gatehouse: configuration error:\n/);
    expect(r.stderr).toContain('\n  directory.bindDNN: unknown key');
    expect(r.stderr).toContain('\n  directory.baseDn: required but missing');
  });

  it('--no-directory checks the configuration and keys and prints what Microsoft 365 needs', () => {
    const dir = tmp();
    // An unreachable DC proves --no-directory does not try it.
    dcConfig(dir, (c) => {
      c.publicUrl = 'https://sts.corp.example.com';
      c.directory.urls = ['ldap://127.0.0.1:1'];
    });
    const r = runCli(['check-config', '--config', 'gatehouse.yaml', '--no-directory'], { cwd: dir });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain(`configuration:  ${join(dir, 'gatehouse.yaml')}: OK`);
    expect(r.stdout).toContain('issuer:         http://sts.corp.example.com/adfs/services/trust\n');
    expect(r.stdout).toContain('sign-in URL:    https://sts.corp.example.com/adfs/ls/\n');
    expect(r.stdout).toContain('metadata:       https://sts.corp.example.com/FederationMetadata/2007-06/FederationMetadata.xml\n');
    expect(r.stdout).toContain(`certificate:    ${thumbprintOf(testKeys().certPem)}, expires `);
    expect(r.stdout).toContain(`relying parties: ${M365}, urn:test:rp\n`);
    expect(r.stdout).not.toContain('directory:');
  });

  it('reads the file named by GATEHOUSE_CONFIG when --config is not given', () => {
    const dir = tmp();
    dcConfig(dir);
    const r = runCli(['check-config', '--no-directory'], { cwd: dir, env: { GATEHOUSE_CONFIG: 'gatehouse.yaml' } });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain(`configuration:  ${join(dir, 'gatehouse.yaml')}: OK`);
  });

  it('refuses an unknown GATEHOUSE_ variable in its environment', () => {
    const dir = tmp();
    dcConfig(dir);
    const r = runCli(['check-config', '--no-directory', '--config', 'gatehouse.yaml'], { cwd: dir, env: { GATEHOUSE_LISTEN_PROT: '80' } });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('GATEHOUSE_LISTEN_PROT: unknown environment variable');
  });

  it('exits 1 pointing at "gatehouse certs init" when the keys are missing', () => {
    const dir = tmp();
    writeConfig(dir, 'gatehouse.yaml', CERTS_CONFIG);
    const r = runCli(['check-config', '--no-directory', '--config', 'gatehouse.yaml'], { cwd: dir });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`signing.certFile: cannot read ${join(dir, 'pki/token-signing.crt')} (ENOENT); run "gatehouse certs init"`);
  });

  it('binds as the service account against the Samba DC', () => {
    const dir = tmp();
    dcConfig(dir);
    const r = runCli(['check-config', '--config', 'gatehouse.yaml'], { cwd: dir });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain(`directory:      service account bound OK (${DC.url})`);
  });

  it('exits 1 about the service account when its password is wrong, without printing the password', () => {
    const dir = tmp();
    const wrong = 'Wr0ng-Svc-Pw!' + Math.random().toString(36).slice(2);
    dcConfig(dir, (c) => (c.directory.bindPassword = wrong));
    try {
      const r = runCli(['check-config', '--config', 'gatehouse.yaml'], { cwd: dir });
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(/^gatehouse: directory: cannot use the service account: ldap:\/\/127\.0\.0\.1: service account bind refused: /);
      expect(r.stdout + r.stderr).not.toContain(wrong);
    } finally {
      // Lockout threshold is 3 bad binds: do not let repeated runs lock out the account every test uses.
      unlockUser(DC.service.sam);
    }
  });

  it('exits 1 when no domain controller answers', () => {
    const dir = tmp();
    dcConfig(dir, (c) => {
      c.directory.urls = ['ldap://127.0.0.1:1'];
      c.directory.timeoutMs = 1000;
    });
    const r = runCli(['check-config', '--config', 'gatehouse.yaml'], { cwd: dir });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^gatehouse: directory: cannot use the service account: ldap:\/\/127\.0\.0\.1:1: .*ECONNREFUSED/);
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

  it('exits 1 pointing at "gatehouse certs init" when the certificate files are missing', async () => {
    const dir = tmp();
    writeConfig(dir, 'gatehouse.yaml', { ...CERTS_CONFIG, listen: { host: '127.0.0.1', port: await freePort() } });
    const server = new ServeProcess(['--config', 'gatehouse.yaml'], { cwd: dir });
    servers.push(server);
    const exit = await server.exit;
    expect(exit.code).toBe(1);
    expect(server.stderr).toContain('gatehouse certs init');
    expect(server.stderr).toContain('signing.certFile');
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

describe('gatehouse --help', () => {
  it('lists serve, check-config and certs', () => {
    const r = runCli(['--help'], { cwd: root });
    expect(r.status).toBe(0);
    for (const cmd of ['serve', 'check-config', 'certs']) expect(r.stdout).toMatch(new RegExp(`^  ${cmd}\\b`, 'm'));
    const certs = runCli(['certs', '--help'], { cwd: root });
    expect(certs.stdout).toMatch(/^  init\b/m);
  });
});
