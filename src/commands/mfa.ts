import { userInfo } from 'node:os';
import type { Command } from 'commander';
import pino from 'pino';
import { openAdminState } from '../farm/admin-state.js';
import { newSessionKey, writeSecretFile } from '../keys/generate.js';
import { findAccount } from './find-account.js';
import { configOption, loadCommandConfig, runCommand } from './run.js';

const EXAMPLES = `
Examples:
  gatehouse mfa init-key -c gatehouse.yaml
  gatehouse mfa list -c gatehouse.yaml
  gatehouse mfa list --user alice@corp.example.com -c gatehouse.yaml
  gatehouse mfa reset alice@corp.example.com -c gatehouse.yaml`;

/**
 * `gatehouse mfa init-key|list|reset`: the key that encrypts enrolled factors, who has enrolled what
 * (never a secret), and removing a user's factors (a lost phone): they enrol again at their next sign-in.
 */
export function registerMfaCommand(program: Command): void {
  const mfa = program.command('mfa').description('multi-factor authentication: enrolments and their key').addHelpText('after', EXAMPLES);

  mfa
    .command('init-key')
    .description('write mfa.keyFile: 32 random bytes that encrypt the enrolled factors (the same file on every server of a farm)')
    .addOption(configOption())
    .option('--force', 'replace an existing key (every enrolment made with it can no longer be read)')
    .action(
      runCommand('mfa init-key', async (opts: { config?: string; force?: boolean }) => {
        const config = loadCommandConfig(opts);
        writeSecretFile(config.mfa.keyFile, newSessionKey(), opts.force ?? false);
        process.stdout.write(`wrote ${config.mfa.keyFile}\n`);
      }),
    );

  mfa
    .command('list')
    .description('users with enrolled factors: kinds and when they last changed')
    .addOption(configOption())
    .option('--user <user>', 'only this user (UPN as enrolled)')
    .option('--json', 'print JSON')
    .action(
      runCommand('mfa list', async (opts: { config?: string; user?: string; json?: boolean }) => {
        const config = loadCommandConfig(opts);
        const state = await openAdminState(config);
        let rows = await state.mfa.list().finally(() => state.close());
        if (opts.user) rows = rows.filter((r) => r.upn.toLowerCase() === opts.user!.toLowerCase());
        const out = rows.map((r) => ({ user: r.upn, factors: r.factors, updated: new Date(r.updated).toISOString() }));
        if (opts.json) return void process.stdout.write(JSON.stringify(out, null, 2) + '\n');
        if (!out.length) return void process.stdout.write(opts.user ? `${opts.user} has no second factor enrolled\n` : 'no second factor enrolled\n');
        for (const r of out) process.stdout.write(`${r.user}\t${r.factors.join(',')}\t${r.updated}\n`);
      }),
    );

  mfa
    .command('reset')
    .description("remove every factor of a user (a lost phone); the user enrols again at the next sign-in that needs MFA")
    .argument('<user>', 'user name as typed at sign-in (UPN, DOMAIN\\name or name)')
    .addOption(configOption())
    .action(
      runCommand('mfa reset', async (name: string, opts: { config?: string }) => {
        const config = loadCommandConfig(opts);
        const user = await findAccount(config, name);
        const upn = user.userPrincipalName ?? user.sAMAccountName;
        const state = await openAdminState(config);
        const removed = await state.mfa.remove(user.objectGUID.toString('hex')).finally(() => state.close());
        // The audit line, on stderr as the server's log lines are (JSON).
        pino(pino.destination(2)).info({ event: 'mfa_reset', user: upn, removed, by: userInfo().username }, 'second factors removed by an administrator');
        process.stdout.write(removed ? `removed every second factor of ${upn}\n` : `${upn} had no second factor enrolled\n`);
      }),
    );
}
