import { availableParallelism } from 'node:os';

/** The most server processes `workers: 0` starts, however many cores the host has (the schema's maximum). */
export const MAX_AUTO_WORKERS = 64;

/**
 * How many server processes `workers` means on this machine: 0 (the default) is one per core the process
 * may use (availableParallelism honours CPU affinity, e.g. taskset or a container's cpuset), any other
 * number is taken as it is.
 */
export function workerCount(config: { workers: number }, cores: number = availableParallelism()): number {
  return config.workers === 0 ? Math.max(1, Math.min(cores, MAX_AUTO_WORKERS)) : config.workers;
}
