import { readFileSync } from 'node:fs';
import type { ConnectionOptions } from 'node:tls';
import { randomBytes } from 'node:crypto';
import {
  Attribute, Change, Client, ConstraintViolationError, NoSuchObjectError, ResultCodeError, SizeLimitExceededError,
  UnwillingToPerformError, escapeFilter, type Entry, type SearchOptions,
} from 'ldapts';
import type { Logger } from 'pino';
import type { Config } from '../config/load.js';
import { GatehouseError } from '../errors.js';
import { mapBindError } from './bind-errors.js';
import { BindPool } from './bind-pool.js';
import { parseLoginName, userFilter } from './login-name.js';

/** What Gatehouse knows about a user after the look-up; claims are resolved from this. */
export interface DirectoryUser {
  dn: string;
  sAMAccountName: string;
  userPrincipalName: string | undefined;
  objectGUID: Buffer;
  /** Set by Azure AD Connect (and our sync) when it anchors on ms-DS-ConsistencyGuid. */
  consistencyGuid: Buffer | undefined;
  displayName: string | undefined;
  givenName: string | undefined;
  surname: string | undefined;
  mail: string | undefined;
  userAccountControl: number;
  /** When the password expires (msDS-UserPasswordExpiryTimeComputed), undefined when it never does. */
  passwordExpires: Date | undefined;
  /** AD's own bad-password counter as the DC that answered the look-up has it (smart lockout's guard). */
  adCounter?: { badPwdCount: number; badPasswordTime: number };
}

/** The domain's password and lockout policy, read once at start-up. */
export interface DomainPolicy {
  /** AD's lockoutThreshold; 0 means AD never locks accounts. */
  lockoutThreshold: number;
  /** AD's lockOutObservationWindow ("reset account lockout counter after"), in minutes. */
  observationWindowMinutes: number | undefined;
}

const USER_ATTRIBUTES = [
  'sAMAccountName', 'userPrincipalName', 'objectGUID', 'mS-DS-ConsistencyGuid', 'displayName',
  'givenName', 'sn', 'mail', 'userAccountControl', 'msDS-UserPasswordExpiryTimeComputed', 'badPwdCount', 'badPasswordTime',
];
const BINARY_ATTRIBUTES = ['objectGUID', 'mS-DS-ConsistencyGuid'];

type DirectoryOptions = Config['directory'];

const UAC_ACCOUNTDISABLE = 0x2;

function str(v: Entry[string] | undefined): string | undefined {
  const x = Array.isArray(v) ? v[0] : v;
  if (x === undefined) return undefined;
  return Buffer.isBuffer(x) ? x.toString('utf8') : String(x);
}
function buf(v: Entry[string] | undefined): Buffer | undefined {
  const x = Array.isArray(v) ? v[0] : v;
  return Buffer.isBuffer(x) && x.length > 0 ? x : undefined;
}

function toUser(e: Entry): DirectoryUser {
  const objectGUID = buf(e.objectGUID);
  if (!objectGUID || objectGUID.length !== 16) throw new GatehouseError('GH_INTERNAL', { detail: `${e.dn} has no objectGUID` });
  return {
    dn: e.dn,
    sAMAccountName: str(e.sAMAccountName) ?? '',
    userPrincipalName: str(e.userPrincipalName),
    objectGUID,
    consistencyGuid: buf(e['mS-DS-ConsistencyGuid']),
    displayName: str(e.displayName),
    givenName: str(e.givenName),
    surname: str(e.sn),
    mail: str(e.mail),
    userAccountControl: Number(str(e.userAccountControl) ?? 0),
    passwordExpires: fileTimeToDate(str(e['msDS-UserPasswordExpiryTimeComputed'])),
    adCounter: {
      badPwdCount: Number(str(e.badPwdCount) ?? 0) || 0,
      badPasswordTime: fileTimeToDate(str(e.badPasswordTime))?.getTime() ?? 0,
    },
  };
}

