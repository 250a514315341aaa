import { NoSuchObjectError, SizeLimitExceededError, escapeFilter, type Client, type Entry, type SearchOptions } from 'ldapts';
import type { Logger } from 'pino';
import type { DirectoryOptions } from './connection.js';
import { parseLoginName, userFilter } from './login-name.js';
import type { ServiceConnection } from './service-connection.js';
import { GatehouseError } from '../errors.js';
import { BINARY_ATTRIBUTES, isDisabled, str, toUser, userAttributes, type DirectoryUser } from './user.js';
import { sidToString } from './sid.js';

/** The RID of Domain Computers, the primary group of workstations and member servers (ADFS's "-515$" rule). */
const DOMAIN_COMPUTERS_RID = 515;

/** What the computer look-up reads: a user's attributes, the SID and the primary group. */
const USER_ATTRIBUTES_FOR_COMPUTERS = [...userAttributes(undefined), 'objectSid', 'primaryGroupID'];

/** More than one entry matched a look-up that must find one. */
const AMBIGUOUS: unique symbol = Symbol('ambiguous');

/** Look-ups on the service-account connection. */
export class Lookup {
  constructor(
    private readonly service: ServiceConnection,
    private readonly dir: DirectoryOptions,
    private readonly log: Logger,
  ) {}

  /**
   * Finds the user by what they typed: undefined when no account matches.
   * @throws GH_AUTHN_FAILED for unusable names, GH_LOGIN_AMBIGUOUS when more than one account answers to
   *   the name (two users with the same mail), GH_DIRECTORY_UNAVAILABLE when no DC answers.
   */
  async findUser(input: string): Promise<DirectoryUser | undefined> {
    const login = parseLoginName(input, this.dir.netbiosName);
    const found = await this.searchOne(this.dir.baseDn, 'sub', userFilter(login, this.dir.userFilter, this.dir.loginAttribute));
    if (found === AMBIGUOUS) {
      throw new GatehouseError('GH_LOGIN_AMBIGUOUS', { detail: `more than one account answers to ${JSON.stringify(input.trim())} (${this.dir.loginAttribute ?? 'userPrincipalName'} or sAMAccountName)` });
    }
    return found;
  }

  /**
   * The computer account of a Kerberos machine principal (`WS01$`), by its sAMAccountName, found only
   * when it is a domain-joined workstation or member server (primary group Domain Computers, as ADFS's
   * device rules require): undefined when there is no such computer.
   * @throws GH_AUTHN_FAILED for a computer of another kind (a domain controller), GH_DIRECTORY_UNAVAILABLE
   */
  async findComputer(sam: string): Promise<DirectoryUser | undefined> {
    const entries = await this.search(this.dir.baseDn, {
      scope: 'sub',
      filter: escapeFilter`(&(objectCategory=computer)(sAMAccountName=${sam}))`,
      attributes: [...USER_ATTRIBUTES_FOR_COMPUTERS],
      explicitBufferAttributes: [...BINARY_ATTRIBUTES, 'objectSid'],
      sizeLimit: 2,
    });
    if (entries.length !== 1) return undefined;
    const entry = entries[0]!;
    const primaryGroup = Number(str(entry.primaryGroupID) ?? 0);
    if (primaryGroup !== DOMAIN_COMPUTERS_RID) {
      throw new GatehouseError('GH_AUTHN_FAILED', { detail: `${sam} is a computer whose primary group is ${primaryGroup}, not Domain Computers (515)` });
    }
    const sid = entry.objectSid;
    const raw = Array.isArray(sid) ? sid[0] : sid;
    if (!Buffer.isBuffer(raw)) throw new GatehouseError('GH_AUTHN_FAILED', { detail: `${sam} has no objectSid` });
    return { ...toUser(entry), computer: { sid: sidToString(raw) } };
  }

  /** A known user read again: undefined when the account is gone, moved or disabled. @throws GH_DIRECTORY_UNAVAILABLE */
  async findByDn(dn: string): Promise<DirectoryUser | undefined> {
    const user = await this.searchOne(dn, 'base', this.dir.userFilter);
    return user && user !== AMBIGUOUS && !isDisabled(user) ? user : undefined;
  }

  private searchOne(base: string, scope: 'sub' | 'base', filter: string): Promise<DirectoryUser | typeof AMBIGUOUS | undefined> {
    const ambiguous = (): typeof AMBIGUOUS => {
      this.log.warn({ filter }, 'directory: user name matches more than one account');
      return AMBIGUOUS;
    };
    return this.service.use('look-up', async (client: Client) => {
      try {
        const { searchEntries } = await client.search(base, {
          scope,
          filter,
          attributes: userAttributes(this.dir.loginAttribute),
          explicitBufferAttributes: BINARY_ATTRIBUTES,
          sizeLimit: 2,
        });
        if (searchEntries.length > 1) return ambiguous();
        return searchEntries.length === 1 ? toUser(searchEntries[0]!, this.dir.loginAttribute) : undefined;
      } catch (err) {
        if (err instanceof NoSuchObjectError) return undefined;
        if (err instanceof SizeLimitExceededError) return ambiguous();
        throw err;
      }
    });
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
    const entries = await this.search(dn, {
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
    const entries = await this.search(dn, {
      scope: 'base',
      filter: escapeFilter`(memberOf:1.2.840.113556.1.4.1941:=${groupDn})`,
      attributes: ['1.1'], // no attributes: only whether the entry matches
      sizeLimit: 1,
    });
    return entries.length === 1;
  }

  /** A search whose base may not exist (then no entries). @throws GH_DIRECTORY_UNAVAILABLE */
  private search(base: string, options: SearchOptions): Promise<Entry[]> {
    return this.service.use('search', async (client) => {
      try {
        return (await client.search(base, options)).searchEntries;
      } catch (err) {
        if (err instanceof NoSuchObjectError) return [];
        throw err;
      }
    });
  }
}
