import type { Command } from 'commander';
import { createFarmKey } from '../farm/farm-key.js';
import { configOption, loadCommandConfig, runCommand } from './run.js';

/** `gatehouse farm init-key`: makes the farm key (state.farmKeyFile) once; copy it to every server of the farm. */
export function registerFarmCommand(program: Command): void {
  const farm = program.command('farm').description('a farm of servers sharing their state in Redis (docs/farm.md)');
  farm
    .command('init-key')
    .description('make the farm key that seals the keys the servers share through Redis (state.farmKeyFile); copy it to every server')
    .addOption(configOption())
    .option('--force', 'replace an existing farm key (the keys already in Redis can then no longer be opened)', false)
    .action(
      runCommand('farm init-key', (opts: { config?: string; force: boolean }) => {
        const config = loadCommandConfig(opts, { secrets: false });
        createFarmKey(config.state.farmKeyFile!, opts.force);
        process.stdout.write(`wrote ${config.state.farmKeyFile} (mode 0600): copy it to every server of the farm, and back it up\n`);
      }),
    );
}