const FILETIME_EPOCH_OFFSET = 116444736000000000n; // 100 ns intervals from 1601 to 1970
const FILETIME_NEVER = 0x7fffffffffffffffn;

/** AD FILETIME (100 ns since 1601) to Date; 0 and "never" give undefined. */
export function fileTimeToDate(v: string | undefined): Date | undefined {
  if (!v || !/^-?\d+$/.test(v)) return undefined;
  const t = BigInt(v);
  if (t <= 0n || t >= FILETIME_NEVER) return undefined;
  return new Date(Number((t - FILETIME_EPOCH_OFFSET) / 10000n));
}

/**
 * Active Directory over LDAP. One long-lived service-account connection serves look-ups (reused, not
 * opened per request); each password check binds on a connection of its own, which is then closed.
 * Domain controllers in `urls` are tried in order; the one that answered last is tried first.
 */
export class Directory {
  private readonly tlsOptions: ConnectionOptions;
  private lookup: { client: Client; url: string } | undefined;
  private connecting: Promise<{ client: Client; url: string }> | undefined;
  private preferred = 0;
  /** DCs that did not answer, and until when they are tried last. */
  private readonly downUntil = new Map<string, number>();
  private readonly binds: BindPool;

  constructor(
    private readonly opts: DirectoryOptions,
    private readonly log: Logger,
  ) {
    this.binds = new BindPool((url) => this.open(url), opts.bindConnections);
    this.tlsOptions = {
      minVersion: 'TLSv1.2',
      rejectUnauthorized: opts.tlsVerify,
      ...(opts.caFile ? { ca: readFileSync(opts.caFile) } : {}),
      ...(opts.tlsServerName ? { servername: opts.tlsServerName } : {}),
    };
  }

  /** DCs in the order to try them: the last good one first, the ones that recently failed last. */
  private order(now = Date.now()): string[] {
    const urls = this.opts.urls;
    const rotated = urls.map((_, i) => urls[(this.preferred + i) % urls.length]!);
    const isDown = (u: string) => (this.downUntil.get(u) ?? 0) > now;
    return [...rotated.filter((u) => !isDown(u)), ...rotated.filter(isDown)];
  }

  private markDown(url: string): void {
    this.downUntil.set(url, Date.now() + this.opts.retryDownAfterSeconds * 1000);
  }

  private markUp(url: string): void {
    this.downUntil.delete(url);
  }

  private async open(url: string): Promise<Client> {
    const client = new Client({
      url,
      timeout: this.opts.timeoutMs,
      connectTimeout: this.opts.timeoutMs,
      // ldapts switches to TLS whenever tlsOptions are given, even for ldap:// (StartTLS gets them below).
      ...(url.startsWith('ldaps://') ? { tlsOptions: this.tlsOptions } : {}),
      strictDN: false,
    });
    if (this.opts.startTls && url.startsWith('ldap://')) {
      try {
        await client.startTLS(this.tlsOptions);
      } catch (err) {
        await client.unbind().catch(() => {});
        throw err;
      }
    }
    return client;
  }

  private async connectLookup(): Promise<{ client: Client; url: string }> {
    const errors: string[] = [];
    for (const url of this.order()) {
      let client: Client | undefined;
      try {
        client = await this.open(url);
        await client.bind(this.opts.bindDn, this.opts.bindPassword!);
        this.preferred = this.opts.urls.indexOf(url);
        this.markUp(url);
        this.log.info({ dc: url }, 'directory: service account connected');
        return { client, url };
      } catch (err) {
        await client?.unbind().catch(() => {});
        if (!(err instanceof ResultCodeError)) this.markDown(url);
        const why = err instanceof ResultCodeError ? `service account bind refused: ${err.message}` : (err as Error).message;
        errors.push(`${url}: ${why}`);
        this.log.warn({ dc: url, err: why }, 'directory: domain controller not usable');
      }
    }
    throw new GatehouseError('GH_DIRECTORY_UNAVAILABLE', { detail: errors.join('; ') });
  }

