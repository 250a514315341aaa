// gatehouse check-config against the real Samba DC: every check runs, OK only when all passed, and each
// failure (configuration, keys, DNS, network, a silent server, TLS trust and names, the service account,
// the TLS that password changes need, the smart-lockout threshold) is one line saying what to fix.
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { baseConfig, testKeys } from '../support/gatehouse.js';
import { DC, ldapBind, USERS, unlockUser } from '../support/directory.js';
import { ensureBuilt, runCli, runCliAsync, writeConfig } from '../support/cli.js';

const UNVERIFIED_LEAF = /^\(UNABLE_TO_VERIFY_LEAF_SIGNATURE: unable to verify the first certificate(; [^)]*)?\)$/;

const M365 = 'urn:federation:MicrosoftOnline';
const root = mkdtempSync(join(tmpdir(), 'gatehouse-check-'));
let seq = 0;
const tmp = () => mkdtempSync(join(root, `${++seq}-`));
beforeAll(() => ensureBuilt());
afterAll(() => rmSync(root, { recursive: true, force: true }));

const thumbprintOf = (pem: string) => new X509Certificate(pem).fingerprint.replace(/:/g, '');

/** The Samba DC with its CA and the name in its certificate: a configuration that passes every check. */
const GOOD_TLS = { caFile: DC.caFile, tlsServerName: DC.tlsServerName };

/** Writes the test configuration (real DC, shared keys) into a new directory; returns the directory. */
function configDir(mutate?: (c: Record<string, any>) => void): string {
  const dir = tmp();
  const raw: Record<string, any> = baseConfig(dir);
  raw.publicUrl = 'https://sts.corp.example.com';
  mutate?.(raw);
  writeConfig(dir, 'gatehouse.yaml', raw);
  return dir;
}

const check = (dir: string, ...args: string[]) => runCli(['check-config', '--config', 'gatehouse.yaml', ...args], { cwd: dir });

/** The problem lines of stderr (the list after "gatehouse check-config: N problems:"), without the raw text lines. */
function problems(stderr: string): string[] {
  const [head, ...rest] = stderr.trimEnd().split('\n');
  expect(head).toMatch(/^gatehouse check-config: \d+ problems?:$/);
  return rest.filter((l) => /^ {2}\S/.test(l)).map((l) => l.trim());
}

/** The raw text printed under a problem line. */
function rawAfter(stderr: string, problemStart: string): string {
  const lines = stderr.split('\n');
  const i = lines.findIndex((l) => l.trim().startsWith(problemStart));
  expect(i, `no problem starting with ${problemStart}:\n${stderr}`).toBeGreaterThan(0);
  return lines[i + 1]!.trim();
}

