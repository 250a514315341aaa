import { createHash } from 'node:crypto';
import { immutableIdOf } from '../claims/immutable-id.js';
import type { AdEntry } from './ad-source.js';
import type { SyncSettings } from './settings.js';

/** The Graph user properties the sync owns, as they would be written. null = clear the property. */
export type GraphUserProps = Record<string, string | boolean | string[] | null>;

/** Graph property <- AD attribute, as Azure AD Connect's default rules (overridable by sync.attributeMap). */
export const DEFAULT_ATTRIBUTE_MAP: Readonly<Record<string, string>> = {
  userPrincipalName: 'userPrincipalName',
  displayName: 'displayName',
  givenName: 'givenName',
  surname: 'sn',
  mail: 'mail',
  mailNickname: 'mailNickname',
  jobTitle: 'title',
  department: 'department',
  companyName: 'company',
  officeLocation: 'physicalDeliveryOfficeName',
  businessPhones: 'telephoneNumber',
  mobilePhone: 'mobile',
  faxNumber: 'facsimileTelephoneNumber',
  streetAddress: 'streetAddress',
  city: 'l',
  state: 'st',
  postalCode: 'postalCode',
  country: 'co',
  employeeId: 'employeeID',
};

/** Graph properties that are collections. */
const MULTI = new Set(['businessPhones']);
const UAC_ACCOUNTDISABLE = 0x2;

export type MappedUser =
  | { kind: 'user'; guid: string; dn: string; immutableId: string; props: GraphUserProps }
  | { kind: 'skip'; guid: string; dn: string; immutableId: string; reason: string };

/** Turns AD entries into the Graph user the sync wants to exist. */
export class UserMapper {
  readonly attributeMap: Record<string, string>;
  private readonly domains: Set<string>;
  private readonly suffixMap: Map<string, string>;

  constructor(private readonly settings: Pick<SyncSettings, 'attributeMap' | 'domains' | 'upnSuffixMap' | 'usageLocation' | 'usageLocationAttribute'>) {
    const map: Record<string, string> = { ...DEFAULT_ATTRIBUTE_MAP };
    for (const [prop, attr] of Object.entries(settings.attributeMap)) {
      if (attr === '') delete map[prop];
      else map[prop] = attr;
    }
    if (!map.userPrincipalName) map.userPrincipalName = 'userPrincipalName';
    this.attributeMap = map;
    this.domains = new Set(settings.domains.map((d) => d.toLowerCase()));
    this.suffixMap = new Map(Object.entries(settings.upnSuffixMap).map(([k, v]) => [k.toLowerCase(), v]));
  }

  /** Every AD attribute the mapping reads. */
  attributes(): string[] {
    const attrs = new Set([...Object.values(this.attributeMap), 'cn', 'sAMAccountName', 'userAccountControl', 'uSNChanged', 'mS-DS-ConsistencyGuid']);
    if (this.settings.usageLocationAttribute) attrs.add(this.settings.usageLocationAttribute);
    return [...attrs];
  }

  /** The UPN on a federated domain, or why there is none. */
  federatedUpn(upn: string | undefined, attribute = 'userPrincipalName'): { upn: string } | { reason: string } {
    if (!upn) return { reason: `no ${attribute}` };
    const at = upn.lastIndexOf('@');
    if (at <= 0) return { reason: `${attribute} "${upn}" has no @suffix` };
    const suffix = upn.slice(at + 1).toLowerCase();
    if (this.domains.has(suffix)) return { upn };
    const mapped = this.suffixMap.get(suffix);
    if (mapped) return { upn: `${upn.slice(0, at)}@${mapped}` };
    return { reason: `UPN suffix "${suffix}" is not a federated domain (sync.domains) and has no rule in sync.upnSuffixMap` };
  }

  map(entry: AdEntry): MappedUser {
    const immutableId = immutableIdOf({ objectGUID: entry.objectGUID, consistencyGuid: entry.consistencyGuid });
    const base = { guid: entry.guid, dn: entry.dn, immutableId };
    const first = (attr: string) => entry.attrs.get(attr.toLowerCase())?.[0];
    const upn = this.federatedUpn(first(this.attributeMap.userPrincipalName!), this.attributeMap.userPrincipalName);
    if ('reason' in upn) return { kind: 'skip', ...base, reason: upn.reason };

    const props: GraphUserProps = {};
    for (const [prop, attr] of Object.entries(this.attributeMap)) {
      const values = entry.attrs.get(attr.toLowerCase()) ?? [];
      props[prop] = MULTI.has(prop) ? values : (values[0] ?? null);
    }
    props.userPrincipalName = upn.upn;
    // Graph requires displayName and mailNickname: fall back as Azure AD Connect does.
    props.displayName ??= first('cn') ?? first('sAMAccountName') ?? upn.upn;
    const nickname = (props.mailNickname as string | null) ?? first('sAMAccountName') ?? upn.upn.split('@')[0]!;
    props.mailNickname = nickname.replace(/[@()\\[\]";:<>,\s]/g, '') || 'user';
    props.accountEnabled = (Number(first('userAccountControl') ?? 0) & UAC_ACCOUNTDISABLE) === 0;
    props.onPremisesImmutableId = immutableId;
    const location = this.settings.usageLocationAttribute ? first(this.settings.usageLocationAttribute)?.toUpperCase() : undefined;
    const usageLocation = location && /^[A-Z]{2}$/.test(location) ? location : this.settings.usageLocation;
    if (usageLocation) props.usageLocation = usageLocation;
    return { kind: 'user', ...base, props };
  }
}

/** Stable hash of exported values: equal hashes mean nothing to write. */
export function hashProps(props: GraphUserProps): string {
  const sorted = Object.keys(props)
    .sort()
    .map((k) => [k, props[k]]);
  return createHash('sha256').update(JSON.stringify(sorted)).digest('base64url');
}

function same(a: GraphUserProps[string] | undefined, b: GraphUserProps[string] | undefined): boolean {
  if (Array.isArray(a) || Array.isArray(b)) return JSON.stringify(a ?? []) === JSON.stringify(b ?? []);
  return (a ?? null) === (b ?? null);
}

/** The properties of `desired` that differ from `previous` (what a PATCH must carry). */
export function changedProps(previous: GraphUserProps, desired: GraphUserProps): GraphUserProps {
  const out: GraphUserProps = {};
  for (const [k, v] of Object.entries(desired)) if (!same(previous[k], v)) out[k] = v;
  return out;
}

/** The body of POST /users: no nulls, no empty collections. */
export function createBody(props: GraphUserProps): GraphUserProps {
  const out: GraphUserProps = {};
  for (const [k, v] of Object.entries(props)) {
    if (v === null || (Array.isArray(v) && v.length === 0)) continue;
    out[k] = v;
  }
  return out;
}
