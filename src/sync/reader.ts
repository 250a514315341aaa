import { guidFilter, IN_CHAIN, ldapEscape, type AdEntry, type AdSource } from './ad-source.js';
import type { Logger } from 'pino';
import type { MappedUser, UserMapper } from './mapping.js';
import type { SyncSettings } from './settings.js';
import type { FullCycleStaging } from './staging.js';
import type { SyncState } from './state.js';

/** What AD says for an incremental cycle: the users to (re)consider and the synced users that are gone. */
export interface SourceView {
  kind: 'incremental';
  users: MappedUser[];
  gone: { guid: string; reason: string }[];
}

const GUIDS_PER_FILTER = 50;

/** The LDAP filter for "a user in scope" (OU is the search base). */
export function scopeFilter(settings: Pick<SyncSettings, 'scope'>): string {
  const group = settings.scope.group ? `(memberOf:${IN_CHAIN}:=${ldapEscape(settings.scope.group)})` : '';
  return `(&${settings.scope.filter}${group})`;
}

/** Reads AD for one cycle: everything in scope (full), or only what changed since `sinceUsn` (incremental). */
export class SourceReader {
  constructor(
    private readonly ad: AdSource,
    private readonly settings: SyncSettings,
    private readonly mapper: UserMapper,
    private readonly state: SyncState,
    private readonly namingContext: string,
    private readonly log?: Pick<Logger, 'warn'>,
  ) {}

  /** In-scope users matching `extra`, over every scope OU, each user once. */
  private async *inScope(extra: string, attributes: string[]): AsyncGenerator<AdEntry> {
    // Nested or overlapping OUs would return a user twice; with one OU there is nothing to remember.
    const seen = this.settings.ous.length > 1 ? new Set<string>() : undefined;
    for (const ou of this.settings.ous) {
      for await (const e of this.ad.search(ou, `(&${scopeFilter(this.settings)}${extra})`, attributes)) {
        if (seen?.has(e.guid)) continue;
        seen?.add(e.guid);
        yield e;
      }
    }
  }

  /**
   * Every user in scope, mapped, into the full cycle's staging tables page by page (the heap holds one
   * page at a time). Returns how many were staged.
   */
  async full(staging: FullCycleStaging): Promise<number> {
    let page: MappedUser[] = [];
    let n = 0;
    for await (const e of this.inScope('', this.mapper.attributes())) {
      page.push(this.mapper.map(e));
      if (page.length >= this.settings.pageSize) {
        staging.addUsers(page);
        n += page.length;
        page = [];
      }
    }
    staging.addUsers(page);
    return n + page.length;
  }

  async incremental(sinceUsn: number): Promise<SourceView> {
    const changed = `(uSNChanged>=${sinceUsn + 1})`;
    const byGuid = new Map<string, MappedUser>();
    for await (const e of this.inScope(changed, this.mapper.attributes())) byGuid.set(e.guid, this.mapper.map(e));

    // Users whose last write failed or was never confirmed are read again whatever their USN.
    const retry = this.state.retryGuids().filter((g) => !byGuid.has(g));
    for (let i = 0; i < retry.length; i += GUIDS_PER_FILTER) {
      const or = `(|${retry.slice(i, i + GUIDS_PER_FILTER).map(guidFilter).join('')})`;
      for await (const e of this.inScope(or, this.mapper.attributes())) byGuid.set(e.guid, this.mapper.map(e));
    }

    const gone = new Map<string, string>();
    const active = (guid: string) => {
      const o = this.state.get(guid);
      return !!o && o.status !== 'removed';
    };
    // Changed anywhere but not found in scope: moved out of the OUs, or no longer matches the filter.
    for await (const e of this.ad.search(this.namingContext, `(&(objectClass=user)${changed})`, ['objectGUID'])) {
      if (!byGuid.has(e.guid) && active(e.guid)) gone.set(e.guid, 'left the scope (moved or no longer matches the filter)');
    }
    for (const g of retry) if (!byGuid.has(g) && active(g) && !gone.has(g)) gone.set(g, 'left the scope');
    // Deleted in AD: tombstones keep their objectGUID and get a new uSNChanged. Only accounts that may list
    // CN=Deleted Objects see them (administrators, by default); for any other, the search answers nothing,
    // so deletions are found by the set difference: every objectGUID in scope against the synced users.
    if (await this.ad.seesTombstones(this.namingContext)) {
      for await (const e of this.ad.search(this.namingContext, `(&(isDeleted=TRUE)(objectClass=user)${changed})`, ['objectGUID'], { showDeleted: true })) {
        if (active(e.guid)) gone.set(e.guid, 'deleted in AD');
      }
    } else {
      this.log?.warn(
        { namingContext: this.namingContext },
        'sync: the service account cannot list CN=Deleted Objects, so each cycle reads every user in scope (objectGUID only) to find deletions; grant it List Contents and Read Property there (dsacls "CN=Deleted Objects,<domain>" /takeownership, then /G <DOMAIN>\\<account>:LCRP) to read only the changes',
      );
      const present = new Set<string>();
      for await (const e of this.inScope('', ['objectGUID'])) present.add(e.guid);
      for (const o of this.state.active()) {
        if (!present.has(o.guid) && !byGuid.has(o.guid) && !gone.has(o.guid)) gone.set(o.guid, 'deleted in AD or left the scope');
      }
    }
    // Group membership changes do not touch the user's uSNChanged: re-read members when the group (or a nested one) changed.
    const group = this.settings.scope.group;
    if (group) {
      const g = ldapEscape(group);
      let groupChanged = false;
      for await (const _ of this.ad.search(this.namingContext, `(&(objectClass=group)${changed}(|(distinguishedName=${g})(memberOf:${IN_CHAIN}:=${g})))`, ['objectGUID'])) {
        groupChanged = true;
      }
      if (groupChanged) {
        const members = new Set<string>();
        for await (const e of this.inScope('', ['objectGUID'])) members.add(e.guid);
        for (const o of this.state.active()) {
          if (!members.has(o.guid) && !byGuid.has(o.guid)) gone.set(o.guid, `no longer a member of ${group}`);
        }
        const joined = [...members].filter((m) => !byGuid.has(m) && !active(m));
        for (let i = 0; i < joined.length; i += GUIDS_PER_FILTER) {
          const or = `(|${joined.slice(i, i + GUIDS_PER_FILTER).map(guidFilter).join('')})`;
          for await (const e of this.inScope(or, this.mapper.attributes())) byGuid.set(e.guid, this.mapper.map(e));
        }
      }
    }
    const users = [...byGuid.values()];
    for (const u of users) if (u.kind === 'skip' && active(u.guid)) gone.set(u.guid, u.reason);
    return { kind: 'incremental', users, gone: [...gone].map(([guid, reason]) => ({ guid, reason })) };
  }
}
