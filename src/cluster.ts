import cluster from 'node:cluster';
import pino from 'pino';
import type { Config } from './config/load.js';
import { workerCount } from './config/workers.js';
import { loadSessionKeys } from './keys/keystore.js';
import { loadCurrentKey, loadNextKey } from './keys/rollover.js';
import { clusterMetricsInPrimary, metricsAccess, startMetricsListener } from './metrics/serve.js';

export { workerCount };

const RESTART_DELAY_MS = 1000;

/**
 * `gatehouse serve`: one process, or a primary that forks `workers` server processes sharing the port
 * (token signing is CPU-bound, so this is how Gatehouse uses every core). The primary restarts a worker
 * that dies once it has served, passes SIGHUP (re-read certificates) on, and stops them all on
 * SIGTERM/SIGINT. A worker that dies before it ever listened (bad keys, port taken, AD policy refused)
 * would only die again: then the primary stops the others and exits 1.
 */
export async function serveCluster(config: Config): Promise<void> {
  const n = workerCount(config);
  const { serve } = await import('./server.js');
  if (cluster.isWorker) return serve(config, { workerIndex: Number(process.env.GH_WORKER_INDEX ?? 0), serverProcesses: n });
  if (n <= 1) return serve(config, { workerIndex: 0, serverProcesses: 1 });

  // What would make every worker fail: say it once, here, before forking.
  loadCurrentKey(config.signing);
  loadNextKey(config.signing);
  loadSessionKeys(config.session.keyFile);

  const log = pino({ level: config.logLevel }).child({ component: 'cluster' });
  if (config.metrics.enabled) {
    // The primary sums its workers' metrics, for its own listener and for a worker scraped on the main port.
    const collect = clusterMetricsInPrimary();
    if (config.metrics.listen) {
      await startMetricsListener(config.metrics.listen, metricsAccess(config.metrics), collect, (err) => log.error({ err: err.message }, 'metrics could not be collected'));
      log.info({ metrics: `http://${config.metrics.listen}/metrics` }, 'metrics listener started');
    }
  }
  let stopping = false;
  const stop = (signal: NodeJS.Signals, code = 0) => {
    if (stopping) return;
    stopping = true;
    for (const w of Object.values(cluster.workers ?? {})) w?.process.kill(signal);
    const done = () => {
      if (Object.keys(cluster.workers ?? {}).length === 0) process.exit(code);
    };
    cluster.on('exit', done);
    done();
  };
  const fork = (index: number) => {
    const worker = cluster.fork({ GH_WORKER_INDEX: String(index) });
    let listened = false;
    worker.once('listening', () => (listened = true));
    worker.on('exit', (code, signal) => {
      if (stopping) return;
      if (!listened) {
        // Its error is on stderr already (the worker runs the same command).
        log.error({ worker: index, code, signal }, 'a server process failed to start; stopping');
        stop('SIGTERM', 1);
        return;
      }
      log.error({ worker: index, code, signal }, 'server process died; starting another');
      setTimeout(() => fork(index), RESTART_DELAY_MS);
    });
  };
  for (let i = 0; i < n; i++) fork(i);
  log.info({ workers: n }, 'started server processes');

  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGTERM'));
  process.on('SIGHUP', () => {
    for (const w of Object.values(cluster.workers ?? {})) w?.process.kill('SIGHUP');
  });
}
