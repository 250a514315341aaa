// Issue 13, test 7: automatic rollover on a two-node farm, on an injected clock. Node B joins with no key
// files at all (it takes the farm's); the rollover lease picks one node to make the next certificate;
// both publish it in their metadata, then both sign with it from the same moment.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.js';
import { loadConfig } from '../../src/config/load.js';
import { Directory } from '../../src/directory/directory.js';
import { createFarmKey } from '../../src/farm/farm-key.js';
import { startFarmServer, type FarmServer } from '../../src/farm/serve.js';
import { createSelfSignedCertificate, newSessionKey } from '../../src/keys/generate.js';
import { CertificateMonitor } from '../../src/keys/rollover.js';
import { writeConfig } from '../support/cli.js';
import { USERS } from '../support/directory.js';
import { baseConfig } from '../support/gatehouse.js';
import { metadataCertificates } from '../rollover/support.js';
import { V13, buildRst } from '../wstrust/soap-client.js';
import { RedisServer, until } from './support.js';

const DAY = 86_400_000;
const t0 = Date.now();
let clock = t0;
let redis: RedisServer;

interface Node {
  name: string;
  app: FastifyInstance;
  farm: FarmServer;
  monitor: CertificateMonitor;
  directory: Directory;
  logs: Record<string, any>[];
  dir: string;
}
const nodes: Node[] = [];
const first = createSelfSignedCertificate({ commonName: 'sts.farmroll.test', bits: 2048, days: 30, now: new Date(t0) });
const b64 = (certPem: string) => certPem.replace(/-----[^-]+-----|\s/g, '');

async function startNode(name: string, shared: string, seedKeys: boolean): Promise<Node> {
  const dir = join(shared, name);
  mkdirSync(dir);
  const raw = { ...baseConfig(dir), publicUrl: 'http://sts.farmroll.test' } as Record<string, any>;
  if (seedKeys) {
    writeFileSync(join(dir, 'signing.crt'), first.certPem);
    writeFileSync(join(dir, 'signing.key'), first.keyPem, { mode: 0o600 });
    writeFileSync(join(dir, 'session.key'), newSessionKey(), { mode: 0o600 });
  } else {
    // A new server: configuration and farm key only, no token-signing or session key.
    for (const f of ['signing.crt', 'signing.key', 'session.key']) rmSync(join(dir, f));
  }
  raw.signing = { ...raw.signing, autoRollover: { enabled: true, generateDaysBefore: 20, promoteDaysAfter: 5 } };
  raw.state = { redis: { url: redis.url }, farmKeyFile: join(shared, 'farm.key'), leaseSeconds: 3 };
  const config = loadConfig({ file: writeConfig(dir, 'gatehouse.yaml', raw), env: {} });
  const logs: Record<string, any>[] = [];
  const stream = new Writable({
    write(chunk, _enc, cb) {
      for (const line of String(chunk).split('\n')) if (line.trim()) logs.push(JSON.parse(line));
      cb();
    },
  });
  const log = pino({ level: 'info' }, stream);
  const farm = (await startFarmServer(config, log, () => clock))!;
  const directory = new Directory(config.directory, pino({ level: 'silent' }));
  const app = await buildApp({
    config, directory, signingKey: farm.signingKeys.current, signingKeys: farm.signingKeys, sessionKeys: farm.sessionKeys, state: farm.state, logger: { level: 'warn', stream },
  });
  const monitor = new CertificateMonitor({ config, ring: farm.signingKeys, log, now: () => new Date(clock), manageRollover: farm.manageRollover, onRollover: farm.onRollover });
  return { name, app, farm, monitor, directory, logs, dir };
}

beforeAll(async () => {
  redis = await RedisServer.create();
  const shared = mkdtempSync(join(tmpdir(), 'farm-roll-'));
  createFarmKey(join(shared, 'farm.key'));
  nodes.push(await startNode('a', shared, true));
  nodes.push(await startNode('b', shared, false));
}, 60_000);

