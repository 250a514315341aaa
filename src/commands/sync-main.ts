#!/usr/bin/env node
// `node dist/commands/sync-main.js [options]` = `gatehouse sync [options]` without loading the sign-in server's
// modules: for a host that only runs the sync worker.
import { Command } from 'commander';
import { registerSyncCommand } from './sync.js';

const program = new Command().name('gatehouse-sync');
registerSyncCommand(program);
program.parseAsync(['node', 'gatehouse', 'sync', ...process.argv.slice(2)]).catch((err: Error) => {
  process.stderr.write(`gatehouse sync: ${err.message}\n`);
  process.exit(1);
});