  private async lookupClient(): Promise<{ client: Client; url: string }> {
    if (this.lookup?.client.isConnected) return this.lookup;
    this.connecting ??= this.connectLookup().finally(() => {
      this.connecting = undefined;
    });
    this.lookup = await this.connecting;
    return this.lookup;
  }

  private async dropLookup(): Promise<void> {
    const old = this.lookup;
    this.lookup = undefined;
    await old?.client.unbind().catch(() => {});
  }

  /**
   * Finds the user by what they typed. Returns undefined when no (or more than one) account matches.
   * @throws GH_AUTHN_FAILED for unusable names, GH_DIRECTORY_UNAVAILABLE when no DC answers.
   */
  async findUser(input: string): Promise<DirectoryUser | undefined> {
    const login = parseLoginName(input, this.opts.netbiosName);
    return this.searchOne(this.opts.baseDn, 'sub', userFilter(login, this.opts.userFilter));
  }

  /**
   * Reads a known user again (single sign-on): undefined when the account is gone, moved or disabled.
   * @throws GH_DIRECTORY_UNAVAILABLE
   */
  async findByDn(dn: string): Promise<DirectoryUser | undefined> {
    const user = await this.searchOne(dn, 'base', this.opts.userFilter);
    return user && (user.userAccountControl & UAC_ACCOUNTDISABLE) === 0 ? user : undefined;
  }

  private async searchOne(base: string, scope: 'sub' | 'base', filter: string): Promise<DirectoryUser | undefined> {
    // Retried on a fresh connection (and the next DC): an idle connection may have been closed by the DC.
    for (let attempt = 0; ; attempt++) {
      const { client, url } = await this.lookupClient();
      try {
        const { searchEntries } = await client.search(base, {
          scope,
          filter,
          attributes: USER_ATTRIBUTES,
          explicitBufferAttributes: BINARY_ATTRIBUTES,
          sizeLimit: 2,
        });
        if (searchEntries.length !== 1) {
          if (searchEntries.length > 1) this.log.warn({ filter }, 'directory: user name matches more than one account');
          return undefined;
        }
        return toUser(searchEntries[0]!);
      } catch (err) {
        if (err instanceof GatehouseError) throw err;
        if (err instanceof NoSuchObjectError) return undefined;
        if (err instanceof SizeLimitExceededError) {
          this.log.warn({ filter }, 'directory: user name matches more than one account');
          return undefined;
        }
        await this.dropLookup();
        if (!(err instanceof ResultCodeError)) this.markDown(url);
        this.log.warn({ dc: url, err: (err as Error).message }, 'directory: look-up failed');
        if (attempt >= this.opts.urls.length) {
          throw new GatehouseError('GH_DIRECTORY_UNAVAILABLE', { detail: `look-up failed: ${(err as Error).message}`, cause: err });
        }
        this.preferred = (this.opts.urls.indexOf(url) + 1) % this.opts.urls.length;
      }
    }
  }

  /**
   * Reads the named attributes of one entry, for claim rules that need more than the sign-in look-up
   * reads. Keys are the attribute names in lower case; an attribute the entry lacks is simply absent.
   * Attributes named in `binary` come back as Buffers, the others as strings.
   * @throws GH_DIRECTORY_UNAVAILABLE
   */
  async readAttributes(dn: string, names: readonly string[], binary: readonly string[] = []): Promise<Map<string, (string | Buffer)[]>> {
    const out = new Map<string, (string | Buffer)[]>();
    if (names.length === 0) return out;
    const entries = await this.lookupSearch(dn, {
      scope: 'base',
      filter: '(objectClass=*)',
      attributes: [...names],
      explicitBufferAttributes: [...binary],
      sizeLimit: 1,
    });
    const entry = entries[0];
    if (!entry) return out;
    const wanted = new Set(names.map((n) => n.toLowerCase()));
    for (const [key, raw] of Object.entries(entry)) {
      const name = key.toLowerCase();
      if (key === 'dn' || !wanted.has(name)) continue;
      const values = (Array.isArray(raw) ? raw : [raw]).filter((v) => (Buffer.isBuffer(v) ? v.length > 0 : String(v) !== ''));
      if (values.length) out.set(name, values.map((v) => (Buffer.isBuffer(v) ? v : String(v))));
    }
    return out;
  }

