import { Option, type Command } from 'commander';
import { openAdminState } from '../farm/admin-state.js';
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
      runCommand('lockout list', async (opts: { config?: string; user?: string; json?: boolean }) => {
        const config = loadCommandConfig(opts, { secrets: false });
        // The farm's counters in Redis when state.redis.url is set, else this host's SQLite database.
        const state = await openAdminState(config);
        const rows = await Promise.resolve(state.lockout.list(opts.user)).finally(() => state.close());
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
      runCommand('lockout reset', async (user: string, opts: { config?: string; location?: 'familiar' | 'unknown' }) => {
        const config = loadCommandConfig(opts, { secrets: false });
        const state = await openAdminState(config);
        const n = await Promise.resolve(state.lockout.reset(user, opts.location)).finally(() => state.close());
        if (!n) throw new Error(`no lockout state for ${user}`);
        process.stdout.write(`reset ${opts.location ?? 'all'} counters of ${user}\n`);
      }),
    );
}
