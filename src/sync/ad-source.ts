import { Control, type Client, EqualityFilter, OrFilter, type Entry, type Filter } from 'ldapts';
import type { Logger } from 'pino';
import type { Config } from '../config/load.js';
import { connectServiceAccount } from '../directory/connection.js';
import { DcFailover } from '../directory/failover.js';
import { directoryTlsOptions } from '../directory/tls.js';
import { BINARY_ATTRIBUTES } from '../directory/user.js';
import type { GatehouseError } from '../errors.js';

/** LDAP_SERVER_SHOW_DELETED_OID: lets a search see tombstones (deleted objects keep their objectGUID). */
const SHOW_DELETED = '1.2.840.113556.1.4.417';
/** LDAP_MATCHING_RULE_IN_CHAIN: memberOf through nested groups. */
export const IN_CHAIN = '1.2.840.113556.1.4.1941';

/** One directory object as the sync sees it: attribute names in lower case, values as arrays. */
export interface AdEntry {
  dn: string;
  /** objectGUID as hex, the key of the sync state (it survives renames, moves and deletion). */
  guid: string;
  objectGUID: Buffer;
  consistencyGuid: Buffer | undefined;
  attrs: Map<string, string[]>;
}

export interface RootDse {
  highestCommittedUSN: number;
  /** Identifies the DC: USNs are per DC, so a high-water mark is only valid on the DC that produced it. */
  dsServiceName: string;
  defaultNamingContext: string;
}

/** RFC 4515 escaping for an assertion value. */
export function ldapEscape(value: string): string {
  return value.replace(/[\\*()\0]/g, (c) => `\\${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

/**
 * (|(objectGUID=...)...) for GUIDs given as hex, built as filter objects with the raw bytes: ldapts parses
 * a \xx escape in a filter string into one UTF-16 character and sends it UTF-8 encoded, which turns every
 * byte from 0x80 up into two bytes, so such a string filter matches no GUID that has one (most of them).
 */
export function guidsFilter(hexes: string[]): Filter {
  return new OrFilter({ filters: hexes.map((hex) => new EqualityFilter({ attribute: 'objectGUID', value: Buffer.from(hex, 'hex') })) });
}

function toEntry(e: Entry): AdEntry | undefined {
  const attrs = new Map<string, string[]>();
  let objectGUID: Buffer | undefined;
  let consistencyGuid: Buffer | undefined;
  for (const [k, v] of Object.entries(e)) {
    if (k === 'dn') continue;
    const key = k.toLowerCase();
    const values = Array.isArray(v) ? v : [v];
    if (key === 'objectguid') objectGUID = values[0] as Buffer;
    else if (key === 'ms-ds-consistencyguid') consistencyGuid = (values[0] as Buffer | undefined)?.length ? (values[0] as Buffer) : undefined;
    else attrs.set(key, values.map((x) => (Buffer.isBuffer(x) ? x.toString('utf8') : String(x))));
  }
  if (!objectGUID || objectGUID.length !== 16) return undefined;
  return { dn: e.dn, guid: objectGUID.toString('hex'), objectGUID, consistencyGuid, attrs };
}

/**
 * Read-only access to AD for the sync: one service-account connection, paged searches only (never one
 * unbounded result), and a count of the entries read for the summary. It connects as the sign-in server's
 * Directory does (src/directory/connection.ts, failover.ts, tls.ts); only its searches are its own.
 */
export class AdSource {
  entriesRead = 0;

  private constructor(
    private readonly client: Client,
    readonly url: string,
    private readonly pageSize: number,
  ) {}

  /** The first DC of `directory.urls` that accepts the service account, with the directory's TLS settings. */
  static async connect(dir: Config['directory'], pageSize: number, log: Logger): Promise<AdSource> {
    const open = {
      tls: directoryTlsOptions(dir),
      timeoutMs: dir.timeoutMs,
      operationTimeoutMs: Math.max(dir.timeoutMs, 30_000), // big pages take longer than a sign-in look-up
      startTls: dir.startTls,
    };
    const dcs = new DcFailover(dir.urls, dir.retryDownAfterSeconds, log);
    try {
      return await dcs.run({
        what: 'sync: service account bind',
        attempt: async (url) => {
          const client = await connectServiceAccount(url, dir, open);
          log.debug({ dc: url }, 'sync: directory connected');
          return new AdSource(client, url, pageSize);
        },
      });
    } catch (err) {
      throw new Error(`no domain controller usable: ${(err as GatehouseError).detail ?? (err as Error).message}`);
    }
  }

  async rootDse(): Promise<RootDse> {
    const { searchEntries } = await this.client.search('', {
      scope: 'base',
      filter: '(objectClass=*)',
      attributes: ['highestCommittedUSN', 'dsServiceName', 'defaultNamingContext'],
    });
    const e = searchEntries[0];
    const one = (k: string) => String([e?.[k]].flat()[0] ?? '');
    const usn = Number(one('highestCommittedUSN'));
    if (!e || !Number.isSafeInteger(usn)) throw new Error('the DC did not return highestCommittedUSN in its rootDSE');
    return { highestCommittedUSN: usn, dsServiceName: one('dsServiceName'), defaultNamingContext: one('defaultNamingContext') };
  }

  /**
   * Whether this account can list any tombstone in CN=Deleted Objects. Only administrators can by default
   * (in Windows AD and Samba alike); without it, a "show deleted" search answers nothing instead of an error.
   * No tombstone at all reads the same as no access: the caller must then find deletions another way.
   */
  async seesTombstones(namingContext: string): Promise<boolean> {
    try {
      const { searchEntries } = await this.client.search(
        `CN=Deleted Objects,${namingContext}`,
        { scope: 'one', filter: '(isDeleted=TRUE)', attributes: ['objectGUID'], explicitBufferAttributes: BINARY_ATTRIBUTES, sizeLimit: 1 },
        [new Control(SHOW_DELETED, { critical: true })],
      );
      this.entriesRead += searchEntries.length;
      return searchEntries.length > 0;
    } catch (err) {
      if ((err as Error).name === 'SizeLimitExceededError') return true;
      if ((err as Error).name === 'NoSuchObjectError' || (err as Error).name === 'InsufficientAccessError') return false;
      throw err;
    }
  }

  /** Paged subtree search; yields entries page by page so memory stays bounded by the caller. */
  async *search(base: string, filter: string | Filter, attributes: string[], opts: { showDeleted?: boolean } = {}): AsyncGenerator<AdEntry> {
    const controls = opts.showDeleted ? [new Control(SHOW_DELETED, { critical: true })] : [];
    const pages = this.client.searchPaginated(
      base,
      {
        scope: 'sub',
        filter,
        attributes: [...new Set(['objectGUID', ...attributes])],
        explicitBufferAttributes: BINARY_ATTRIBUTES,
        paged: { pageSize: this.pageSize },
      },
      controls,
    );
    for await (const page of pages) {
      for (const raw of page.searchEntries) {
        this.entriesRead++;
        const entry = toEntry(raw);
        if (entry) yield entry;
      }
    }
  }

  async close(): Promise<void> {
    await this.client.unbind().catch(() => {});
  }
}
