import type { Command } from 'commander';
import { revokeAccountSessions } from '../authn/session-revocations.js';
import { openAdminState } from '../farm/admin-state.js';
import { findAccount } from './find-account.js';
import { configOption, loadCommandConfig, runCommand } from './run.js';

const EXAMPLES = `
Examples:
  gatehouse sessions revoke alice@corp.example.com -c gatehouse.yaml
  gatehouse sessions revoke 'CORP\\alice' -c gatehouse.yaml`;

/**
 * `gatehouse sessions revoke USER`: ends every single sign-on session of an account at once (a stolen
 * laptop, a leaver), on every server process of this host; the user signs in again with a password.
 */
export function registerSessionsCommand(program: Command): void {
  const sessions = program.command('sessions').description('single sign-on sessions').addHelpText('after', EXAMPLES);
  sessions
    .command('revoke')
    .description('end every session of a user now (their next request asks for the password again)')
    .argument('<user>', 'user name as typed at sign-in (UPN, DOMAIN\\name or name)')
    .addOption(configOption())
    .action(
      runCommand('sessions revoke', async (name: string, opts: { config?: string }) => {
        const config = loadCommandConfig(opts);
        const user = await findAccount(config, name);
        const state = await openAdminState(config);
        const now = Date.now();
        await revokeAccountSessions(state.revocations, user.objectGUID.toString('hex'), config.session, now).finally(() => state.close());
        process.stdout.write(`revoked every session of ${user.userPrincipalName ?? user.sAMAccountName} started before ${new Date(now).toISOString()}\n`);
      }),
    );
}
