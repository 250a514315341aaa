import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { configLeaves, envName, loadConfig, NoConfigurationError, readSecrets, type LoadOptions } from '../../src/config/load.js';
import { ConfigError } from '../../src/errors.js';
import { workerCount } from '../../src/config/workers.js';

const M365 = 'urn:federation:MicrosoftOnline';
const M365_REPLY = 'https://login.microsoftonline.com/login.srf';

// Written by hand (not stringified) so the test reads like an operator's file.
const MINIMAL_YAML = `# the least a working configuration needs
publicUrl: https://sts.corp.example.com
directory:
  urls: [ldaps://dc1.corp.example.com]
  baseDn: DC=corp,DC=example,DC=com
  bindDn: svc-gatehouse@corp.example.com
  bindPassword: "S3rvice!pw"
`;
const MINIMAL = {
  publicUrl: 'https://sts.corp.example.com',
  directory: {
    urls: ['ldaps://dc1.corp.example.com'],
    baseDn: 'DC=corp,DC=example,DC=com',
    bindDn: 'svc-gatehouse@corp.example.com',
    bindPassword: 'S3rvice!pw',
  },
};
type Raw = Record<string, any>;
const minimal = (): Raw => structuredClone(MINIMAL);

const root = mkdtempSync(join(tmpdir(), 'gatehouse-config-'));
let dir: string;
let n = 0;
beforeEach(() => {
  // A fresh cwd per test: relative paths resolve against it.
  dir = join(root, String(++n));
  mkdirSync(dir);
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

function write(name: string, content: string | Raw): string {
  const file = join(dir, name);
  writeFileSync(file, typeof content === 'string' ? content : name.endsWith('.json') ? JSON.stringify(content) : stringify(content));
  return file;
}

/** Loads `data` written as gatehouse.yaml (or `name`), with an empty environment unless given. */
function load(data: string | Raw, env: Record<string, string> = {}, name = 'gatehouse.yaml') {
  return loadConfig({ file: write(name, data), env, cwd: dir });
}

/** The ConfigError message of a failing load. */
function failure(opts: LoadOptions | (() => unknown)): string {
  try {
    if (typeof opts === 'function') opts();
    else loadConfig({ env: {}, cwd: dir, ...opts });
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error('expected a ConfigError');
}
const loadFailure = (data: string | Raw, env: Record<string, string> = {}, name = 'gatehouse.yaml') => failure(() => load(data, env, name));

describe('loading a configuration file', () => {
  it('loads a minimal YAML file and applies the defaults', () => {
    const c = load(MINIMAL_YAML);
    expect(c.source).toBe(join(dir, 'gatehouse.yaml'));
    expect(c.publicUrl).toBe('https://sts.corp.example.com');
    expect(c.listen).toEqual({ host: '127.0.0.1', port: 8080 });
    expect(c.tokens).toEqual({ lifetimeSeconds: 3600, clockSkewSeconds: 0 });
    expect(c.session).toEqual({
      keyFile: join(dir, 'certs/session.key'),
      lifetimeMinutes: 480,
      cookieName: 'gatehouse_session',
      accountRecheckSeconds: 60,
      keepMeSignedIn: false,
      keepMeSignedInMinutes: 1440,
    });
    expect(c.signing).toEqual({
      certFile: join(dir, 'certs/signing.crt'),
      keyFile: join(dir, 'certs/signing.key'),
      nextCertFile: join(dir, 'certs/signing-next.crt'),
      nextKeyFile: join(dir, 'certs/signing-next.key'),
      warnDaysBefore: 30,
      autoRollover: { enabled: false, generateDaysBefore: 20, promoteDaysAfter: 5 },
    });
    expect(c.stateDir).toBe(join(dir, 'var'));
    expect(c.trustedProxies).toEqual([]);
    expect(c.lockout).toEqual({ mode: 'enforce', observationWindowMinutes: 30, familiarAddresses: 20 });
    expect(c.logLevel).toBe('info');
    expect(c.directory).toMatchObject({ ...MINIMAL.directory, startTls: false, timeoutMs: 5000 });
    expect(c.directory.bindPasswordFile).toBeUndefined();
  });

  it('loads the same configuration from JSON (and .yml) to the same result', () => {
    const fromYaml = load(MINIMAL_YAML);
    const fromJson = load(MINIMAL, {}, 'gatehouse.json');
    const fromYml = load(MINIMAL, {}, 'gatehouse.yml');
    expect(fromJson.source).toBe(join(dir, 'gatehouse.json'));
    expect({ ...fromJson, source: '' }).toEqual({ ...fromYaml, source: '' });
    expect({ ...fromYml, source: '' }).toEqual({ ...fromYaml, source: '' });
  });

  it('resolves relative paths against cwd and keeps absolute ones', () => {
    const c = load({ ...minimal(), stateDir: 'state', signing: { certFile: '/etc/gatehouse/token.crt', keyFile: 'keys/token.key' } });
    expect(c.stateDir).toBe(join(dir, 'state'));
    expect(c.signing).toMatchObject({
      certFile: '/etc/gatehouse/token.crt',
      keyFile: join(dir, 'keys/token.key'),
      // The next certificate of a rollover lives beside the current one unless configured.
      nextCertFile: '/etc/gatehouse/token-next.crt',
      nextKeyFile: join(dir, 'keys/token-next.key'),
    });
  });

  it('derives the issuer from publicUrl as ADFS does (http, host only), unless set', () => {
    expect(load({ ...minimal(), publicUrl: 'https://sts.corp.example.com:8443/' }).issuer).toBe('http://sts.corp.example.com/adfs/services/trust');
    expect(load({ ...minimal(), issuer: 'urn:gatehouse:corp' }).issuer).toBe('urn:gatehouse:corp');
  });

  it('strips trailing slashes from publicUrl (endpoints are appended to it)', () => {
    expect(load({ ...minimal(), publicUrl: 'https://sts.corp.example.com//' }).publicUrl).toBe('https://sts.corp.example.com');
  });

  it('has Microsoft 365 built in, next to the configured relying parties (each with its protocol set)', () => {
    const rp = { id: 'urn:app:one', replyUrls: ['https://app.corp.example.com/acs'] };
    const c = load({ ...minimal(), relyingParties: [rp] });
    // Both protocols at once, as ADFS's Office 365 trust (one domain may use WS-Federation, another SAML 2.0).
    expect(c.relyingParties.get(M365)).toEqual({ id: M365, name: 'Microsoft 365', replyUrls: [M365_REPLY], protocol: 'wsfed+saml2' });
    expect(c.relyingParties.get('urn:app:one')).toEqual({ ...rp, protocol: 'wsfed' });
    expect([...c.relyingParties.keys()]).toEqual([M365, 'urn:app:one']);
  });

  it('lets a configured entry with the Microsoft 365 id override the built-in one (national clouds)', () => {
    const c = load({ ...minimal(), relyingParties: [{ id: M365, replyUrls: ['https://login.microsoftonline.us/login.srf'], tokenLifetimeSeconds: 600 }] });
    expect(c.relyingParties.size).toBe(1);
    // Keys not given (name) are kept from the built-in entry.
    expect(c.relyingParties.get(M365)).toEqual({
      id: M365,
      name: 'Microsoft 365',
      replyUrls: ['https://login.microsoftonline.us/login.srf'],
      tokenLifetimeSeconds: 600,
      protocol: 'wsfed+saml2',
    });
  });

  it('narrows the built-in Microsoft 365 entry to one protocol when the configured entry names it', () => {
    for (const protocol of ['wsfed', 'saml2'] as const) {
      expect(load({ ...minimal(), relyingParties: [{ id: M365, protocol }] }).relyingParties.get(M365)?.protocol).toBe(protocol);
    }
  });

  it('federatedDomains: lower-cased; a name that is not a domain, or one listed twice, is named', () => {
    expect(load({ ...minimal(), federatedDomains: ['Corp.Example.COM', 'corp.example.co.uk.'] }).federatedDomains).toEqual(['corp.example.com', 'corp.example.co.uk']);
    expect(load(minimal()).federatedDomains).toEqual([]);
    expect(() => load({ ...minimal(), federatedDomains: ['corp.example.com', 'not a domain'] })).toThrow(/federatedDomains\[1\]: "not a domain" is not a domain name/);
    expect(() => load({ ...minimal(), federatedDomains: ['a.example.com', 'A.example.com'] })).toThrow(/federatedDomains\[1\]: a.example.com is listed twice/);
  });

  it('directory.loginAttribute: userPrincipalName by default; not an attribute name is refused with the key', () => {
    expect(load(minimal()).directory.loginAttribute).toBe('userPrincipalName');
    expect(load({ ...minimal(), directory: { ...minimal().directory, loginAttribute: 'mail' } }).directory.loginAttribute).toBe('mail');
    expect(() => load({ ...minimal(), directory: { ...minimal().directory, loginAttribute: 'mail)(x=*' } })).toThrow(/directory.loginAttribute/);
  });

  it('reads the bind password from bindPasswordFile, without the trailing newline', () => {
    mkdirSync(join(dir, 'secrets'));
    writeFileSync(join(dir, 'secrets/bind'), 'From-File!pw\n');
    const raw = minimal();
    delete raw.directory.bindPassword;
    raw.directory.bindPasswordFile = 'secrets/bind'; // relative to cwd
    const c = load(raw);
    expect(c.directory.bindPassword).toBe('From-File!pw');
    expect(c.directory.bindPasswordFile).toBeUndefined();

    writeFileSync(join(dir, 'secrets/bind'), 'Crlf!pw\r\n'); // written on Windows
    expect(load(raw).directory.bindPassword).toBe('Crlf!pw');
    writeFileSync(join(dir, 'secrets/bind'), ' spaced pw '); // only the newline goes; spaces may be part of it
    expect(load(raw).directory.bindPassword).toBe(' spaced pw ');
  });
});

describe('secrets are read only by the commands that need them', () => {
  const withFile = (file: string) => {
    const raw = minimal();
    delete raw.directory.bindPassword;
    raw.directory.bindPasswordFile = file;
    return raw;
  };

  it('secrets: false loads without reading directory.bindPasswordFile (certs init on a host without the secret)', () => {
    const c = loadConfig({ file: write('gatehouse.yaml', withFile('secrets/missing')), env: {}, cwd: dir, secrets: false });
    expect(c.directory.bindPassword).toBeUndefined();
    expect(c.directory.bindPasswordFile).toBe(join(dir, 'secrets/missing')); // resolved against cwd, not read
    expect(c.signing.certFile).toBe(join(dir, 'certs/signing.crt'));
    // ...and readSecrets, when a command gets to the directory, says what is wrong.
    expect(failure(() => readSecrets(c))).toBe(`directory.bindPasswordFile: cannot read ${join(dir, 'secrets/missing')} (ENOENT)`);
  });

  it('secrets: false needs neither bindPassword nor bindPasswordFile; readSecrets then requires one', () => {
    const raw = minimal();
    delete raw.directory.bindPassword;
    const c = loadConfig({ file: write('gatehouse.yaml', raw), env: {}, cwd: dir, secrets: false });
    expect(failure(() => readSecrets(c))).toBe('directory.bindPassword: required (or set directory.bindPasswordFile)');
    // Both set is a mistake in the file itself, whoever reads it.
    raw.directory.bindPassword = 'x';
    raw.directory.bindPasswordFile = 'bind';
    expect(failure(() => loadConfig({ file: write('gatehouse.yaml', raw), env: {}, cwd: dir, secrets: false }))).toBe(
      'directory.bindPasswordFile: set either bindPassword or bindPasswordFile, not both',
    );
  });

  it('readSecrets reads the file later, relative to where the configuration was loaded', () => {
    mkdirSync(join(dir, 'secrets'));
    writeFileSync(join(dir, 'secrets/bind'), 'Later!pw\n');
    const c = loadConfig({ file: write('gatehouse.yaml', withFile('secrets/bind')), env: {}, cwd: dir, secrets: false });
    const withSecret = readSecrets(c);
    expect(withSecret.directory.bindPassword).toBe('Later!pw');
    expect(withSecret.directory.bindPasswordFile).toBeUndefined();
    expect(readSecrets(withSecret)).toBe(withSecret); // already read: as it is
    expect(c.directory.bindPassword).toBeUndefined(); // the first one is not changed
  });
});

describe('workers', () => {
  it('defaults to 0: one server process per core (at most 64); a number pins it', () => {
    const c = load(MINIMAL_YAML);
    expect(c.workers).toBe(0);
    expect(workerCount(c, 2)).toBe(2);
    expect(workerCount(c, 1)).toBe(1);
    expect(workerCount(c, 256)).toBe(64);
    expect(workerCount(load(MINIMAL_YAML, { GATEHOUSE_WORKERS: '1' }), 8)).toBe(1);
    expect(workerCount(load({ ...minimal(), workers: 3 }), 2)).toBe(3);
  });
});

describe('environment variables', () => {
  it('override the file', () => {
    const c = load(MINIMAL_YAML, {
      GATEHOUSE_DIRECTORY_BIND_PASSWORD: 'From-Env!pw',
      GATEHOUSE_LISTEN_PORT: '9090',
      GATEHOUSE_DIRECTORY_START_TLS: 'true',
      GATEHOUSE_TRUSTED_PROXIES: '10.0.0.0/8, 192.168.1.10',
      GATEHOUSE_TOKENS_LIFETIME_SECONDS: '600',
    });
    expect(c.directory.bindPassword).toBe('From-Env!pw');
    expect(c.listen).toEqual({ host: '127.0.0.1', port: 9090 }); // a number, and the sibling default survives
    expect(c.directory.startTls).toBe(true);
    expect(c.trustedProxies).toEqual(['10.0.0.0/8', '192.168.1.10']);
    expect(c.tokens.lifetimeSeconds).toBe(600);
  });

  it('take booleans as true/false, 1/0, yes/no', () => {
    for (const [v, want] of [['true', true], ['TRUE', true], ['1', true], ['yes', true], ['false', false], ['0', false], ['no', false]] as const) {
      expect(load(MINIMAL_YAML, { GATEHOUSE_DIRECTORY_START_TLS: v }).directory.startTls, v).toBe(want);
    }
    expect(loadFailure(MINIMAL_YAML, { GATEHOUSE_DIRECTORY_START_TLS: 'maybe' })).toBe(
      'GATEHOUSE_DIRECTORY_START_TLS (directory.startTls): expected true or false, got "maybe"',
    );
  });

  it('take lists as a comma-separated list or a JSON array', () => {
    expect(load(MINIMAL_YAML, { GATEHOUSE_DIRECTORY_URLS: 'ldaps://dc1.corp.example.com, ldaps://dc2.corp.example.com,' }).directory.urls).toEqual([
      'ldaps://dc1.corp.example.com',
      'ldaps://dc2.corp.example.com',
    ]);
    expect(load(MINIMAL_YAML, { GATEHOUSE_DIRECTORY_URLS: ' ["ldap://a.example", "ldap://b.example"]' }).directory.urls).toEqual([
      'ldap://a.example',
      'ldap://b.example',
    ]);
    expect(loadFailure(MINIMAL_YAML, { GATEHOUSE_DIRECTORY_URLS: '["ldap://a' })).toBe('GATEHOUSE_DIRECTORY_URLS (directory.urls): not valid JSON');
  });

  it('take relying parties as a JSON array', () => {
    const rps = [{ id: 'urn:app:env', replyUrls: ['https://app.example.com/'] }];
    expect(load(MINIMAL_YAML, { GATEHOUSE_RELYING_PARTIES: JSON.stringify(rps) }).relyingParties.get('urn:app:env')).toEqual({ ...rps[0], protocol: 'wsfed' });
  });

  it('are validated like file values', () => {
    expect(loadFailure(MINIMAL_YAML, { GATEHOUSE_DIRECTORY_URLS: 'https://dc1.corp.example.com' })).toBe(
      'directory.urls[0]: must be an ldap:// or ldaps:// URL',
    );
  });

  it('can be the whole configuration, without a file', () => {
    const c = loadConfig({
      cwd: dir,
      env: {
        GATEHOUSE_PUBLIC_URL: 'https://sts.corp.example.com',
        GATEHOUSE_DIRECTORY_URLS: 'ldap://dc1.corp.example.com',
        GATEHOUSE_DIRECTORY_BASE_DN: 'DC=corp,DC=example,DC=com',
        GATEHOUSE_DIRECTORY_BIND_DN: 'CORP\\svc-gatehouse',
        GATEHOUSE_DIRECTORY_BIND_PASSWORD: 'S3rvice!pw',
      },
    });
    expect(c.source).toBe('environment');
    expect(c.directory).toMatchObject({ urls: ['ldap://dc1.corp.example.com'], bindDn: 'CORP\\svc-gatehouse', bindPassword: 'S3rvice!pw' });
    expect(c.listen.port).toBe(8080);
    expect(c.stateDir).toBe(join(dir, 'var'));
  });

  it('GATEHOUSE_CONFIG names the file (relative to cwd); an explicit file wins over it', () => {
    write('from-env.yaml', MINIMAL_YAML);
    write('explicit.yaml', { ...minimal(), listen: { port: 7070 } });
    const viaEnv = loadConfig({ cwd: dir, env: { GATEHOUSE_CONFIG: 'from-env.yaml' } });
    expect(viaEnv.source).toBe(join(dir, 'from-env.yaml'));
    expect(viaEnv.publicUrl).toBe('https://sts.corp.example.com');
    const explicit = loadConfig({ cwd: dir, file: 'explicit.yaml', env: { GATEHOUSE_CONFIG: 'from-env.yaml' } });
    expect(explicit.source).toBe(join(dir, 'explicit.yaml'));
    expect(explicit.listen.port).toBe(7070);
  });

  it('refuses an unknown GATEHOUSE_ variable, naming it (a typo must not be silently ignored)', () => {
    expect(loadFailure(MINIMAL_YAML, { GATEHOUSE_FOO: '1' })).toBe('GATEHOUSE_FOO: unknown environment variable (no such configuration key)');
    // A half path (an object, not a leaf) is not settable either.
    expect(loadFailure(MINIMAL_YAML, { GATEHOUSE_LISTEN: '8080' })).toBe('GATEHOUSE_LISTEN: unknown environment variable (no such configuration key)');
    // Other prefixes are not ours.
    expect(load(MINIMAL_YAML, { GATEHOUSEFOO: '1', PATH: '/usr/bin' }).listen.port).toBe(8080);
  });

  it('refuses a port that is not a number, naming the variable and the key', () => {
    expect(loadFailure(MINIMAL_YAML, { GATEHOUSE_LISTEN_PORT: 'http' })).toBe('GATEHOUSE_LISTEN_PORT (listen.port): expected a number, got "http"');
    expect(loadFailure(MINIMAL_YAML, { GATEHOUSE_LISTEN_PORT: '0x10' })).toBe('GATEHOUSE_LISTEN_PORT (listen.port): expected a number, got "0x10"');
    expect(loadFailure(MINIMAL_YAML, { GATEHOUSE_LISTEN_PORT: '1e3' })).toBe('GATEHOUSE_LISTEN_PORT (listen.port): expected a number, got "1e3"');
  });

  it('an empty variable does not override the file (an unset ${VAR} in docker-compose)', () => {
    expect(load(MINIMAL_YAML, { GATEHOUSE_LISTEN_PORT: '', GATEHOUSE_DIRECTORY_BIND_PASSWORD: '' }).listen.port).toBe(8080);
    // A number that is not a valid port is caught by the schema.
    expect(loadFailure(MINIMAL_YAML, { GATEHOUSE_LISTEN_PORT: '70000' })).toBe('listen.port: must be <= 65535');
  });
});

describe('errors name the key and the problem', () => {
  it('an unknown key', () => {
    const raw = minimal();
    raw.directory.bindDNN = 'typo';
    expect(loadFailure(raw)).toBe('directory.bindDNN: unknown key');
    expect(loadFailure({ ...minimal(), listen: { port: 80, adress: '0.0.0.0' } })).toBe('listen.adress: unknown key');
    expect(loadFailure({ ...minimal(), publicURL: 'x' })).toBe('publicURL: unknown key');
  });

  it('a wrong type', () => {
    expect(loadFailure({ ...minimal(), listen: { port: 'eighty' } })).toBe('listen.port: must be integer');
    expect(loadFailure({ ...minimal(), listen: { port: 80.5 } })).toBe('listen.port: must be integer');
    // YAML strings are not coerced: a quoted number is a mistake worth reporting.
    expect(loadFailure({ ...minimal(), directory: { ...minimal().directory, startTls: 'yes' } })).toBe('directory.startTls: must be boolean');
    expect(loadFailure({ ...minimal(), directory: 'ldap://dc1' })).toBe('directory: must be object');
  });

  it('a missing required key', () => {
    const raw = minimal();
    delete raw.directory.baseDn;
    expect(loadFailure(raw)).toBe('directory.baseDn: required but missing');
    expect(loadFailure({ directory: MINIMAL.directory })).toBe('publicUrl: required but missing');
  });

  it('every problem at once, one per line', () => {
    const raw = minimal();
    delete raw.directory.baseDn;
    raw.directory.bindDNN = 'typo';
    raw.listen = { port: 'eighty' };
    expect(loadFailure(raw).split('\n').sort()).toEqual([
      'directory.baseDn: required but missing',
      'directory.bindDNN: unknown key',
      'listen.port: must be integer',
    ]);
  });

  it('a bad publicUrl', () => {
    expect(loadFailure({ ...minimal(), publicUrl: 'sts.corp.example.com' }).split('\n').sort()).toEqual([
      'publicUrl: must be a valid uri',
      'publicUrl: must start with http:// or https://',
    ]);
    expect(loadFailure({ ...minimal(), publicUrl: 'ftp://sts.corp.example.com' })).toBe('publicUrl: must start with http:// or https://');
    expect(loadFailure({ ...minimal(), publicUrl: 'https://sts.corp.example.com/?x=1' })).toBe('publicUrl: must not have a query or fragment');
    expect(loadFailure({ ...minimal(), publicUrl: 'https://sts.corp.example.com/#top' })).toBe('publicUrl: must not have a query or fragment');
  });

  it('a domain controller URL that is not ldap:// or ldaps://, by index', () => {
    const raw = minimal();
    raw.directory.urls = ['ldaps://dc1.corp.example.com', 'dc2.corp.example.com'];
    expect(loadFailure(raw)).toBe('directory.urls[1]: must be an ldap:// or ldaps:// URL');
    raw.directory.urls = ['https://dc1.corp.example.com'];
    expect(loadFailure(raw)).toBe('directory.urls[0]: must be an ldap:// or ldaps:// URL');
    raw.directory.urls = [];
    expect(loadFailure(raw)).toBe('directory.urls: must NOT have fewer than 1 items');
  });

  it('both or neither of bindPassword and bindPasswordFile', () => {
    writeFileSync(join(dir, 'bind'), 'pw\n');
    const both = minimal();
    both.directory.bindPasswordFile = 'bind';
    expect(loadFailure(both)).toBe('directory.bindPasswordFile: set either bindPassword or bindPasswordFile, not both');
    const neither = minimal();
    delete neither.directory.bindPassword;
    expect(loadFailure(neither)).toBe('directory.bindPassword: required (or set directory.bindPasswordFile)');
  });

  it('a bindPasswordFile that cannot be read, or is empty', () => {
    const raw = minimal();
    delete raw.directory.bindPassword;
    raw.directory.bindPasswordFile = 'no-such-file';
    expect(loadFailure(raw)).toBe(`directory.bindPasswordFile: cannot read ${join(dir, 'no-such-file')} (ENOENT)`);
    writeFileSync(join(dir, 'empty'), '\n');
    raw.directory.bindPasswordFile = 'empty';
    expect(loadFailure(raw)).toBe('directory.bindPasswordFile: the file is empty');
  });

  it('neither a file nor any GATEHOUSE_ setting: "no configuration given", not a list of missing keys', () => {
    const err = (() => {
      try {
        loadConfig({ cwd: dir, env: { PATH: '/usr/bin', GATEHOUSE_CONFIG: '' } });
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(NoConfigurationError);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toBe('no configuration given (use --config FILE or set GATEHOUSE_CONFIG)');
    // An empty variable sets nothing either.
    expect(() => loadConfig({ cwd: dir, env: { GATEHOUSE_LISTEN_PORT: '' } })).toThrow(NoConfigurationError);
    // Only variables, and not enough of them: the missing keys, and a word on the missing file.
    expect(failure({ env: { GATEHOUSE_LISTEN_PORT: '9090' } })).toBe(
      'publicUrl: required but missing\ndirectory: required but missing\n(no configuration file given, only GATEHOUSE_* variables: use --config FILE or set GATEHOUSE_CONFIG)',
    );
  });

  it('a configuration file that cannot be read', () => {
    expect(failure({ file: 'missing.yaml' })).toBe(`cannot read configuration file ${join(dir, 'missing.yaml')}: ENOENT`);
    mkdirSync(join(dir, 'a-dir.yaml'));
    expect(failure({ file: 'a-dir.yaml' })).toBe(`cannot read configuration file ${join(dir, 'a-dir.yaml')}: EISDIR`);
  });

  it('an unsupported extension', () => {
    const file = write('gatehouse.toml', 'publicUrl = "https://x"');
    expect(failure({ file })).toBe(`${file}: unsupported extension ".toml" (use .yaml, .yml or .json)`);
    const bare = write('gatehouse', MINIMAL_YAML);
    expect(failure({ file: bare })).toBe(`${bare}: unsupported extension "" (use .yaml, .yml or .json)`);
  });

  it('invalid YAML or JSON', () => {
    const yaml = write('bad.yaml', 'publicUrl: https://x\ndirectory: [unclosed\n');
    expect(failure({ file: yaml })).toMatch(new RegExp(`^${yaml.replace(/[.]/g, '\\.')}: not valid YAML: \\S`));
    const json = write('bad.json', '{"publicUrl": ');
    expect(failure({ file: json })).toMatch(new RegExp(`^${json.replace(/[.]/g, '\\.')}: not valid JSON: \\S`));
    // Only the first line of the parser's message: no multi-line source excerpts in the error.
    expect(failure({ file: yaml })).not.toContain('\n');
  });

  it('a YAML alias bomb is refused, not expanded', () => {
    const lines = ['a: &a [x, x, x, x, x, x, x, x, x, x]'];
    for (let i = 1; i < 10; i++) lines.push(`${'abcdefghij'[i]}: &${'abcdefghij'[i]} [${Array(10).fill(`*${'abcdefghij'[i - 1]}`).join(', ')}]`);
    const file = write('bomb.yaml', lines.join('\n') + '\n');
    expect(failure({ file })).toMatch(/: not valid YAML: .*alias/i);
  });

  it('a top level that is not a mapping; an empty file is an empty mapping', () => {
    const list = write('list.yaml', '- publicUrl: https://x\n');
    expect(failure({ file: list })).toBe(`${list}: the top level must be a mapping of keys`);
    const empty = write('empty.yaml', '# nothing yet\n');
    expect(failure({ file: empty }).split('\n').sort()).toEqual(['directory: required but missing', 'publicUrl: required but missing']);
  });

  it('a relying party listed twice', () => {
    const rp = { id: 'urn:app:one', replyUrls: ['https://app.example.com/'] };
    expect(loadFailure({ ...minimal(), relyingParties: [rp, { id: 'urn:app:two', replyUrls: ['https://two.example.com/'] }, rp] })).toBe(
      'relyingParties[2].id: "urn:app:one" is listed twice',
    );
  });

  it('a bad relying party, by index', () => {
    // replyUrls is optional in the schema (a SAML 2.0 relying party has metadata instead): the misspelt
    // key is refused by the schema, and a WS-Federation relying party without replyUrls by config/relying-parties.ts.
    expect(loadFailure({ ...minimal(), relyingParties: [{ id: 'urn:a', replyUrl: 'https://a.example.com/' }] })).toBe('relyingParties[0].replyUrl: unknown key');
    const ok = { id: 'urn:ok', replyUrls: ['https://ok.example.com/'] };
    expect(loadFailure({ ...minimal(), relyingParties: [ok, { id: 'urn:a' }] })).toBe(
      'relyingParties[1].replyUrls: required for a WS-Federation relying party (protocol wsfed, the default)',
    );
    expect(loadFailure({ ...minimal(), relyingParties: [{ id: 'urn:a', protocol: 'wsfed' }] })).toBe(
      'relyingParties[0].replyUrls: required for a WS-Federation relying party (protocol wsfed, the default)',
    );
    // SAML 2.0 settings on a relying party that is WS-Federation by default: say which protocol to set.
    expect(loadFailure({ ...minimal(), relyingParties: [{ id: 'urn:a', metadataFile: 'sp.xml' }] })).toBe(
      'relyingParties[0].metadataFile: only for SAML 2.0 relying parties (set protocol: saml2)',
    );
    expect(loadFailure({ ...minimal(), relyingParties: [ok, { id: 'urn:s', protocol: 'saml2' }] })).toBe(
      'relyingParties[1].metadataFile: a SAML 2.0 relying party needs metadataFile, metadataUrl or replyUrls (its AssertionConsumerService URLs)',
    );
    expect(loadFailure({ ...minimal(), relyingParties: [{ id: 'urn:s', protocol: 'saml2', metadataFile: 'a.xml', metadataUrl: 'https://s.example.com/md' }] })).toBe(
      'relyingParties[0].metadataUrl: set either metadataFile or metadataUrl, not both',
    );
    // Microsoft 365 over SAML 2.0 needs no more than the protocol: its ACS comes from the built-in entry.
    const m365 = load({ ...minimal(), relyingParties: [{ id: M365, protocol: 'saml2' }] });
    expect(m365.relyingParties.get(M365)).toMatchObject({ protocol: 'saml2', replyUrls: [M365_REPLY] });
    expect(loadFailure({ ...minimal(), relyingParties: [{ id: 'urn:a', replyUrls: ['ftp://a.example.com/'] }] })).toBe(
      'relyingParties[0].replyUrls[0]: must be an http(s) URL',
    );
  });

  it('a log level that does not exist names logLevel', () => {
    expect(loadFailure({ ...minimal(), logLevel: 'verbose' })).toBe('logLevel: must be one of fatal, error, warn, info, debug, trace');
  });

  it('an address range that is not one names the list entry', () => {
    expect(loadFailure({ ...minimal(), network: { corporate: ['10.0.0.0/8', 'corp.example.com'] } })).toBe(
      'network.corporate[1]: not an IP address or CIDR range (such as 10.0.0.0/8 or 2001:db8::/32)',
    );
    expect(loadFailure({ ...minimal(), trustedProxies: ['10.0.0.1/40'] })).toContain('trustedProxies[0]: not an IP address');
  });
});

describe('environment variable names', () => {
  it('are GATEHOUSE_ + the key path in upper snake case', () => {
    expect(envName(['directory', 'bindPassword'])).toBe('GATEHOUSE_DIRECTORY_BIND_PASSWORD');
    expect(envName(['publicUrl'])).toBe('GATEHOUSE_PUBLIC_URL');
    expect(envName(['tokens', 'clockSkewSeconds'])).toBe('GATEHOUSE_TOKENS_CLOCK_SKEW_SECONDS');
  });

  it('are unique across every settable key, so no variable sets two keys', () => {
    const leaves = configLeaves();
    const names = leaves.map((l) => envName(l.path));
    expect(new Set(names).size).toBe(names.length);
    for (const name of names) expect(name).toMatch(/^GATEHOUSE_[A-Z0-9]+(_[A-Z0-9]+)*$/);
    // GATEHOUSE_CONFIG is taken by the file name.
    expect(names).not.toContain('GATEHOUSE_CONFIG');
    expect(leaves.map((l) => l.path.join('.'))).toEqual(expect.arrayContaining(['directory.bindPassword', 'listen.port', 'relyingParties', 'stateDir']));
  });
});
