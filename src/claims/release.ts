import type { RelyingPartyConfig } from '../config/schema.js';
import { CLAIM_NS, SAML11 } from '../constants.js';
import { GatehouseError } from '../errors.js';
import type { AssertionSubject, AssertionAttribute } from '../tokens/assertion.js';
import type { ResolvedClaims } from './resolve.js';

export interface ReleasedClaims {
  subject: AssertionSubject;
  attributes: AssertionAttribute[];
}

export interface ReleaseOptions {
  /** Send the password-expiry claims when the password expires within this many days (0: never). */
  expiryNotifyDays: number;
  /** Where the user changes the password (passwordchangeurl). */
  passwordChangeUrl: string;
  now?: Date;
}

const DAY_MS = 86_400_000;

/**
 * ADFS's password-expiry claims, which Outlook and Exchange use for their expiry notices; sent only when
 * the password expires within the notification window, as ADFS does.
 */
function passwordExpiryClaims(claims: ResolvedClaims, opts: ReleaseOptions | undefined): AssertionAttribute[] {
  const expires = claims.passwordExpires;
  if (!opts) return [];
  const now = opts.now ?? new Date();
  if (!expires || opts.expiryNotifyDays <= 0) return [];
  const msLeft = expires.getTime() - now.getTime();
  if (msLeft < 0 || msLeft > opts.expiryNotifyDays * DAY_MS) return [];
  return [
    { namespace: CLAIM_NS.ws2012, name: 'passwordexpirationtime', values: [expires.toISOString()] },
    { namespace: CLAIM_NS.ws2012, name: 'passwordexpirationdays', values: [String(Math.floor(msLeft / DAY_MS))] },
    { namespace: CLAIM_NS.ws2012, name: 'passwordchangeurl', values: [opts.passwordChangeUrl] },
  ];
}

/**
 * What a relying party receives (attribute release). Every relying party currently gets Microsoft 365's
 * documented set: NameIdentifier = ImmutableID, the UPN and ImmutableID attributes, and the
 * password-expiry claims within the notification window.
 * @throws GH_USER_INCOMPLETE when the user has no UPN (Microsoft 365 cannot match the account).
 */
export function releaseClaims(_rp: RelyingPartyConfig, claims: ResolvedClaims, opts?: ReleaseOptions): ReleasedClaims {
  if (!claims.upn) throw new GatehouseError('GH_USER_INCOMPLETE', { detail: `${claims.sAMAccountName} has no userPrincipalName` });
  return {
    subject: { nameId: claims.immutableId, format: SAML11.nameIdPersistent },
    attributes: [
      { namespace: CLAIM_NS.xmlsoap, name: 'UPN', values: [claims.upn] },
      { namespace: CLAIM_NS.liveId, name: 'ImmutableID', values: [claims.immutableId] },
      ...passwordExpiryClaims(claims, opts),
    ],
  };
}
