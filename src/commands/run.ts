import { Option } from 'commander';
import { loadConfig, NoConfigurationError, type Config } from '../config/load.js';
import { ConfigError, GatehouseError, type ErrorCode } from '../errors.js';

/**
 * Exit statuses of every command: 0 done, 1 failed (configuration, files, directory, a check that did not
 * pass). Commands document their own extra ones (sync: 2 and 3; tenant-setup: 2 when it could not run).
 */
export const EXIT_OK = 0;
export const EXIT_FAILED = 1;

/** -c/--config, the same on every command. */
export const configOption = () =>
  new Option('-c, --config <file>', 'configuration file (.yaml, .yml or .json); default $GATEHOUSE_CONFIG');

/**
 * Loads the configuration named by --config or GATEHOUSE_CONFIG. `secrets: false` for commands that never
 * contact the directory: they then work without the service account's password (or its file).
 */
export function loadCommandConfig(opts: { config?: string }, { secrets = true }: { secrets?: boolean } = {}): Config {
  return loadConfig({ file: opts.config, secrets });
}

/** A mistake in the command line itself (an option's value): printed as it is. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** What an operator can do about a GatehouseError that reaches the command line. */
const WHAT_TO_DO: Partial<Record<ErrorCode, string>> = {
  GH_DIRECTORY_UNAVAILABLE: 'check directory.urls and the service account; "gatehouse check-config" tests each domain controller and says what to fix',
  GH_RP_METADATA_UNAVAILABLE: "check the relying party's metadataUrl or metadataFile",
  GH_INTERNAL: 'this is a bug in Gatehouse; please report it with the message above',
};

const indent = (text: string) => text.split('\n').join('\n  ');

/** The lines printed for an error that ends a command (prefix: "gatehouse <command>"). */
export function describeFailure(prefix: string, err: unknown): string {
  if (err instanceof NoConfigurationError) return `${prefix}: ${err.message}\n`;
  if (err instanceof ConfigError) return `${prefix}: configuration error:\n  ${indent(err.message)}\n`;
  if (err instanceof GatehouseError) {
    // The detail (for logs) says what happened; the hint, or else the user-facing message, what it means.
    const todo = WHAT_TO_DO[err.code];
    const second = todo ? `what to do: ${todo}` : err.detail ? err.message : undefined;
    return `${prefix}: ${err.code}: ${err.detail ?? err.message}\n${second ? `  ${second}\n` : ''}`;
  }
  if (err instanceof UsageError) return `${prefix}: ${err.message}\n`;
  // A TypeError and the like is a bug: the stack helps whoever reports it.
  if (err instanceof TypeError || err instanceof ReferenceError || err instanceof RangeError) {
    return `${prefix}: internal error: ${err.message}\n  ${indent(err.stack ?? '')}\n`;
  }
  if (err instanceof Error) return `${prefix}: ${err.message}\n`;
  return `${prefix}: ${String(err)}\n`;
}

export interface RunOptions {
  /** Exit status when the action throws (default 1). */
  failureStatus?: number;
}

/**
 * Wraps a command's action, so that every command reports errors and exits the same way.
 * - The action returns its exit status: the process then exits with it (HTTP keep-alive sockets or a
 *   directory connection must not hold it open). Returning nothing lets the process go on (`serve`) or
 *   end by itself with status 0.
 * - A ConfigError prints "gatehouse <command>: configuration error:" and its lines; a GatehouseError its
 *   code, detail and what to do; any other error its message. Then the process exits with
 *   `failureStatus` (1).
 */
export function runCommand<A extends unknown[]>(
  name: string,
  action: (...args: A) => number | void | Promise<number | void>,
  opts: RunOptions = {},
): (...args: A) => Promise<void> {
  return async (...args: A) => {
    let status: number | void;
    try {
      status = await action(...args);
    } catch (err) {
      process.stderr.write(describeFailure(`gatehouse ${name}`, err));
      process.exit(opts.failureStatus ?? EXIT_FAILED);
    }
    if (typeof status === 'number') process.exit(status);
  };
}
