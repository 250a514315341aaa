import type { Directory, DirectoryUser } from '../directory/directory.js';
import { BoundedMap } from '../state/bounded-map.js';

const MAX_ENTRIES = 10_000;

/**
 * Single sign-on re-reads the account from AD before each token, so a disabled or deleted account stops
 * getting tokens. Within `ttlSeconds` the last answer is reused: a user clicking through several
 * applications costs one LDAP read, not one per token. 0 reads AD every time.
 */
export class AccountCache {
  private readonly entries = new BoundedMap<string, { user: DirectoryUser | undefined; until: number }>(MAX_ENTRIES);

  constructor(
    private readonly directory: Directory,
    private readonly ttlSeconds: number,
  ) {}

  async findByDn(dn: string, now = Date.now()): Promise<DirectoryUser | undefined> {
    const key = dn.toLowerCase();
    const hit = this.entries.get(key);
    if (hit && hit.until > now) return hit.user;
    const user = await this.directory.findByDn(dn);
    if (this.ttlSeconds > 0) this.entries.set(key, { user, until: now + this.ttlSeconds * 1000 });
    return user;
  }

  /** After a password check the account is known to be usable right now. */
  remember(user: DirectoryUser, now = Date.now()): void {
    if (this.ttlSeconds > 0) this.entries.set(user.dn.toLowerCase(), { user, until: now + this.ttlSeconds * 1000 });
  }
}
