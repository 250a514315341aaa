import type { Command } from 'commander';
import { configOption, loadCommandConfig, runCommand, UsageError } from './run.js';

const EXAMPLES = `
Examples:
  gatehouse serve --config /etc/gatehouse/gatehouse.yaml
  GATEHOUSE_CONFIG=/etc/gatehouse/gatehouse.yaml gatehouse serve
  gatehouse serve -c gatehouse.yaml --workers 1     one process (workers: 0, the default, is one per core)

Stop with SIGTERM or Ctrl-C; SIGHUP re-reads the token-signing certificates.`;

/** `gatehouse serve`: the sign-in server (src/cluster.ts, src/server.ts). */
export function registerServeCommand(program: Command): void {
  program
    .command('serve')
    .description('run the sign-in server (one process per CPU core unless the workers setting or --workers says otherwise)')
    .addOption(configOption())
    .option('--workers <n>', 'server processes sharing the port: 0 = one per core, 1 = a single process; overrides the workers setting')
    .addHelpText('after', EXAMPLES)
    .action(
      runCommand('serve', async (opts: { config?: string; workers?: string }) => {
        let config = loadCommandConfig(opts);
        if (opts.workers !== undefined) {
          const n = Number(opts.workers);
          if (!/^\d+$/.test(opts.workers) || n > 64) throw new UsageError('--workers must be a whole number from 0 to 64');
          config = { ...config, workers: n };
        }
        // Loaded on demand: the other commands do not need the web server.
        const { serveCluster } = await import('../cluster.js');
        await serveCluster(config);
      }),
    );
}
