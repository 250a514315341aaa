import { Option, type Command } from 'commander';
import { openAdminState } from '../farm/admin-state.js';
import { activityReport, type ActivityReport } from '../activity/report.js';
import { resetLockout } from './lockout.js';
import { configOption, loadCommandConfig, runCommand } from './run.js';

const EXAMPLES = `
Examples:
  gatehouse activity show -c gatehouse.yaml                      recent events, lockouts, spray report
  gatehouse activity show -c gatehouse.yaml --user alice@corp.example.com
  gatehouse activity show -c gatehouse.yaml --json
  gatehouse activity reset alice@corp.example.com -c gatehouse.yaml`;

const iso = (t: number) => (t ? new Date(t).toISOString() : '-');

function print(r: ActivityReport, user: string | undefined): void {
  const out: string[] = [];
  out.push(`Top sources of bad passwords since ${iso(r.since)}:`);
  if (!r.spray.length) out.push('  none');
  for (const s of r.spray) out.push(`  ${s.address}  ${s.failures} bad passwords, ${s.users} user names, ${iso(s.first)} .. ${iso(s.last)}`);
  out.push('', 'Smart lockout (bad-password counters):');
  if (!r.lockouts.length) out.push('  none');
  for (const l of r.lockouts) {
    out.push(`  ${l.userName}  unknown locations: ${l.badUnknown} bad (last ${iso(l.lastBadUnknown)}), familiar: ${l.badFamiliar} bad (last ${iso(l.lastBadFamiliar)})`);
  }
  out.push('', user ? `Events of ${user} (most recent first):` : 'Recent events (most recent first):');
  if (!r.events.length) out.push('  none recorded (activity.retentionDays)');
  for (const e of r.events) {
    const result = e.outcome === 'success' ? 'ok' : (e.reason ?? 'refused');
    out.push(`  ${iso(e.time)}  ${e.user}${e.noAccount ? ' (no such account)' : ''}  ${e.kind}  ${result}  ${e.realm ?? e.protocol ?? '-'}  from ${e.addresses.join(',') || '-'}  correlation ${e.correlationId ?? '-'}${e.detail ? `  (${e.detail})` : ''}`);
  }
  process.stdout.write(out.join('\n') + '\n');
}

/** `gatehouse activity show|reset`: the help desk's view of sign-ins, from the state store (never needs the directory). */
export function registerActivityCommand(program: Command): void {
  const activity = program
    .command('activity')
    .description('recent sign-ins and refusals, smart-lockout state, password-spray report; reset a lockout')
    .addHelpText('after', EXAMPLES);

  activity
    .command('show')
    .description('recent events (of one user), smart-lockout counters and the top sources of bad passwords in the last hour')
    .addOption(configOption())
    .option('--user <name>', 'only this user (UPN, or the name as typed for a name that matches no account)')
    .addOption(new Option('--limit <n>', 'how many events').default('50').argParser((v) => Math.max(1, Math.min(10_000, Number.parseInt(v, 10) || 50))))
    .option('--json', 'print JSON')
    .action(
      runCommand('activity show', async (opts: { config?: string; user?: string; limit: number | string; json?: boolean }) => {
        const config = loadCommandConfig(opts, { secrets: false });
        // The farm's events in Redis when state.redis.url is set, else this host's SQLite database.
        const state = await openAdminState(config);
        const report = await activityReport(state, { user: opts.user, limit: Number(opts.limit) }).finally(() => state.close());
        if (opts.json) return void process.stdout.write(JSON.stringify(report, null, 2) + '\n');
        print(report, opts.user);
      }),
    );

  activity
    .command('reset')
    .description("clear a user's smart-lockout counters (as `gatehouse lockout reset`)")
    .argument('<user>', 'UPN or sAMAccountName, as shown by activity show')
    .addOption(configOption())
    .addOption(new Option('--location <where>', 'only this kind of location').choices(['familiar', 'unknown']))
    .action(
      runCommand('activity reset', async (user: string, opts: { config?: string; location?: 'familiar' | 'unknown' }) => {
        await resetLockout(loadCommandConfig(opts, { secrets: false }), user, opts.location);
      }),
    );
}