describe('gatehouse check-config: configuration and files', () => {
  it('exits 1 and names the keys of a configuration that does not load', () => {
    const dir = tmp();
    writeConfig(dir, 'bad.yaml', {
      publicUrl: 'https://sts.corp.example.com',
      directory: { urls: ['ldaps://dc1.corp.example.com'], bindDNN: 'typo', bindDn: 'svc', bindPassword: 'S3rvice!pw' },
    });
    const r = runCli(['check-config', '--config', 'bad.yaml'], { cwd: dir });
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^gatehouse check-config: configuration error:\n/);
    expect(r.stderr).toContain('\n  directory.bindDNN: unknown key');
    expect(r.stderr).toContain('\n  directory.baseDn: required but missing');
  });

  it('says "no configuration given" without --config or GATEHOUSE_CONFIG', () => {
    const r = runCli(['check-config'], { cwd: tmp() });
    expect(r.status).toBe(1);
    expect(r.stderr).toBe('gatehouse check-config: no configuration given (use --config FILE or set GATEHOUSE_CONFIG)\n');
  });

  it('--no-directory checks the files and prints what Microsoft 365 needs, then OK', () => {
    const dir = configDir((c) => (c.directory.urls = ['ldap://127.0.0.1:1'])); // never tried
    const r = check(dir, '--no-directory');
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain(`configuration:   ${join(dir, 'gatehouse.yaml')}\n`);
    expect(r.stdout).toContain('issuer:          http://sts.corp.example.com/adfs/services/trust\n');
    expect(r.stdout).toContain('sign-in URL:     https://sts.corp.example.com/adfs/ls/\n');
    expect(r.stdout).toContain('metadata:        https://sts.corp.example.com/FederationMetadata/2007-06/FederationMetadata.xml\n');
    expect(r.stdout).toContain(`relying parties: ${M365}, urn:test:rp\n`);
    expect(r.stdout).toContain(`certificate:     ${thumbprintOf(testKeys().certPem)}, expires `);
    expect(r.stdout).toContain('directory:       not checked (--no-directory)\n');
    expect(r.stdout).not.toContain('127.0.0.1:1');
    expect(r.stdout.endsWith('\nOK\n')).toBe(true);
  });

  it('lists each federated domain with the IssuerUri its users\' tokens carry', () => {
    const dir = configDir((c) => (c.federatedDomains = ['corp.example.com', 'corp.example.co.uk']));
    const r = check(dir, '--no-directory');
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(
      /federated domains: +corp\.example\.com \(IssuerUri http:\/\/corp\.example\.com\/adfs\/services\/trust\/\), corp\.example\.co\.uk \(IssuerUri http:\/\/corp\.example\.co\.uk\/adfs\/services\/trust\/\)\n/,
    );
  });

  it('reads the file named by GATEHOUSE_CONFIG when --config is not given', () => {
    const dir = configDir();
    const r = runCli(['check-config', '--no-directory'], { cwd: dir, env: { GATEHOUSE_CONFIG: 'gatehouse.yaml' } });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain(`configuration:   ${join(dir, 'gatehouse.yaml')}\n`);
  });

  it('refuses an unknown GATEHOUSE_ variable in its environment', () => {
    const dir = configDir();
    const r = runCli(['check-config', '--no-directory', '--config', 'gatehouse.yaml'], { cwd: dir, env: { GATEHOUSE_LISTEN_PROT: '80' } });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('GATEHOUSE_LISTEN_PROT: unknown environment variable');
  });

  it('runs every check before answering: missing keys, an unreadable password file and a dead DC are all listed, and no OK', () => {
    const dir = configDir((c) => {
      c.signing = { certFile: 'pki/none.crt', keyFile: 'pki/none.key' };
      c.session = { keyFile: 'pki/none-session.key' };
      delete c.directory.bindPassword;
      c.directory.bindPasswordFile = 'secrets/bind-password';
    });
    const r = check(dir);
    expect(r.status).toBe(1);
    expect(r.stdout).not.toMatch(/^OK$/m);
    // The summary is still printed in full.
    expect(r.stdout).toContain('issuer:          http://sts.corp.example.com/adfs/services/trust\n');
    expect(problems(r.stderr)).toEqual([
      `signing.certFile: cannot read ${join(dir, 'pki/none.crt')} (ENOENT); run "gatehouse certs init"`,
      `session.keyFile: cannot read ${join(dir, 'pki/none-session.key')} (ENOENT); run "gatehouse certs init"`,
      `directory.bindPasswordFile: cannot read ${join(dir, 'secrets/bind-password')} (ENOENT)`,
    ]);
    expect(r.stdout).toContain('directory:       not checked (no service account password)\n');

    // With the password back, the directory is checked too and its problem joins the list.
    writeFileSync(join(dir, 'secrets-ok'), DC.service.password + '\n');
    const raw = readFileSync(join(dir, 'gatehouse.yaml'), 'utf8')
      .replace('secrets/bind-password', 'secrets-ok')
      .replace(DC.url, 'ldap://127.0.0.1:1');
    writeFileSync(join(dir, 'gatehouse.yaml'), raw);
    const again = check(dir);
    expect(again.status).toBe(1);
    const list = problems(again.stderr);
    expect(list).toHaveLength(3);
    expect(list[2]).toMatch(/^ldap:\/\/127\.0\.0\.1:1: 127\.0\.0\.1 port 1 refused the connection/);
  });

  it('a configured CA file that cannot be read is a problem', () => {
    const dir = configDir((c) => Object.assign(c.directory, { caFile: join(root, 'no-such-ca.pem') }));
    const r = check(dir);
    expect(r.status).toBe(1);
    expect(problems(r.stderr)).toEqual([`directory.caFile: cannot read ${join(root, 'no-such-ca.pem')} (ENOENT)`]);
  });
});

