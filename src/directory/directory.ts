import { randomBytes } from 'node:crypto';
import { ResultCodeError } from 'ldapts';
import type { Logger } from 'pino';
import { bindOn, verifyPassword } from './bind.js';
import { BindPool } from './bind-pool.js';
import { openConnection, type DirectoryOptions, type OpenOptions } from './connection.js';
import { DcFailover } from './failover.js';
import { Lookup } from './lookup.js';
import { changePassword } from './password-change.js';
import { readDomainPolicy, type DomainPolicy } from './policy.js';
import { ServiceConnection } from './service-connection.js';
import { directoryTlsOptions } from './tls.js';
import type { DirectoryUser } from './user.js';
import { dcUp, refreshOnScrape } from '../metrics/metrics.js';

export type { DirectoryUser } from './user.js';
export type { DomainPolicy } from './policy.js';

/**
 * Active Directory over LDAP, for the sign-in server and the command line: the one way in, put together
 * from the pieces beside this file. One long-lived service-account connection serves look-ups
 * (service-connection.ts, lookup.ts); password checks bind on pooled connections of their own (bind.ts,
 * bind-pool.ts); a password change uses a service-account connection of its own (password-change.ts).
 * Domain controllers in `urls` are tried in order, the one that answered last first (failover.ts).
 */
export class Directory {
  private readonly open: OpenOptions;
  private readonly dcs: DcFailover;
  private readonly service: ServiceConnection;
  private readonly lookup: Lookup;
  private readonly binds: BindPool;

  constructor(
    private readonly opts: DirectoryOptions,
    private readonly log: Logger,
  ) {
    this.open = { tls: directoryTlsOptions(opts), timeoutMs: opts.timeoutMs, startTls: opts.startTls };
    this.dcs = new DcFailover(opts.urls, opts.retryDownAfterSeconds, log);
    this.service = new ServiceConnection(opts, this.open, this.dcs, log);
    this.lookup = new Lookup(this.service, opts, log);
    this.binds = new BindPool((url) => openConnection(url, this.open), opts.bindConnections);
    this.stopMetrics = refreshOnScrape(dcUp, () => this.checkQuietDcs());
  }

  private readonly stopMetrics: () => void;

  /**
   * For the DC-up metric at scrape time: a DC that nothing used for a minute (a second DC while the first
   * answers, one marked down) is asked for its rootDSE, anonymously, so its state is never a guess.
   */
  private async checkQuietDcs(now = Date.now()): Promise<void> {
    await Promise.all(
      this.opts.urls
        .filter((url) => now - (this.dcs.lastSeen.get(url) ?? 0) > 60_000)
        .map(async (url) => {
          const client = await openConnection(url, { ...this.open, timeoutMs: Math.min(this.open.timeoutMs, 3000) }).catch(() => undefined);
          try {
            if (!client) throw new Error('no connection');
            await client.search('', { scope: 'base', attributes: ['currentTime'] });
            this.dcs.seen(url, true);
          } catch (err) {
            this.dcs.seen(url, err instanceof ResultCodeError);
          } finally {
            await client?.unbind().catch(() => {});
          }
        }),
    );
  }

  /** DCs in the order to try them: the last good one first, the ones that recently failed last. */
  private order(): string[] {
    return this.dcs.order();
  }

  private bindOn(url: string, dn: string, password: string): Promise<void> {
    return bindOn(this.binds, url, dn, password);
  }

  /**
   * Finds the user by what they typed. Returns undefined when no (or more than one) account matches.
   * @throws GH_AUTHN_FAILED for unusable names, GH_DIRECTORY_UNAVAILABLE when no DC answers.
   */
  findUser(input: string): Promise<DirectoryUser | undefined> {
    return this.lookup.findUser(input);
  }

  /** A domain-joined computer by its account name (`WS01$`); see Lookup.findComputer. @throws GH_AUTHN_FAILED, GH_DIRECTORY_UNAVAILABLE */
  findComputer(sam: string): Promise<DirectoryUser | undefined> {
    return this.lookup.findComputer(sam);
  }

  /**
   * Reads a known user again (single sign-on): undefined when the account is gone, moved or disabled.
   * @throws GH_DIRECTORY_UNAVAILABLE
   */
  findByDn(dn: string): Promise<DirectoryUser | undefined> {
    return this.lookup.findByDn(dn);
  }

  /** The named attributes of one entry, by lower-case name (see Lookup.readAttributes). @throws GH_DIRECTORY_UNAVAILABLE */
  readAttributes(dn: string, names: readonly string[], binary: readonly string[] = []): Promise<Map<string, (string | Buffer)[]>> {
    return this.lookup.readAttributes(dn, names, binary);
  }

  /** Membership of `groupDn`, nested groups included (see Lookup.isMemberOf). @throws GH_DIRECTORY_UNAVAILABLE */
  isMemberOf(dn: string, groupDn: string): Promise<boolean> {
    return this.lookup.isMemberOf(dn, groupDn);
  }

  /**
   * Verifies the password with a simple bind as the user's DN (on a connection used only for binds).
   * @throws GH_PASSWORD_EMPTY, GH_AUTHN_FAILED, account-state errors, GH_DIRECTORY_UNAVAILABLE.
   */
  verifyPassword(user: DirectoryUser, password: string): Promise<void> {
    return verifyPassword(this.dcs, this.binds, user, password);
  }

  /**
   * A bind that cannot succeed, for names that match no account: the answer then takes as long as a
   * wrong password does (same kind of connection, same DC work), so response times do not tell which
   * user names exist.
   */
  async dummyBind(password: string): Promise<void> {
    const dn = `CN=gatehouse-no-such-user-${randomBytes(8).toString('hex')},${this.opts.baseDn}`;
    for (const url of this.order()) {
      try {
        await this.bindOn(url, dn, password || 'x');
        return;
      } catch (err) {
        if (err instanceof ResultCodeError) return;
      }
    }
  }

  /**
   * Changes a password as the user would, checked by AD against the old one and its rules.
   * @throws GH_AUTHN_FAILED (old password wrong), GH_PASSWORD_REJECTED, GH_DIRECTORY_UNAVAILABLE
   */
  changePassword(user: DirectoryUser, oldPassword: string, newPassword: string): Promise<void> {
    return changePassword(this.dcs, this.opts, this.open, this.log, user, oldPassword, newPassword);
  }

  /** The domain's lockout threshold, from the domain head named by the rootDSE. */
  readDomainPolicy(): Promise<DomainPolicy> {
    return readDomainPolicy(this.service);
  }

  /** For /adfs/probe?verbose: can the service account reach a DC? */
  async ping(): Promise<string> {
    return (await this.service.get()).url;
  }

  async close(): Promise<void> {
    this.stopMetrics();
    await this.binds.close();
    await this.service.drop();
  }
}
