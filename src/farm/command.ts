import { Option, type Command } from 'commander';
import { loadConfig } from '../config/load.js';
import { createFarmKey } from './farm-key.js';

/** `gatehouse farm init-key`: makes the farm key (state.farmKeyFile) once; copy it to every server of the farm. */
export function registerFarmCommand(program: Command, fail: (err: unknown) => never): void {
  const farm = program.command('farm').description('a farm of servers sharing their state in Redis (docs/farm.md)');
  farm
    .command('init-key')
    .description('make the farm key that seals the keys the servers share through Redis (state.farmKeyFile); copy it to every server')
    .addOption(new Option('-c, --config <file>', 'configuration file (.yaml, .yml or .json); default $GATEHOUSE_CONFIG'))
    .option('--force', 'replace an existing farm key (the keys already in Redis can then no longer be opened)', false)
    .action((opts: { config?: string; force: boolean }) => {
      try {
        const config = loadConfig({ file: opts.config });
        createFarmKey(config.state.farmKeyFile!, opts.force);
        process.stdout.write(`wrote ${config.state.farmKeyFile} (mode 0600): copy it to every server of the farm, and back it up\n`);
      } catch (err) {
        fail(err);
      }
    });
}
