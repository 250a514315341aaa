import type { FastifyBaseLogger } from 'fastify';
import type { Directory, DirectoryUser } from '../directory/directory.js';
import { GatehouseError } from '../errors.js';
import type { SmartLockout } from '../lockout/lockout.js';

export interface Attempt {
  username: string;
  password: string;
  /** Client addresses (see clientAddresses). */
  addresses: string[];
  /** For the audit line: which endpoint and relying party. */
  protocol: string;
  realm?: string | undefined;
}

/**
 * The one password check every sign-in path uses (browser, WS-Trust, SAML): look the account up, ask smart
 * lockout, bind as the user, record the outcome, write one audit line.
 * @throws GH_PASSWORD_EMPTY, GH_AUTHN_FAILED, GH_EXTRANET_LOCKOUT, AD account-state errors, GH_DIRECTORY_UNAVAILABLE
 */
export class PasswordVerifier {
  constructor(
    private readonly directory: Directory,
    private readonly lockout: SmartLockout,
  ) {}

  /** Checks the password; returns the account on success. */
  async verify(attempt: Attempt, log: FastifyBaseLogger): Promise<DirectoryUser> {
    return this.guarded('signin_attempt', attempt, log, (user) => this.directory.verifyPassword(user, attempt.password));
  }

  /**
   * Changes the password (the old one is `attempt.password`), under the same lockout, since a wrong old
   * password is a password guess like any other. AD applies its own history and complexity rules.
   */
  async changePassword(attempt: Attempt, newPassword: string, log: FastifyBaseLogger): Promise<DirectoryUser> {
    return this.guarded('password_change', attempt, log, (user) => this.directory.changePassword(user, attempt.password, newPassword));
  }

  private async guarded(
    event: string,
    attempt: Attempt,
    log: FastifyBaseLogger,
    check: (user: DirectoryUser) => Promise<void>,
  ): Promise<DirectoryUser> {
    const audit = { event, username: attempt.username, addresses: attempt.addresses, protocol: attempt.protocol, realm: attempt.realm };
    let user: DirectoryUser | undefined;
    try {
      // AD would take an empty password as an anonymous bind and say yes.
      if (!attempt.password) throw new GatehouseError('GH_PASSWORD_EMPTY', { detail: 'empty password' });
      user = await this.directory.findUser(attempt.username);
      if (!user) {
        await this.directory.dummyBind(attempt.password);
        throw new GatehouseError('GH_AUTHN_FAILED', { detail: 'no such user' });
      }
      const decision = this.lockout.check(user, attempt.addresses, log);
      if (decision.refuse) throw new GatehouseError('GH_EXTRANET_LOCKOUT', { detail: `smart lockout (${decision.location} location)` });
      try {
        await check(user);
      } catch (err) {
        if (err instanceof GatehouseError && err.code === 'GH_AUTHN_FAILED') this.lockout.failed(user, decision.location);
        throw err;
      }
      this.lockout.succeeded(user, attempt.addresses, decision.location);
      log.info({ ...audit, user: user.userPrincipalName ?? user.sAMAccountName, outcome: 'success' }, `${event}: accepted`);
      return user;
    } catch (err) {
      const e = err instanceof GatehouseError ? err : new GatehouseError('GH_INTERNAL', { detail: String(err), cause: err });
      log.warn({ ...audit, user: user?.userPrincipalName, outcome: 'failure', reason: e.code, detail: e.detail }, `${event}: refused`);
      throw err;
    }
  }
}
