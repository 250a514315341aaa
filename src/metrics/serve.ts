import cluster from 'node:cluster';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { BlockList, isIP } from 'node:net';
import { timingSafeEqual, createHash, randomUUID } from 'node:crypto';
import { AggregatorRegistry } from 'prom-client';
import type { MetricsConfig } from '../config/schema/metrics.js';
import { ConfigError } from '../errors.js';
import { registry } from './metrics.js';

export const CONTENT_TYPE = registry.contentType;

/** Who may read /metrics: `allow(peer, authorization)` says yes, or the status to answer (401, 403). */
export interface MetricsAccess {
  allow(peer: string | undefined, authorization: string | undefined): true | 401 | 403;
}

const digest = (s: string) => createHash('sha256').update(s).digest();

/** The bearer token (read once, at start) and the address allow-list of `metrics`. @throws ConfigError */
export function metricsAccess(cfg: Pick<MetricsConfig, 'bearerTokenFile' | 'allowFrom'>): MetricsAccess {
  let token: Buffer | undefined;
  if (cfg.bearerTokenFile) {
    let text: string;
    try {
      text = readFileSync(cfg.bearerTokenFile, 'utf8').trim();
    } catch (err) {
      throw new ConfigError(`metrics.bearerTokenFile: cannot read ${cfg.bearerTokenFile} (${(err as NodeJS.ErrnoException).code})`);
    }
    if (text.length < 16) throw new ConfigError('metrics.bearerTokenFile: the token must be at least 16 characters (e.g. openssl rand -hex 32)');
    token = digest(text);
  }
  const list = new BlockList();
  for (const entry of cfg.allowFrom) {
    const [net, bits] = entry.split('/');
    const type = isIP(net ?? '') === 6 ? 'ipv6' : isIP(net ?? '') === 4 ? 'ipv4' : undefined;
    const prefix = bits === undefined ? undefined : Number(bits);
    if (!type || (prefix !== undefined && (!Number.isInteger(prefix) || prefix < 0 || prefix > (type === 'ipv4' ? 32 : 128)))) {
      throw new ConfigError(`metrics.allowFrom: "${entry}" is not an address or a CIDR range (10.0.0.0/8, ::1)`);
    }
    if (prefix === undefined) list.addAddress(net!, type);
    else list.addSubnet(net!, prefix, type);
  }
  return {
    allow(peer, authorization) {
      if (cfg.allowFrom.length) {
        const ip = (peer ?? '').replace(/^::ffff:(?=\d+\.)/, '');
        const type = isIP(ip) === 6 ? 'ipv6' : 'ipv4';
        if (!isIP(ip) || !list.check(ip, type)) return 403;
      }
      if (token) {
        const m = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '');
        // Compared as digests: equal length, constant time.
        if (!m || !timingSafeEqual(digest(m[1]!), token)) return 401;
      }
      return true;
    },
  };
}

const REQUEST = 'gatehouse:metrics-request';
const ANSWER = 'gatehouse:metrics-answer';

/**
 * This process's metrics as Prometheus text. In a cluster worker, the primary's sum over every worker
 * (so a scrape on the main port, answered by whichever worker took the connection, sees the whole server).
 */
export function scrape(): Promise<string> {
  if (!cluster.isWorker || !process.send) return registry.metrics();
  const id = randomUUID();
  return new Promise((resolvePromise, reject) => {
    const timer = setTimeout(() => {
      process.off('message', onMessage);
      reject(new Error('the primary process did not answer the metrics request'));
    }, 5000);
    const onMessage = (m: { type?: string; id?: string; text?: string; error?: string }) => {
      if (m?.type !== ANSWER || m.id !== id) return;
      clearTimeout(timer);
      process.off('message', onMessage);
      if (m.error) reject(new Error(m.error));
      else resolvePromise(m.text ?? '');
    };
    process.on('message', onMessage);
    process.send!({ type: REQUEST, id });
  });
}

/** In a worker: answer the primary's aggregation requests with this process's registry. */
export function joinClusterMetrics(): void {
  AggregatorRegistry.setRegistries([registry]);
  // The constructor installs prom-client's listener for the primary's requests.
  new AggregatorRegistry();
}

/**
 * In the cluster's primary: every worker's metrics summed (counters, histograms) or taken once (gauges
 * marked min/max), and the answer to workers that were scraped on the main port.
 */
export function clusterMetricsInPrimary(): () => Promise<string> {
  const aggregator = new AggregatorRegistry();
  const collect = () => aggregator.clusterMetrics();
  cluster.on('message', (worker, m: { type?: string; id?: string }) => {
    if (m?.type !== REQUEST) return;
    collect().then(
      (text) => worker.send({ type: ANSWER, id: m.id, text }),
      (err: Error) => worker.send({ type: ANSWER, id: m.id, error: err.message }),
    );
  });
  return collect;
}

/** A plain HTTP listener for GET /metrics only (metrics.listen, metrics.syncListen). */
export async function startMetricsListener(address: string, access: MetricsAccess, collect: () => Promise<string>, onError: (err: Error) => void): Promise<Server> {
  const i = address.lastIndexOf(':');
  const host = address.slice(0, i).replace(/^\[|\]$/g, '');
  const port = Number(address.slice(i + 1));
  const server = createServer((req, res) => {
    res.setHeader('cache-control', 'no-store');
    if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('only GET /metrics here\n');
      return;
    }
    const allowed = access.allow(req.socket.remoteAddress, req.headers.authorization);
    if (allowed !== true) {
      if (allowed === 401) res.setHeader('www-authenticate', 'Bearer');
      res.writeHead(allowed, { 'content-type': 'text/plain' }).end(allowed === 401 ? 'a bearer token is required (metrics.bearerTokenFile)\n' : 'this address may not read metrics (metrics.allowFrom)\n');
      return;
    }
    collect().then(
      (text) => res.writeHead(200, { 'content-type': CONTENT_TYPE }).end(text),
      (err: Error) => {
        onError(err);
        res.writeHead(500, { 'content-type': 'text/plain' }).end('metrics could not be collected\n');
      },
    );
  });
  await new Promise<void>((resolveListen, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => reject(new ConfigError(`metrics listener ${address}: ${err.code ?? err.message}`)));
    server.listen(port, host, () => resolveListen());
  });
  server.unref();
  return server;
}
