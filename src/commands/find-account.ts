import pino from 'pino';
import type { Config } from '../config/load.js';
import { Directory } from '../directory/directory.js';
import type { DirectoryUser } from '../directory/directory.js';
import { GatehouseError } from '../errors.js';

/** The account an admin command names, as the user types it at sign-in (UPN, DOMAIN\name or name). */
export async function findAccount(config: Config, name: string): Promise<DirectoryUser> {
  const directory = new Directory(config.directory, pino({ level: 'silent' }));
  let user: DirectoryUser | undefined;
  try {
    user = await directory.findUser(name);
  } finally {
    await directory.close();
  }
  if (!user) throw new GatehouseError('GH_AUTHN_FAILED', { detail: `no account matches ${JSON.stringify(name)} (or more than one does)` });
  return user;
}
