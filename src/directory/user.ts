import type { Entry } from 'ldapts';
import { GatehouseError } from '../errors.js';

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
  /**
   * directory.loginAttribute when it is not userPrincipalName (ADFS's alternate login ID), and the user's
   * value of it: then that value, not the UPN, is the user's Microsoft 365 sign-in name (undefined when
   * the user lacks the attribute).
   */
  alternateLogin?: { attribute: string; value: string | undefined } | undefined;
  userAccountControl: number;
  /** When the password expires (msDS-UserPasswordExpiryTimeComputed), undefined when it never does. */
  passwordExpires: Date | undefined;
  /** AD's own bad-password counter as the DC that answered the look-up has it (smart lockout's guard). */
  adCounter?: { badPwdCount: number; badPasswordTime: number };
  /**
   * Set when the account is a domain-joined computer (found by Directory.findComputer, for the hybrid
   * Entra join through WS-Trust windowstransport): its objectSid as text, S-1-5-21-...
   */
  computer?: { sid: string } | undefined;
}

/** What the sign-in look-up reads of a user. */
export const USER_ATTRIBUTES = [
  'sAMAccountName', 'userPrincipalName', 'objectGUID', 'mS-DS-ConsistencyGuid', 'displayName',
  'givenName', 'sn', 'mail', 'userAccountControl', 'msDS-UserPasswordExpiryTimeComputed', 'badPwdCount', 'badPasswordTime',
];
export const BINARY_ATTRIBUTES = ['objectGUID', 'mS-DS-ConsistencyGuid'];

const UAC_ACCOUNTDISABLE = 0x2;

export function isDisabled(user: DirectoryUser): boolean {
  return (user.userAccountControl & UAC_ACCOUNTDISABLE) !== 0;
}

/** The first value of an attribute as text. */
export function str(v: Entry[string] | undefined): string | undefined {
  const x = Array.isArray(v) ? v[0] : v;
  if (x === undefined) return undefined;
  return Buffer.isBuffer(x) ? x.toString('utf8') : String(x);
}

function buf(v: Entry[string] | undefined): Buffer | undefined {
  const x = Array.isArray(v) ? v[0] : v;
  return Buffer.isBuffer(x) && x.length > 0 ? x : undefined;
}

/** What the look-up reads: USER_ATTRIBUTES and the login attribute. */
export function userAttributes(loginAttribute: string | undefined): string[] {
  return isAlternate(loginAttribute) && !USER_ATTRIBUTES.some((a) => a.toLowerCase() === loginAttribute!.toLowerCase())
    ? [...USER_ATTRIBUTES, loginAttribute!]
    : USER_ATTRIBUTES;
}

const isAlternate = (loginAttribute: string | undefined) => !!loginAttribute && loginAttribute.toLowerCase() !== 'userprincipalname';

/** The entry's value of an attribute named in any case (ldapts keys entries as the server spells them). */
function attr(e: Entry, name: string): Entry[string] | undefined {
  const key = Object.keys(e).find((k) => k.toLowerCase() === name.toLowerCase());
  return key === undefined ? undefined : e[key];
}

/** The user's Microsoft 365 sign-in name: the alternate login ID when one is configured, else the UPN. */
export function signInNameOf(user: Pick<DirectoryUser, 'userPrincipalName' | 'alternateLogin'>): string | undefined {
  return user.alternateLogin ? user.alternateLogin.value : user.userPrincipalName;
}

/** @throws GH_INTERNAL when the entry has no objectGUID (not a user Gatehouse can sign in). */
export function toUser(e: Entry, loginAttribute?: string): DirectoryUser {
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
    ...(isAlternate(loginAttribute) ? { alternateLogin: { attribute: loginAttribute!, value: str(attr(e, loginAttribute!)) || undefined } } : {}),
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