afterAll(async () => {
  for (const n of nodes) {
    n.monitor.stop();
    await n.farm.stop();
    await n.app.close();
    await n.directory.close();
  }
  await redis?.stop();
});

const metadata = async (n: Node) => metadataCertificates((await n.app.inject({ method: 'GET', url: '/FederationMetadata/2007-06/FederationMetadata.xml' })).body);
/** The certificate in the KeyInfo of a WS-Trust token signed by node `n`. */
async function tokenCert(n: Node): Promise<string> {
  const res = await n.app.inject({
    method: 'POST', url: V13.path, headers: { 'content-type': 'application/soap+xml; charset=utf-8' },
    payload: buildRst(V13, { baseUrl: 'http://sts.farmroll.test', username: USERS.alice.upn, password: USERS.alice.password }),
  });
  expect(res.statusCode, res.body.slice(0, 300)).toBe(200);
  return /<(?:ds:)?X509Certificate>([^<]+)</.exec(res.body)![1]!.replace(/\s/g, '');
}
const at = async (days: number) => {
  clock = t0 + days * DAY;
  for (const n of nodes) n.monitor.check();
  // Whatever the leader published, every node takes (the periodic refresh, run now).
  await new Promise((r) => setTimeout(r, 100));
  for (const n of nodes) await n.farm.keys.refresh(n.farm.signingKeys);
};

describe('keys and automatic rollover in a farm', () => {
  it('a server joining with no key files serves the farm\'s certificate and session keys; private keys are sealed in Redis', async () => {
    const [a, b] = nodes as [Node, Node];
    expect(await metadata(b)).toEqual([b64(first.certPem)]);
    expect(await tokenCert(b)).toBe(b64(first.certPem));
    expect(readFileSync(join(b.dir, 'session.key'), 'utf8')).toBe(readFileSync(join(a.dir, 'session.key'), 'utf8'));
    const stored = await redis.cli('GET', 'gatehouse:keys');
    expect(stored).toContain('"current"');
    expect(stored).not.toContain('PRIVATE KEY');
    expect(stored).not.toContain(readFileSync(join(a.dir, 'session.key'), 'utf8').trim());
  });

  it('one node makes the next certificate; both publish it, then both sign with it at the same moment', async () => {
    const [a, b] = nodes as [Node, Node];
    await until('a rollover leader', () => nodes.some((n) => n.farm.lease.isLeader), 5000);
    expect(nodes.filter((n) => n.farm.lease.isLeader)).toHaveLength(1);
    await at(2);
    expect(await metadata(a)).toEqual([b64(first.certPem)]);
    // 19 days before expiry: the leader makes the next certificate, and only the leader.
    await at(11);
    const made = nodes.flatMap((n) => n.logs.filter((l) => String(l.msg).startsWith('automatic rollover: made the next')).map(() => n.name));
    expect(made).toHaveLength(1);
    const next = a.farm.signingKeys.next ?? b.farm.signingKeys.next;
    expect(next).toBeDefined();
    for (const n of nodes) {
      expect(await metadata(n)).toEqual([b64(first.certPem), next!.certBase64]);
      expect(await tokenCert(n)).toBe(b64(first.certPem));
      expect(existsSync(join(n.dir, 'signing-next.crt'))).toBe(true);
    }
    // Four days later: not yet.
    await at(15);
    for (const n of nodes) expect(await tokenCert(n)).toBe(b64(first.certPem));
    // Past the promotion moment (5 days after the next certificate's NotBefore): both sign with it.
    await at(16.01);
    for (const n of nodes) {
      expect(await tokenCert(n)).toBe(next!.certBase64);
      expect(await metadata(n)).toEqual([next!.certBase64]);
      expect(readFileSync(join(n.dir, 'signing.crt'), 'utf8').replace(/\s/g, '')).toContain(next!.certBase64);
    }
  });
});
