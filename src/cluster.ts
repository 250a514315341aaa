import cluster from 'node:cluster';
import { availableParallelism } from 'node:os';
import pino from 'pino';
import type { Config } from './config/load.js';

/** How many server processes `workers` means on this machine. */
export function workerCount(config: Pick<Config, 'workers'>): number {
  return config.workers === 0 ? availableParallelism() : config.workers;
}

const RESTART_DELAY_MS = 1000;

/**
 * `gatehouse serve`: one process, or a primary that forks `workers` server processes sharing the port
 * (token signing is CPU-bound, so this is how Gatehouse uses every core). The primary restarts a worker
 * that dies, passes SIGHUP (re-read certificates) on, and stops them all on SIGTERM/SIGINT.
 */
export async function serveCluster(config: Config): Promise<void> {
  const n = workerCount(config);
  const { serve } = await import('./server.js');
  if (n <= 1) return serve(config, { workerIndex: 0 });
  if (cluster.isWorker) return serve(config, { workerIndex: Number(process.env.GH_WORKER_INDEX ?? 0) });

  const log = pino({ level: config.logLevel }).child({ component: 'cluster' });
  let stopping = false;
  const fork = (index: number) => {
    const worker = cluster.fork({ GH_WORKER_INDEX: String(index) });
    worker.on('exit', (code, signal) => {
      if (stopping) return;
      log.error({ worker: index, code, signal }, 'server process died; starting another');
      setTimeout(() => fork(index), RESTART_DELAY_MS);
    });
  };
  for (let i = 0; i < n; i++) fork(i);
  log.info({ workers: n }, 'started server processes');

  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    for (const w of Object.values(cluster.workers ?? {})) w?.process.kill(signal);
    const done = () => {
      if (Object.keys(cluster.workers ?? {}).length === 0) process.exit(0);
    };
    cluster.on('exit', done);
    done();
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGTERM'));
  process.on('SIGHUP', () => {
    for (const w of Object.values(cluster.workers ?? {})) w?.process.kill('SIGHUP');
  });
}
