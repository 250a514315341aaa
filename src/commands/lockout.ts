import { Option, type Command } from 'commander';
import { LockoutStore } from '../lockout/lockout-store.js';
import { openStateDatabase } from '../state/database.js';
import { configOption, loadCommandConfig, runCommand } from './run.js';

const EXAMPLES = `
Examples:
  gatehouse lockout list -c gatehouse.yaml
  gatehouse lockout list -c gatehouse.yaml --user alice@corp.example.com --json
  gatehouse lockout reset alice@corp.example.com -c gatehouse.yaml --location unknown`;

/** `gatehouse lockout list|reset`: the smart-lockout counters in stateDir (never needs the directory). */
export function registerLockoutCommand(program: Command): void {
  const lockout = program
    .command('lockout')
    .description('smart lockout state (bad-password counters per user)')
    .addHelpText('after', EXAMPLES);

  lockout
    .command('list')
    .description('list accounts with bad-password counters or familiar addresses')
    .addOption(configOption())
    .option('--user <name>', 'only this user (UPN or sAMAccountName, as stored)')
    .option('--json', 'print JSON')
    .action(
      runCommand('lockout list', (opts: { config?: string; user?: string; json?: boolean }) => {
        const config = loadCommandConfig(opts, { secrets: false });
        const db = openStateDatabase(config.stateDir);
        const rows = new LockoutStore(db).list(opts.user);
        db.close();
        if (opts.json) return void process.stdout.write(JSON.stringify(rows, null, 2) + '\n');
        if (!rows.length) return void process.stdout.write('no lockout state recorded\n');
        const when = (t: number) => (t ? new Date(t).toISOString() : '-');
        for (const r of rows) {
          process.stdout.write(
            `${r.userName}\n  unknown locations:  ${r.badUnknown} bad (last ${when(r.lastBadUnknown)})\n` +
              `  familiar locations: ${r.badFamiliar} bad (last ${when(r.lastBadFamiliar)})\n` +
              `  familiar addresses: ${r.familiarAddresses.join(', ') || '-'}\n`,
          );
        }
      }),
    );

  lockout
    .command('reset')
    .description("clear a user's bad-password counters (familiar addresses are kept)")
    .argument('<user>', 'UPN or sAMAccountName, as shown by lockout list')
    .addOption(configOption())
    .addOption(new Option('--location <where>', 'only this kind of location').choices(['familiar', 'unknown']))
    .action(
      runCommand('lockout reset', (user: string, opts: { config?: string; location?: 'familiar' | 'unknown' }) => {
        const config = loadCommandConfig(opts, { secrets: false });
        const db = openStateDatabase(config.stateDir);
        const n = new LockoutStore(db).reset(user, opts.location);
        db.close();
        if (!n) throw new Error(`no lockout state for ${user}`);
        process.stdout.write(`reset ${opts.location ?? 'all'} counters of ${user}\n`);
      }),
    );
}