describe('gatehouse check-config: the domain controller', () => {
  it('passes against the Samba DC with its CA and certificate name, over ldap:// (StartTLS for password changes) and ldaps://', () => {
    const dir = configDir((c) => {
      Object.assign(c.directory, GOOD_TLS);
      c.directory.urls = [DC.ldapsUrl, DC.url];
    });
    const r = check(dir);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain(`directory:       ${DC.ldapsUrl}: service account ${DC.service.dn} bound (LDAPS, certificate ${DC.tlsServerName} (issued by `);
    expect(r.stdout).toContain(`${DC.ldapsUrl}: password changes: over the same LDAPS connection\n`);
    expect(r.stdout).toContain(`${DC.url}: service account ${DC.service.dn} bound (plain LDAP)\n`);
    expect(r.stdout).toContain(`${DC.url}: password changes: StartTLS works, certificate ${DC.tlsServerName} (issued by `);
    // Plain LDAP is worth a warning, not a failure.
    expect(r.stdout).toContain(`warning: ${DC.url}: user passwords of sign-ins cross the network unencrypted`);
    // The derived smart-lockout threshold: lockout.threshold 2 (baseConfig), below AD's 3.
    expect(r.stdout).toContain("smart lockout:   enforce: threshold 2 bad passwords per unknown location, 2 per familiar one (AD's lockoutThreshold 3; lockout.threshold 2)\n");
    expect(r.stdout.endsWith('\nOK\n')).toBe(true);
  });

  it("prints the threshold it derives from AD's policy when lockout.threshold is not set", () => {
    const dir = configDir((c) => {
      Object.assign(c.directory, GOOD_TLS, { startTls: true });
      delete c.lockout.threshold;
    });
    const r = check(dir);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain(`${DC.url}: service account ${DC.service.dn} bound (StartTLS, certificate ${DC.tlsServerName}`);
    expect(r.stdout).toContain(`${DC.url}: password changes: over the same StartTLS connection\n`);
    expect(r.stdout).not.toContain('unencrypted');
    // Half of AD's 3, rounded down (src/lockout/smart-lockout.ts effectiveThreshold).
    expect(r.stdout).toContain("smart lockout:   enforce: threshold 1 bad password per unknown location, 2 per familiar one (AD's lockoutThreshold 3; lockout.threshold not set)\n");
    // Why, line by line: the window follows AD's "reset account lockout counter after" (1 minute on the test DC).
    expect(r.stdout).toContain("window: 1 min (AD's \"reset account lockout counter after\"; lockout.observationWindowMinutes is 30)");
    expect(r.stdout).toContain('room is always left for one typo');
  });

  it('a lockout.threshold not below AD\'s is a problem in enforce mode (serve would refuse to start)', () => {
    const dir = configDir((c) => {
      Object.assign(c.directory, GOOD_TLS);
      c.lockout.threshold = 3;
    });
    const r = check(dir);
    expect(r.status).toBe(1);
    expect(problems(r.stderr)).toEqual([
      "lockout.threshold: 3 is not below AD's lockoutThreshold (3); AD would lock accounts before Gatehouse protects them (\"gatehouse serve\" refuses to start)",
    ]);
  });

  it('ldap:// without a CA for the DC: binds, but password changes would fail, so it does not pass', () => {
    const dir = configDir(); // baseConfig: ldap://127.0.0.1, no caFile
    const r = check(dir);
    expect(r.status).toBe(1);
    expect(r.stdout).toContain(`${DC.url}: service account ${DC.service.dn} bound (plain LDAP)`);
    const [line, ...more] = problems(r.stderr);
    expect(more).toEqual([]);
    expect(line).toMatch(
      /^ldap:\/\/127\.0\.0\.1: password changes would fail \(AD takes a new password only over TLS: StartTLS on ldap:\/\/\): this machine does not trust the DC's certificate \(issued by .*\): set directory\.caFile to the CA certificate that issued it \(PEM\); and the certificate is not for 127\.0\.0\.1: set directory\.tlsServerName to one of the certificate's names: DC1\.corp\.example\.test/,
    );
    // The raw error as Node gives it (Node 26 adds a hint about --use-system-ca after the first sentence).
    expect(rawAfter(r.stderr, 'ldap://127.0.0.1: password changes')).toMatch(UNVERIFIED_LEAF);
  });

  it('ldaps:// without directory.caFile: names the CA to configure', () => {
    const dir = configDir((c) => {
      c.directory.urls = [DC.ldapsUrl];
      c.directory.tlsServerName = DC.tlsServerName;
    });
    const r = check(dir);
    expect(r.status).toBe(1);
    const issuer = new X509Certificate(readFileSync(DC.caFile)).subject.split('\n').join(', ');
    expect(problems(r.stderr)).toEqual([
      `${DC.ldapsUrl}: this machine does not trust the DC's certificate (issued by ${issuer}): set directory.caFile to the CA certificate that issued it (PEM)`,
    ]);
    expect(rawAfter(r.stderr, DC.ldapsUrl)).toMatch(UNVERIFIED_LEAF);
    expect(r.stdout).toContain('smart lockout:   not checked (no domain controller answered)');
  });

  it("a tlsServerName that is not in the DC's certificate: shows the certificate's names", () => {
    const dir = configDir((c) => {
      c.directory.urls = [DC.ldapsUrl];
      c.directory.caFile = DC.caFile;
      c.directory.tlsServerName = 'dc9.corp.example.test';
    });
    const r = check(dir);
    expect(r.status).toBe(1);
    expect(problems(r.stderr)).toEqual([
      `${DC.ldapsUrl}: the DC's certificate is not for dc9.corp.example.test: set directory.tlsServerName to one of the certificate's names: ${DC.tlsServerName} (or use one of them as the host in directory.urls)`,
    ]);
    expect(rawAfter(r.stderr, DC.ldapsUrl)).toMatch(/^\(ERR_TLS_CERT_ALTNAME_INVALID: Hostname\/IP does not match certificate's altnames: Host: dc9\.corp\.example\.test\. is not cert's CN: DC1\.corp\.example\.test\)$/);
  });

  it('the service account\'s wrong password: says which keys to fix, keeps AD\'s text, never prints the password', () => {
    const wrong = 'Wr0ng-Svc-Pw!' + Math.random().toString(36).slice(2);
    const dir = configDir((c) => {
      Object.assign(c.directory, GOOD_TLS);
      c.directory.bindPassword = wrong;
    });
    try {
      const r = check(dir);
      expect(r.status).toBe(1);
      expect(problems(r.stderr)).toEqual([
        `${DC.url}: the service account's password is wrong: set directory.bindPassword (or the file directory.bindPasswordFile names) to the current password of ${DC.service.dn} (a Samba DC also answers this when directory.bindDn names no account)`,
      ]);
      expect(rawAfter(r.stderr, DC.url)).toMatch(/^\(LDAP result 49: 80090308: LdapErr: DSID-[0-9A-F]+, comment: AcceptSecurityContext error, data 52e, v[0-9a-f]+\)$/);
      expect(rawAfter(r.stderr, DC.url)).not.toContain('Code: 0x');
      expect(r.stdout + r.stderr).not.toContain(wrong);
    } finally {
      // AD's lockout threshold is 3 bad binds: do not let repeated runs lock out the account every test uses.
      unlockUser(DC.service.sam);
    }
  });

  it.each([
    ['carol', '533', ' is disabled in AD: enable it'],
    ['dave', '773', ' must change its password at next logon'],
    ['frank', '701', ' has expired in AD (accountExpires)'],
    ['hank', '532', "'s password has expired"],
  ] as const)('service account %s (AD data %s): says what is wrong with the account', (name, data, says) => {
    const user = USERS[name];
    const dir = configDir((c) => Object.assign(c.directory, GOOD_TLS, { bindDn: user.dn, bindPassword: user.password }));
    const r = check(dir);
    expect(r.status).toBe(1);
    const [line] = problems(r.stderr);
    expect(line, r.stderr).toContain(`${DC.url}: the service account ${user.dn}${says}`);
    expect(rawAfter(r.stderr, DC.url)).toContain(`data ${data}`);
  });

  it('a locked-out service account (data 775)', () => {
    const erin = USERS.erin;
    try {
      for (let i = 0; i < 3; i++) ldapBind(erin.dn, 'Wrong!pw' + i);
      const dir = configDir((c) => Object.assign(c.directory, GOOD_TLS, { bindDn: erin.dn, bindPassword: erin.password }));
      const r = check(dir);
      expect(r.status).toBe(1);
      expect(problems(r.stderr)[0]).toContain(`the service account ${erin.dn} is locked out in AD`);
      expect(rawAfter(r.stderr, DC.url)).toContain('data 775');
    } finally {
      unlockUser(erin.sam);
    }
  });
});