  /**
   * True when the entry `dn` is a member of `groupDn`, directly or through nested groups, by AD's
   * LDAP_MATCHING_RULE_IN_CHAIN (1.2.840.113556.1.4.1941), evaluated by the DC in one base search.
   * Membership through the primary group (primaryGroupID, usually Domain Users) is not in memberOf and
   * does not count.
   * @throws GH_DIRECTORY_UNAVAILABLE
   */
  async isMemberOf(dn: string, groupDn: string): Promise<boolean> {
    const entries = await this.lookupSearch(dn, {
      scope: 'base',
      filter: escapeFilter`(memberOf:1.2.840.113556.1.4.1941:=${groupDn})`,
      attributes: ['1.1'], // no attributes: only whether the entry matches
      sizeLimit: 1,
    });
    return entries.length === 1;
  }

  /**
   * A search on the service-account connection, retried on a fresh connection (and the next DC) like
   * the user look-up. A base that does not exist gives no entries.
   */
  private async lookupSearch(base: string, options: SearchOptions): Promise<Entry[]> {
    for (let attempt = 0; ; attempt++) {
      const { client, url } = await this.lookupClient();
      try {
        return (await client.search(base, options)).searchEntries;
      } catch (err) {
        if (err instanceof NoSuchObjectError) return [];
        await this.dropLookup();
        if (!(err instanceof ResultCodeError)) this.markDown(url);
        this.log.warn({ dc: url, err: (err as Error).message }, 'directory: search failed');
        if (attempt >= this.opts.urls.length) {
          throw new GatehouseError('GH_DIRECTORY_UNAVAILABLE', { detail: `search failed: ${(err as Error).message}`, cause: err });
        }
        this.preferred = (this.opts.urls.indexOf(url) + 1) % this.opts.urls.length;
      }
    }
  }

  /**
   * One simple bind on a pooled connection to `url`. A reused connection that fails without an LDAP answer
   * (the DC may have closed it meanwhile) is replaced by a new one once; a new one failing means the DC.
   * @throws what ldapts throws (ResultCodeError when the DC answered)
   */
  private async bindOn(url: string, dn: string, password: string): Promise<void> {
    for (let retried = false; ; retried = true) {
      const { client, reused } = await this.binds.acquire(url, retried);
      try {
        await client.bind(dn, password);
      } catch (err) {
        if (err instanceof ResultCodeError) {
          this.binds.release(url, client);
          throw err;
        }
        this.binds.discard(client);
        if (reused && !retried) continue;
        throw err;
      }
      this.binds.release(url, client);
      return;
    }
  }

