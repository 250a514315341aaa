import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { stringify } from 'yaml';
import { buildApp } from '../../src/app.js';
import { loadConfig, type Config } from '../../src/config/load.js';
import { Directory } from '../../src/directory/directory.js';
import { createSelfSignedCertificate, newSessionKey } from '../../src/keys/generate.js';
import { loadSessionKeys, loadSigningKey } from '../../src/keys/keystore.js';
import { DC } from './directory.js';
import { freePort } from './ports.js';

export interface RunningGatehouse {
  app: FastifyInstance;
  config: Config;
  /** The configuration as written to the file (for CLI runs against the same state). */
  configRaw: Record<string, any>;
  /** Base URL the server listens on (also its publicUrl). */
  url: string;
  dir: string;
  certPem: string;
  /** Every log line as parsed JSON (level info and above), for audit and lockout assertions. */
  logs: Record<string, any>[];
  close(): Promise<void>;
}

/** A test relying party whose reply URL is never contacted over HTTP by the server itself. */
export const TEST_RP = { id: 'urn:test:rp', name: 'Test RP', replyUrls: ['https://rp.test.invalid/acs', 'https://rp.test.invalid/other'] };

let sharedKeys: { certPem: string; keyPem: string } | undefined;

/** One key pair per test process: RSA generation is the slow part of set-up. */
export function testKeys(): { certPem: string; keyPem: string } {
  sharedKeys ??= createSelfSignedCertificate({ commonName: 'localhost', bits: 2048, days: 30 });
  return sharedKeys;
}

export function baseConfig(dir: string, port = 0): Record<string, unknown> {
  const keys = testKeys();
  writeFileSync(join(dir, 'signing.crt'), keys.certPem);
  writeFileSync(join(dir, 'signing.key'), keys.keyPem, { mode: 0o600 });
  writeFileSync(join(dir, 'session.key'), newSessionKey(), { mode: 0o600 });
  // mfa.keyFile's default place (beside the session key), for tests that turn MFA on.
  writeFileSync(join(dir, 'mfa.key'), newSessionKey(), { mode: 0o600 });
  return {
    publicUrl: `http://127.0.0.1:${port || 1}`,
    listen: { host: '127.0.0.1', port },
    logLevel: 'warn',
    // One server process (the default is one per core): tests count log lines and signals of one process;
    // test/cli tests the cluster on its own.
    workers: 1,
    directory: {
      urls: [DC.url],
      baseDn: DC.baseDn,
      bindDn: DC.service.dn,
      bindPassword: DC.service.password,
      netbiosName: DC.netbios,
      timeoutMs: 3000,
    },
    signing: { certFile: join(dir, 'signing.crt'), keyFile: join(dir, 'signing.key') },
    session: { keyFile: join(dir, 'session.key') },
    stateDir: join(dir, 'var'),
    // Below AD's threshold of 3, and high enough that one wrong password does not lock a test user;
    // test/lockout sets its own. Rate limits are tested on their own too.
    lockout: { threshold: 2 },
    rateLimit: { perAddressPerMinute: 10_000, globalPerMinute: 100_000 },
    relyingParties: [TEST_RP],
  };
}

/**
 * The directory section for the test DC as the loader returns it (every key set), for code that takes it
 * directly: Directory, the sync's AdSource.
 */
export function testDirectorySettings(overrides: Partial<Config['directory']> = {}): Config['directory'] {
  return {
    urls: [DC.url],
    baseDn: DC.baseDn,
    bindDn: DC.service.dn,
    bindPassword: DC.service.password,
    startTls: false,
    timeoutMs: 3000,
    bindConnections: 64,
    retryDownAfterSeconds: 30,
    tlsVerify: true,
    userFilter: '(&(objectCategory=person)(objectClass=user))',
    loginAttribute: 'userPrincipalName',
    ...overrides,
  };
}

/** Starts a real Gatehouse on 127.0.0.1 (a free port) against the Samba DC. */
export async function startGatehouse(
  mutate?: (cfg: Record<string, any>) => void,
  opts: { serverProcesses?: number; publicHost?: string } = {},
): Promise<RunningGatehouse> {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-test-'));
  const raw = baseConfig(dir);
  mutate?.(raw);
  const file = join(dir, 'gatehouse.yaml');
  writeFileSync(file, stringify(raw));
  let config = loadConfig({ file, env: {} });
  const signingKey = loadSigningKey(config.signing.certFile, config.signing.keyFile);
  const sessionKeys = loadSessionKeys(config.session.keyFile);
  const logs: Record<string, any>[] = [];
  const { Writable } = await import('node:stream');
  const stream = new Writable({
    write(chunk, _enc, cb) {
      for (const line of String(chunk).split('\n')) if (line.trim()) logs.push(JSON.parse(line));
      if (process.env.GATEHOUSE_TEST_LOG) process.stderr.write(chunk);
      cb();
    },
  });
  const logOptions = { level: 'info', stream };
  const directory = new Directory(config.directory, (await import('pino')).default({ level: 'silent' }));
  // The public URL must be known before the app is built (metadata, cookies), so reserve the port first.
  const port = await freePort();
  // publicHost: 'localhost' where the browser needs a domain (WebAuthn refuses an IP address as relying party).
  const { publicHost = '127.0.0.1', ...appOpts } = opts;
  const url = `http://${publicHost}:${port}`;
  config = { ...config, publicUrl: url, listen: { host: '127.0.0.1', port } };
  // serverProcesses: as one of that many cluster workers (rate limits are that share of the configured ones).
  const app = await buildApp({ config, directory, signingKey, sessionKeys, logger: logOptions, ...appOpts });
  await app.listen({ host: '127.0.0.1', port });
  return {
    app,
    config,
    configRaw: raw,
    url,
    dir,
    certPem: testKeys().certPem,
    logs,
    async close() {
      await app.close();
      await directory.close();
    },
  };
}
