import type { RelyingPartyConfig } from '../config/schema/relying-party.js';
import type { Directory, DirectoryUser } from '../directory/directory.js';
import { signInNameOf } from '../directory/user.js';
import { immutableIdOf } from './immutable-id.js';
import { claimNeeds, IMMUTABLE_ID } from './rules.js';
import type { AttributeValues, ResolvedClaims } from './resolved.js';

/** The attributes the sign-in look-up always reads, so rules that name only these need no second read. */
function baseAttributes(user: DirectoryUser): Map<string, AttributeValues> {
  const m = new Map<string, AttributeValues>();
  const put = (name: string, v: string | Buffer | undefined) => {
    if (v !== undefined && v.length > 0) m.set(name.toLowerCase(), [v]);
  };
  put('sAMAccountName', user.sAMAccountName);
  put('userPrincipalName', user.userPrincipalName);
  put('objectGUID', user.objectGUID);
  put('mS-DS-ConsistencyGuid', user.consistencyGuid);
  put('displayName', user.displayName);
  put('givenName', user.givenName);
  put('sn', user.surname);
  put('mail', user.mail);
  put(IMMUTABLE_ID, immutableIdOf(user));
  return m;
}

/** Attribute names already in the look-up result (lower case). */
const BASE_NAMES = new Set(['samaccountname', 'userprincipalname', 'objectguid', 'ms-ds-consistencyguid', 'displayname', 'givenname', 'sn', 'mail', IMMUTABLE_ID]);

/**
 * Resolution from the look-up result alone: enough for the Microsoft 365 preset and for rules that
 * name only the attributes the sign-in look-up reads. Group conditions are never met here.
 */
export function resolveClaims(user: DirectoryUser): ResolvedClaims {
  return {
    immutableId: immutableIdOf(user),
    upn: user.userPrincipalName,
    signInName: signInNameOf(user),
    ...(user.alternateLogin ? { alternateLogin: user.alternateLogin } : {}),
    sAMAccountName: user.sAMAccountName,
    displayName: user.displayName,
    givenName: user.givenName,
    surname: user.surname,
    mail: user.mail,
    passwordExpires: user.passwordExpires,
    attributes: baseAttributes(user),
    memberOf: new Map(),
    ...(user.computer ? { computer: { onPremObjectGuid: user.objectGUID.toString('base64'), sid: user.computer.sid } } : {}),
  };
}

/**
 * Full resolution for one relying party: the look-up result, plus the attributes and group memberships
 * its claim rules name, read from the directory (one base read for the attributes, one in-chain match
 * per group). The Microsoft 365 preset alone needs no directory round trip.
 * @throws GH_DIRECTORY_UNAVAILABLE
 */
export async function resolveClaimsFor(
  directory: Pick<Directory, 'readAttributes' | 'isMemberOf'>,
  user: DirectoryUser,
  rp: RelyingPartyConfig,
): Promise<ResolvedClaims> {
  const base = resolveClaims(user);
  const needs = claimNeeds(rp.claims);
  const extra = needs.attributes.filter((n) => !BASE_NAMES.has(n.toLowerCase()));
  const [read, groups] = await Promise.all([
    directory.readAttributes(user.dn, extra, needs.binary.filter((n) => extra.some((e) => e.toLowerCase() === n.toLowerCase()))),
    Promise.all(needs.groups.map(async (g) => [g, await directory.isMemberOf(user.dn, g)] as const)),
  ]);
  const attributes = new Map(base.attributes);
  for (const [name, values] of read) attributes.set(name.toLowerCase(), values);
  return { ...base, attributes, memberOf: new Map(groups) };
}