  /**
   * Verifies the password with a simple bind as the user's DN (on a connection used only for binds).
   * @throws GH_PASSWORD_EMPTY, GH_AUTHN_FAILED, account-state errors, GH_DIRECTORY_UNAVAILABLE.
   */
  async verifyPassword(user: DirectoryUser, password: string): Promise<void> {
    // AD treats a simple bind with an empty password as an anonymous bind and reports success.
    if (!password) throw new GatehouseError('GH_PASSWORD_EMPTY', { detail: `empty password for ${user.dn}` });
    let lastErr: unknown;
    for (const url of this.order()) {
      try {
        await this.bindOn(url, user.dn, password);
        return;
      } catch (err) {
        const mapped = mapBindError(err, user.dn);
        if (mapped.code !== 'GH_DIRECTORY_UNAVAILABLE') throw mapped;
        this.markDown(url);
        lastErr = mapped;
        this.log.warn({ dc: url, err: (err as Error).message }, 'directory: user bind could not reach DC');
      }
    }
    throw lastErr;
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
   * Changes a password the way a user does (delete the old value, add the new one), so AD checks the old
   * password and applies its history, length and complexity rules. Done on the service account's own
   * encrypted connection because a user whose password has expired cannot bind to change it.
   * @throws GH_AUTHN_FAILED (old password wrong), GH_PASSWORD_REJECTED, GH_DIRECTORY_UNAVAILABLE
   */
  async changePassword(user: DirectoryUser, oldPassword: string, newPassword: string): Promise<void> {
    const quoted = (pw: string) => Buffer.from(`"${pw}"`, 'utf16le');
    const errors: string[] = [];
    for (const url of this.order()) {
      let client: Client | undefined;
      try {
        client = await this.open(url);
        if (url.startsWith('ldap://') && !this.opts.startTls) await client.startTLS(this.tlsOptions);
        await client.bind(this.opts.bindDn, this.opts.bindPassword!);
        await client.modify(user.dn, [
          new Change({ operation: 'delete', modification: new Attribute({ type: 'unicodePwd', values: [quoted(oldPassword)] }) }),
          new Change({ operation: 'add', modification: new Attribute({ type: 'unicodePwd', values: [quoted(newPassword)] }) }),
        ]);
        this.log.info({ user: user.dn }, 'directory: password changed');
        return;
      } catch (err) {
        if (err instanceof ResultCodeError) {
          // AD's Win32 codes: 0x56 ERROR_INVALID_PASSWORD (the old password is wrong), 0x52D
          // ERROR_PASSWORD_RESTRICTION (length, complexity, history or minimum age).
          if (/\b00000056\b/.test(err.message)) {
            throw new GatehouseError('GH_AUTHN_FAILED', { detail: `password change for ${user.dn}: old password wrong` });
          }
          if (err instanceof ConstraintViolationError || err instanceof UnwillingToPerformError) {
            throw new GatehouseError('GH_PASSWORD_REJECTED', { detail: `password change for ${user.dn} refused: ${err.message}` });
          }
        }
        errors.push(`${url}: ${(err as Error).message}`);
        this.log.warn({ dc: url, err: (err as Error).message }, 'directory: password change failed');
      } finally {
        await client?.unbind().catch(() => {});
      }
    }
    throw new GatehouseError('GH_DIRECTORY_UNAVAILABLE', { detail: `password change: ${errors.join('; ')}` });
  }

  /** The domain's lockout threshold, from the domain head named by the rootDSE. */
  async readDomainPolicy(): Promise<DomainPolicy> {
    const { client } = await this.lookupClient();
    const root = await client.search('', { scope: 'base', attributes: ['defaultNamingContext'] });
    const domain = str(root.searchEntries[0]?.defaultNamingContext);
    if (!domain) throw new GatehouseError('GH_DIRECTORY_UNAVAILABLE', { detail: 'rootDSE has no defaultNamingContext' });
    const { searchEntries } = await client.search(domain, { scope: 'base', attributes: ['lockoutThreshold', 'lockOutObservationWindow'] });
    // A negative count of 100 ns intervals.
    const window = Number(str(searchEntries[0]?.lockOutObservationWindow) ?? 0);
    return {
      lockoutThreshold: Number(str(searchEntries[0]?.lockoutThreshold) ?? 0),
      observationWindowMinutes: window < 0 ? Math.round(-window / 600_000_000) : undefined,
    };
  }

  /** For /adfs/probe?verbose: can the service account reach a DC? */
  async ping(): Promise<string> {
    const { url } = await this.lookupClient();
    return url;
  }

  async close(): Promise<void> {
    await this.binds.close();
    await this.dropLookup();
  }
}
