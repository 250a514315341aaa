import { ResultCodeError } from 'ldapts';
import { GatehouseError } from '../errors.js';
import { mapBindError } from './bind-errors.js';
import type { BindPool } from './bind-pool.js';
import type { DcFailover } from './failover.js';
import type { DirectoryUser } from './user.js';

/**
 * One simple bind on a pooled connection to `url`. A reused connection that fails without an LDAP answer
 * (the DC may have closed it meanwhile) is replaced by a new one once; a new one failing means the DC.
 * @throws what ldapts throws (ResultCodeError when the DC answered)
 */
export async function bindOn(binds: BindPool, url: string, dn: string, password: string): Promise<void> {
  for (let retried = false; ; retried = true) {
    const { client, reused } = await binds.acquire(url, retried);
    try {
      await client.bind(dn, password);
    } catch (err) {
      if (err instanceof ResultCodeError) {
        binds.release(url, client);
        throw err;
      }
      binds.discard(client);
      if (reused && !retried) continue;
      throw err;
    }
    binds.release(url, client);
    return;
  }
}

/**
 * Verifies the password with a simple bind as the user's DN (on a connection used only for binds), on the
 * first DC that answers.
 * @throws GH_PASSWORD_EMPTY, GH_AUTHN_FAILED, account-state errors, GH_DIRECTORY_UNAVAILABLE.
 */
export async function verifyPassword(dcs: DcFailover, binds: BindPool, user: DirectoryUser, password: string): Promise<void> {
  // AD treats a simple bind with an empty password as an anonymous bind and reports success.
  if (!password) throw new GatehouseError('GH_PASSWORD_EMPTY', { detail: `empty password for ${user.dn}` });
  await dcs.run({
    what: 'user bind',
    attempt: async (url) => {
      try {
        await bindOn(binds, url, user.dn, password);
      } catch (err) {
        throw mapBindError(err, user.dn);
      }
    },
    isFinal: (err) => (err as GatehouseError).code !== 'GH_DIRECTORY_UNAVAILABLE',
    describe: (err) => (err as GatehouseError).detail ?? (err as Error).message,
  });
}
