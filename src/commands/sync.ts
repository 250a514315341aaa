import { Option, type Command } from 'commander';
import pino from 'pino';
import { loadConfig } from '../config/load.js';
import { runCommand } from './run.js';
import { runCycle, summaryLines, type CycleSummary } from '../sync/cycle.js';
import { acquireSyncLock } from '../sync/lock.js';
import { createProgress } from '../sync/progress.js';
import { syncSettings } from '../sync/settings.js';
import { farmSyncTurn } from '../farm/sync-turn.js';
import { observeSyncCycle } from '../sync/metrics.js';
import { registry } from '../metrics/metrics.js';
import { metricsAccess, startMetricsListener } from '../metrics/serve.js';

interface SyncOptions {
  config?: string;
  once: boolean;
  dryRun: boolean;
  full: boolean;
  allowDeletions: boolean;
}

/** Exit status of `sync --once`: 0 done, 2 some users failed, 3 stopped by the deletion threshold. */
export function exitCodeOf(s: CycleSummary): number {
  if (s.outcome === 'stopped-deletion-threshold-exceeded') return 3;
  if (s.outcome === 'completed-with-errors') return 2;
  return 0;
}

async function sync(opts: SyncOptions): Promise<number> {
  const config = loadConfig({ file: opts.config });
  const settings = syncSettings(config);
  // Human output (plan, summary) on stdout; the JSON log on stderr.
  const log = pino({ level: config.logLevel }, pino.destination({ fd: 2, sync: true }));
  const out = (line: string) => process.stdout.write(line + '\n');
  const release = opts.dryRun ? () => {} : acquireSyncLock(config.stateDir);
  let stop = false;
  let wake: (() => void) | undefined;
  const onSignal = (sig: string) => {
    if (stop) process.exit(130); // second signal: give up at once
    stop = true;
    log.info({ signal: sig }, 'sync: stopping after the current batch');
    wake?.();
  };
  process.on('SIGTERM', () => onSignal('SIGTERM'));
  process.on('SIGINT', () => onSignal('SIGINT'));
  // The sync is a process of its own: its metrics on a listener of its own (metrics.syncListen).
  const metricsServer =
    config.metrics.enabled && config.metrics.syncListen && !opts.dryRun
      ? await startMetricsListener(config.metrics.syncListen, metricsAccess(config.metrics), () => registry.metrics(), (err) => log.error({ err: err.message }, 'metrics could not be collected'))
      : undefined;
  if (metricsServer) log.info({ metrics: `http://${config.metrics.syncListen}/metrics` }, 'sync: metrics listener started');
  // Farm mode: only the holder of the sync lease runs cycles.
  const turn = opts.dryRun ? undefined : await farmSyncTurn(config, log);
  try {
    let full = opts.full;
    for (;;) {
      if (turn && !(await turn.wait(() => stop))) return 0;
      if (turn && (await turn.mustRunFull())) full = true;
      const started = Date.now();
      let status = 0;
      try {
        const summary = await runCycle(config, settings, {
          full,
          dryRun: opts.dryRun,
          allowDeletions: opts.allowDeletions,
          log,
          out,
          progress: createProgress({ tty: !!process.stderr.isTTY, log, everySeconds: settings.progressSeconds }),
          stopRequested: () => stop || (turn?.lost() ?? false),
        });
        for (const line of summaryLines(summary)) out(line);
        log.info({ summary }, 'sync: cycle finished');
        observeSyncCycle(summary, { kind: full ? 'full' : 'incremental', durationMs: Date.now() - started });
        status = exitCodeOf(summary);
        if (summary.outcome !== 'interrupted') await turn?.done();
      } catch (err) {
        log.error({ err: (err as Error).message }, 'sync: cycle failed');
        observeSyncCycle(undefined, { kind: full ? 'full' : 'incremental', durationMs: Date.now() - started });
        process.stderr.write(`gatehouse sync: cycle failed: ${(err as Error).message}\n`);
        status = 1;
      }
      if (opts.once || opts.dryRun || stop) return status;
      full = false; // --full applies to the first cycle only
      // The next cycle starts intervalMinutes after this one started, never before it ended.
      const wait = Math.max(0, settings.intervalMinutes * 60_000 - (Date.now() - started));
      log.info({ nextInMs: wait }, 'sync: waiting for the next cycle');
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, wait);
        wake = () => {
          clearTimeout(t);
          resolve();
        };
      });
      if (stop) return 0;
    }
  } finally {
    metricsServer?.close();
    await turn?.close();
    release();
  }
}

/** Adds `gatehouse sync` to the command line. */
export function registerSyncCommand(program: Command): void {
  program
    .command('sync')
    .description('provision the AD users in scope into Microsoft Entra ID (Microsoft Graph), every sync.intervalMinutes')
    .addOption(new Option('-c, --config <file>', 'configuration file (.yaml, .yml or .json); default $GATEHOUSE_CONFIG'))
    .option('--once', 'run one cycle and exit', false)
    .option('--dry-run', 'print the plan (create / update / disable / delete) and write nothing', false)
    .option('--full', 'read every user in scope instead of only the changes', false)
    .option('--allow-deletions', 'run even if more users would be disabled or deleted than sync.deletionThreshold', false)
    // runCommand exits with the status sync returns: keep-alive sockets of the HTTP clients would otherwise hold the process a while.
    .action(runCommand('sync', sync));
}
