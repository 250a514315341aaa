#!/usr/bin/env node
// The command line: each command lives in src/commands/ (sync and tenant-setup beside their code) and
// reports errors through runCommand (src/commands/run.ts); this file only registers them.
import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { registerCertsCommand } from './commands/certs.js';
import { registerCheckConfigCommand } from './commands/check-config.js';
import { registerLockoutCommand } from './commands/lockout.js';
import { describeFailure, EXIT_FAILED } from './commands/run.js';
import { registerServeCommand } from './commands/serve.js';
import { registerSyncCommand } from './commands/sync.js';
import { registerTenantSetupCommand } from './commands/tenant-setup.js';
import { registerSessionsCommand } from './commands/sessions.js';
import { registerFarmCommand } from './commands/farm.js';
import { registerMfaCommand } from './commands/mfa.js';
import { registerActivityCommand } from './commands/activity.js';

const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };

const EXAMPLES = `
Every command reads its configuration from --config FILE or the file named by GATEHOUSE_CONFIG;
GATEHOUSE_<KEY> variables override single keys (GATEHOUSE_DIRECTORY_BIND_PASSWORD, ...).

First hour:
  gatehouse certs init -c gatehouse.yaml          token-signing certificate and session key
  gatehouse check-config -c gatehouse.yaml        every check, with what to fix
  gatehouse serve -c gatehouse.yaml               the sign-in server
  gatehouse tenant-setup -c gatehouse.yaml --domain corp.example.com

"gatehouse <command> --help" shows a command's options and examples.`;

const program = new Command()
  .name('gatehouse')
  .description('On-premises sign-in for Microsoft 365 with Active Directory passwords (an ADFS replacement).')
  .version(version, '-V, --version', 'print the version')
  .showHelpAfterError()
  .addHelpText('after', EXAMPLES);

registerServeCommand(program);
registerCheckConfigCommand(program);
registerCertsCommand(program);
registerLockoutCommand(program);
registerMfaCommand(program);
registerSessionsCommand(program);
registerActivityCommand(program);
registerFarmCommand(program);
registerSyncCommand(program);
registerTenantSetupCommand(program);

program.parseAsync().catch((err: unknown) => {
  process.stderr.write(describeFailure('gatehouse', err));
  process.exit(EXIT_FAILED);
});
