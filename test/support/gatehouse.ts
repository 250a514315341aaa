import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { stringify } from 'yaml';
import { buildApp } from '../../src/app.js';
import { loadConfig, type Config } from '../../src/config/load.js';
import { Directory } from '../../src/directory/directory.js';
import { createSelfSignedCertificate, newSessionKey } from '../../src/keys/generate.js';
import { loadSessionKey, loadSigningKey } from '../../src/keys/keystore.js';
import { DC } from './directory.js';

export interface RunningGatehouse {
  app: FastifyInstance;
  config: Config;
  /** Base URL the server listens on (also its publicUrl). */
  url: string;
  dir: string;
  certPem: string;
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
  return {
    publicUrl: `http://127.0.0.1:${port || 1}`,
    listen: { host: '127.0.0.1', port },
    logLevel: 'warn',
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
    relyingParties: [TEST_RP],
  };
}

/** Starts a real Gatehouse on 127.0.0.1 (a free port) against the Samba DC. */
export async function startGatehouse(mutate?: (cfg: Record<string, any>) => void): Promise<RunningGatehouse> {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-test-'));
  const raw = baseConfig(dir);
  mutate?.(raw);
  const file = join(dir, 'gatehouse.yaml');
  writeFileSync(file, stringify(raw));
  let config = loadConfig({ file, env: {} });
  const signingKey = loadSigningKey(config.signing.certFile, config.signing.keyFile);
  const sessionKey = loadSessionKey(config.session.keyFile);
  const silent = { level: process.env.GATEHOUSE_TEST_LOG ?? 'silent' };
  const directory = new Directory(config.directory, (await import('pino')).default(silent));
  // The public URL must be known before the app is built (metadata, cookies), so reserve the port first.
  const { createServer } = await import('node:net');
  const port: number = await new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
  const url = `http://127.0.0.1:${port}`;
  config = { ...config, publicUrl: url, listen: { host: '127.0.0.1', port } };
  const app = await buildApp({ config, directory, signingKey, sessionKey, logger: silent });
  await app.listen({ host: '127.0.0.1', port });
  return {
    app,
    config,
    url,
    dir,
    certPem: testKeys().certPem,
    async close() {
      await app.close();
      await directory.close();
    },
  };
}