describe('gatehouse check-config: reaching the domain controller', () => {
  it('a refused connection (nothing listens on the port)', () => {
    const dir = configDir((c) => {
      c.directory.urls = ['ldap://127.0.0.1:1'];
      c.directory.timeoutMs = 1000;
    });
    const r = check(dir);
    expect(r.status).toBe(1);
    expect(problems(r.stderr)).toEqual([
      'ldap://127.0.0.1:1: 127.0.0.1 port 1 refused the connection: nothing listens there; check the port in directory.urls (ldap:// 389, ldaps:// 636) and that the DC is running',
    ]);
    expect(rawAfter(r.stderr, 'ldap://127.0.0.1:1')).toBe('(connect ECONNREFUSED 127.0.0.1:1)');
  });

  it('a name DNS cannot resolve', () => {
    const dir = configDir((c) => {
      c.directory.urls = ['ldap://dc1.gatehouse-test.invalid'];
      c.directory.timeoutMs = 3000;
    });
    const r = check(dir);
    expect(r.status).toBe(1);
    // ENOTFOUND when a DNS server says no such name, EAI_AGAIN when none answers (a test namespace has none).
    expect(problems(r.stderr)[0]).toMatch(
      /^ldap:\/\/dc1\.gatehouse-test\.invalid: (DNS has no address for dc1\.gatehouse-test\.invalid: correct the host in directory\.urls|DNS did not answer for dc1\.gatehouse-test\.invalid \(temporary failure\): check this machine's DNS servers)/,
    );
    expect(rawAfter(r.stderr, 'ldap://dc1.gatehouse-test.invalid')).toMatch(/^\(getaddrinfo (ENOTFOUND|EAI_AGAIN) dc1\.gatehouse-test\.invalid\)$/);
  });

  // Only in the test's own network namespace (npm test) is there no route beyond loopback.
  const noRoutes = readFileSync('/proc/net/route', 'utf8').trim().split('\n').length === 1;
  it.runIf(noRoutes)('an address this machine has no route to', () => {
    const dir = configDir((c) => (c.directory.urls = ['ldap://192.0.2.10']));
    const r = check(dir);
    expect(r.status).toBe(1);
    expect(problems(r.stderr)).toEqual([
      'ldap://192.0.2.10: network unreachable: this machine has no route to 192.0.2.10; check its network (routes, VPN) or the address in directory.urls',
    ]);
    expect(rawAfter(r.stderr, 'ldap://192.0.2.10')).toMatch(/^\(connect ENETUNREACH 192\.0\.2\.10:389/);
  });

  describe('a server that accepts connections but never answers', () => {
    let server: Server;
    let port: number;
    const held: Socket[] = [];
    beforeAll(async () => {
      server = createServer((s) => void held.push(s)); // never writes a byte
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      port = (server.address() as { port: number }).port;
    });
    afterAll(() => {
      for (const s of held) s.destroy();
      server.close();
    });

    it('ldap://: no answer to the bind within directory.timeoutMs', async () => {
      const url = `ldap://127.0.0.1:${port}`;
      const dir = configDir((c) => Object.assign(c.directory, { urls: [url], timeoutMs: 500 }));
      const r = await runCliAsync(['check-config', '-c', 'gatehouse.yaml'], { cwd: dir });
      expect(r.status).toBe(1);
      expect(problems(r.stderr)).toEqual([
        `${url}: 127.0.0.1 port ${port} accepted the connection but did not answer the bind within 500 ms: is it a domain controller's LDAP port? (ldap:// 389, ldaps:// 636) A DC that is only slow also fails sign-ins; raise directory.timeoutMs only then`,
      ]);
      expect(rawAfter(r.stderr, url)).toBe('(BindRequest: Operation timed out)');
    });

    it('ldaps://: the TLS handshake never finishes', async () => {
      const url = `ldaps://127.0.0.1:${port}`;
      const dir = configDir((c) => Object.assign(c.directory, { urls: [url], timeoutMs: 500 }));
      const r = await runCliAsync(['check-config', '-c', 'gatehouse.yaml'], { cwd: dir });
      expect(r.status).toBe(1);
      expect(problems(r.stderr)[0]).toBe(
        `${url}: 127.0.0.1 port ${port} accepted the connection but the TLS handshake did not finish within 500 ms: is it an LDAPS port? (ldaps:// is usually 636; port 389 takes ldap:// with directory.startTls)`,
      );
    });
  });

  it('ldaps:// to the plain LDAP port: the DC closes the TLS handshake', () => {
    const dir = configDir((c) => Object.assign(c.directory, GOOD_TLS, { urls: ['ldaps://127.0.0.1:389'] }));
    const r = check(dir);
    expect(r.status).toBe(1);
    expect(problems(r.stderr)[0], r.stderr).toMatch(
      /^ldaps:\/\/127\.0\.0\.1:389: (127\.0\.0\.1 port 389 closed the connection during the TLS handshake|the TLS handshake with 127\.0\.0\.1 port 389 failed): is it an LDAPS port\? \(ldaps:\/\/ is usually 636; port 389 takes ldap:\/\/ with directory\.startTls\)$/,
    );
  });

  it('ldap:// to the LDAPS port: the DC closes the connection instead of answering the bind', () => {
    const dir = configDir((c) => Object.assign(c.directory, GOOD_TLS, { urls: ['ldap://127.0.0.1:636'] }));
    const r = check(dir);
    expect(r.status).toBe(1);
    expect(problems(r.stderr)).toEqual([
      "ldap://127.0.0.1:636: 127.0.0.1 port 636 closed the connection without answering: is it a domain controller's LDAP port? (ldap:// 389, ldaps:// 636; an ldap:// URL on an LDAPS port ends this way)",
    ]);
    expect(rawAfter(r.stderr, 'ldap://127.0.0.1:636')).toMatch(/ECONNRESET|closed/);
  });

  it('checks every DC: one good and one dead gives one problem, and the good one is shown', () => {
    const dir = configDir((c) => Object.assign(c.directory, GOOD_TLS, { urls: [DC.url, 'ldap://127.0.0.1:1'], startTls: true }));
    const r = check(dir);
    expect(r.status).toBe(1);
    expect(r.stdout).toContain(`${DC.url}: service account ${DC.service.dn} bound (StartTLS`);
    expect(problems(r.stderr)).toHaveLength(1);
    expect(problems(r.stderr)[0]).toMatch(/^ldap:\/\/127\.0\.0\.1:1: 127\.0\.0\.1 port 1 refused the connection/);
    // The lockout threshold still comes from the DC that answered.
    expect(r.stdout).toContain('smart lockout:   enforce: threshold 2');
  });
});
