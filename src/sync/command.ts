import type { Command } from 'commander';

/** Adds `gatehouse sync` to the command line. */
export function registerSyncCommand(_program: Command): void {}
