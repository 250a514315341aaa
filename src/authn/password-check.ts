import type { FastifyBaseLogger } from 'fastify';
import type { Directory, DirectoryUser } from '../directory/directory.js';
import { GatehouseError } from '../errors.js';
import type { SmartLockout } from '../lockout/lockout.js';
import type { Outcome } from '../lockout/smart-lockout.js';
import { DecoyTiming, type TimedOperation } from './decoy-timing.js';
import type { ActivityRecorder } from '../activity/recorder.js';
import { outcomeOf, passwordChecks } from '../metrics/metrics.js';

export interface Attempt {
  username: string;
  password: string;
  /** Client addresses (see clientAddresses). */
  addresses: string[];
  /** For the audit line: which endpoint and relying party. */
  protocol: string;
  realm?: string | undefined;
  /** The request's ID, kept with the event for the activity view. */
  correlationId?: string | undefined;
  /** The rate limits' verdict when the route deferred it (request.credentialAllowance): awaited before anything else counts. */
  allowance?: Promise<void> | undefined;
}

/**
 * The one password check every sign-in path uses (browser, WS-Trust, SAML): look the account up, reserve the
 * attempt with smart lockout, bind as the user, settle the reservation, write one audit line. Answers that
 * never reach AD for a real account take as long as those that do (DecoyTiming), and say the same.
 * @throws GH_PASSWORD_EMPTY, GH_AUTHN_FAILED, GH_EXTRANET_LOCKOUT, AD account-state errors, GH_DIRECTORY_UNAVAILABLE
 */
export class PasswordVerifier {
  constructor(
    private readonly directory: Directory,
    private readonly lockout: SmartLockout,
    /** Where the attempts are kept for the activity view (none: only the log line). */
    private readonly activity?: ActivityRecorder,
    private readonly timing = new DecoyTiming(),
  ) {}

  /** Checks the password; returns the account on success. */
  async verify(attempt: Attempt, log: FastifyBaseLogger): Promise<DirectoryUser> {
    return this.guarded('signin_attempt', 'bind', attempt, log, (user) => this.directory.verifyPassword(user, attempt.password));
  }

  /**
   * Changes the password (the old one is `attempt.password`), under the same lockout, since a wrong old
   * password is a password guess like any other. AD applies its own history and complexity rules.
   */
  async changePassword(attempt: Attempt, newPassword: string, log: FastifyBaseLogger): Promise<DirectoryUser> {
    return this.guarded('password_change', 'password-change', attempt, log, (user) => this.directory.changePassword(user, attempt.password, newPassword));
  }

  private async guarded(
    event: 'signin_attempt' | 'password_change',
    op: TimedOperation,
    attempt: Attempt,
    log: FastifyBaseLogger,
    check: (user: DirectoryUser) => Promise<void>,
  ): Promise<DirectoryUser> {
    const started = performance.now();
    const audit = { event, username: attempt.username, addresses: attempt.addresses, protocol: attempt.protocol, realm: attempt.realm };
    // The look-up runs while a deferred rate-limit verdict is on its way (in a farm, a Redis round trip
    // that then costs no time of its own); a refusal still comes before any reservation, bind or audit line.
    const lookup = attempt.password ? this.directory.findUser(attempt.username) : undefined;
    lookup?.catch(() => {}); // awaited below, unless the rate limits refuse first
    if (lookup) this.lockout.prefetch(attempt.username);
    if (attempt.allowance) await attempt.allowance;
    let user: DirectoryUser | undefined;
    try {
      // AD would take an empty password as an anonymous bind and say yes.
      if (!lookup) throw new GatehouseError('GH_PASSWORD_EMPTY', { detail: 'empty password' });
      user = await lookup;
      if (!user) {
        await this.directory.dummyBind(attempt.password);
        await this.timing.pad(op, started);
        throw new GatehouseError('GH_AUTHN_FAILED', { detail: 'no such user' });
      }
      const decision = await this.lockout.admit(user, attempt.addresses, log, attempt.username);
      if (decision.refuse) {
        await this.timing.pad(op, started);
        throw new GatehouseError('GH_EXTRANET_LOCKOUT', { detail: `smart lockout (${decision.location} location)` });
      }
      let outcome: Outcome = 'neither';
      try {
        await check(user);
        outcome = 'success';
      } catch (err) {
        if (err instanceof GatehouseError && err.code === 'GH_AUTHN_FAILED') {
          outcome = 'bad-password';
          this.timing.record(op, performance.now() - started);
        } else if (err instanceof GatehouseError && err.code === 'GH_ACCOUNT_LOCKED' && decision.location === 'unknown') {
          // AD answers "locked" whatever the password: to an unknown location that would confirm the account
          // exists (and is under attack), so it hears what any wrong password gets. The user's own
          // familiar locations are told the truth.
          await this.timing.pad(op, started);
          throw new GatehouseError('GH_AUTHN_FAILED', { detail: 'account locked in AD; answered as a wrong password to an unknown location', cause: err });
        }
        throw err;
      } finally {
        // Not awaited: the answer need not wait for the store (in a farm, a round trip to Redis). Until the
        // settlement lands the attempt counts as in flight, which only ever makes the next one stricter.
        const account = user.userPrincipalName ?? user.sAMAccountName;
        this.lockout.settle(user, decision, outcome, attempt.addresses).catch((err: unknown) =>
          log.error({ event: 'lockout_settle_failed', user: account, err }, 'smart lockout: the attempt could not be settled; it counts as in flight until it expires'),
        );
      }
      const name = user.userPrincipalName ?? user.sAMAccountName;
      log.info({ ...audit, user: name, outcome: 'success' }, `${event}: accepted`);
      passwordChecks.inc({ kind: event, outcome: 'success' });
      this.activity?.record({ time: Date.now(), kind: event, user: name, outcome: 'success', protocol: attempt.protocol, realm: attempt.realm, addresses: attempt.addresses, correlationId: attempt.correlationId });
      return user;
    } catch (err) {
      const e = err instanceof GatehouseError ? err : new GatehouseError('GH_INTERNAL', { detail: String(err), cause: err });
      log.warn({ ...audit, user: user?.userPrincipalName, outcome: 'failure', reason: e.code, detail: e.detail }, `${event}: refused`);
      passwordChecks.inc({ kind: event, outcome: outcomeOf(e.code) });
      this.activity?.record({
        time: Date.now(), kind: event, user: (user ? user.userPrincipalName ?? user.sAMAccountName : attempt.username) || '(empty)', outcome: 'failure', reason: e.code,
        protocol: attempt.protocol, realm: attempt.realm, addresses: attempt.addresses, correlationId: attempt.correlationId, ...(user ? {} : { noAccount: true }),
      });
      throw err;
    }
  }
}
