import { userInfo } from 'node:os';
import { Option, type Command } from 'commander';
import { openAdminState } from '../farm/admin-state.js';
import type { Config } from '../config/load.js';
import { configOption, loadCommandConfig, runCommand } from './run.js';

const EXAMPLES = `
Examples:
  gatehouse lockout list -c gatehouse.yaml
  gatehouse lockout list -c gatehouse.yaml --user alice@corp.example.com --json
  gatehouse lockout reset alice@corp.example.com -c gatehouse.yaml --location unknown`;

/**
 * Clears a user's smart-lockout counters in the state the farm shares (Redis) or this host's database:
 * `gatehouse lockout reset` and `gatehouse activity reset`. @throws when nothing was recorded for the user
 */
export async function resetLockout(config: Config, user: string, location?: 'familiar' | 'unknown'): Promise<void> {
  const state = await openAdminState(config);
  const n = await (async () => {
    const n = await state.lockout.reset(user, location);
    // The reset is an audit event too (the activity view shows who was reset, and when).
    if (n && config.activity.retentionDays > 0) {
      await state.activity.add([{ time: Date.now(), kind: 'lockout_reset', user, outcome: 'success', protocol: 'cli', addresses: [], detail: `by ${userInfo().username} on the command line` }]);
    }
    return n;
  })().finally(() => state.close());
  if (!n) throw new Error(`no lockout state for ${user}: give the name as \`gatehouse lockout list\` shows it`);
  process.stdout.write(`reset ${location ?? 'all'} counters of ${user}\n`);
}

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
        await resetLockout(loadCommandConfig(opts, { secrets: false }), user, opts.location);
      }),
    );
}
