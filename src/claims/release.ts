import type { RelyingPartyConfig } from '../config/schema/relying-party.js';
import { CLAIM_NS } from '../constants.js';
import { GatehouseError } from '../errors.js';
import type { AssertionSubject, AssertionAttribute } from '../tokens/assertion.js';
import type { ResolvedClaims } from './resolved.js';
import { applyRules, mergeClaims } from './rules.js';
import type { ClaimRules } from '../config/schema/claim-rules.js';
import { MICROSOFT_365 } from '../config/relying-parties.js';
import { computerIssuer, microsoft365Issuer, type FederatedDomains } from './federated-issuer.js';

export interface ReleasedClaims {
  subject: AssertionSubject;
  attributes: AssertionAttribute[];
  /** The token Issuer when it depends on the user (Microsoft 365 with several federated domains). */
  issuer?: string | undefined;
}

export interface ReleaseOptions {
  /** Send the password-expiry claims when the password expires within this many days (0: never). */
  expiryNotifyDays: number;
  /** Where the user changes the password (passwordchangeurl). */
  passwordChangeUrl: string;
  /** The federated domains and `issuer`: Microsoft 365's token Issuer per user (claims/federated-issuer.ts). */
  domains?: FederatedDomains;
  now?: Date;
  /** What is known about this sign-in, for the claims Entra ID reads; absent outside a sign-in (logout). */
  signIn?: SignInFacts;
}

/** The sign-in itself, not the user: where from, how long it lasts, when the password was typed. */
export interface SignInFacts {
  /** network.corporate / the extranet proxy marker; undefined when not decided. */
  insideCorporateNetwork?: boolean | undefined;
  /** The user ticked "Keep me signed in" (a persistent session cookie). */
  keepMeSignedIn?: boolean | undefined;
  /** When the user authenticated (from the session, for single sign-on). */
  authenticationInstant: Date;
}

/** Claim types of ADFS's Microsoft 365 rule set that describe the sign-in rather than the user. */
export const SIGN_IN_CLAIMS = {
  insideCorporateNetwork: `${CLAIM_NS.ws2012}/insidecorporatenetwork`,
  psso: 'http://schemas.microsoft.com/2014/03/psso',
  authenticationInstant: 'http://schemas.microsoft.com/ws/2008/06/identity/claims/authenticationinstant',
} as const;

/**
 * insidecorporatenetwork (Entra's trusted IPs, "skip MFA on my network", named locations), psso (a
 * persistent session, so Entra keeps its own session too instead of prompting again) and
 * authenticationinstant (sign-in frequency policies), as ADFS's rules issue them.
 */
function signInClaims(facts: SignInFacts | undefined): AssertionAttribute[] {
  if (!facts) return [];
  const out: AssertionAttribute[] = [];
  if (facts.insideCorporateNetwork !== undefined) out.push({ type: SIGN_IN_CLAIMS.insideCorporateNetwork, values: [String(facts.insideCorporateNetwork)] });
  if (facts.keepMeSignedIn) out.push({ type: SIGN_IN_CLAIMS.psso, values: ['true'] });
  out.push({ type: SIGN_IN_CLAIMS.authenticationInstant, values: [facts.authenticationInstant.toISOString()] });
  return out;
}

const DAY_MS = 86_400_000;

/** Microsoft's SAML 2.0 attribute for the UPN (how-to-connect-fed-saml-idp: "IDPEmail" = UPN). */
const IDP_EMAIL = 'IDPEmail';

/** ADFS's claim with the alternate login ID ("Pass through claim - AlternateLoginID" of the Microsoft 365 trust). */
export const ALTERNATE_LOGIN_ID_CLAIM = 'http://schemas.microsoft.com/ws/2013/11/alternateloginid';

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
    { type: `${CLAIM_NS.ws2012}/passwordexpirationtime`, values: [expires.toISOString()] },
    { type: `${CLAIM_NS.ws2012}/passwordexpirationdays`, values: [String(Math.floor(msLeft / DAY_MS))] },
    { type: `${CLAIM_NS.ws2012}/passwordchangeurl`, values: [opts.passwordChangeUrl] },
  ];
}

/**
 * The `microsoft365` preset, Azure AD Connect's rule set for the Microsoft 365 trust as far as users need
 * it: UPN and ImmutableID (SAML 1.1 attributes; over SAML 2.0 the UPN goes out as IDPEmail), the
 * password-expiry claims within the notification window, and the claims about the sign-in.
 * The UPN claim is the user's sign-in name (the alternate login ID when directory.loginAttribute names one,
 * then also sent as alternateloginid, as Azure AD Connect's rules do).
 * @throws GH_USER_INCOMPLETE when the user has no sign-in name (Microsoft 365 cannot match the account).
 */
function microsoft365Claims(claims: ResolvedClaims, opts: ReleaseOptions | undefined): AssertionAttribute[] {
  if (!claims.signInName) {
    const attribute = claims.alternateLogin?.attribute ?? 'userPrincipalName';
    throw new GatehouseError('GH_USER_INCOMPLETE', {
      detail: `${claims.sAMAccountName} has no ${attribute}`,
      ...(claims.alternateLogin ? { message: `Your account cannot be used with this application (it has no ${attribute}, its Microsoft 365 sign-in name). Contact your help desk.` } : {}),
    });
  }
  return [
    { type: `${CLAIM_NS.xmlsoap}/UPN`, values: [claims.signInName], name: IDP_EMAIL },
    { type: `${CLAIM_NS.liveId}/ImmutableID`, values: [claims.immutableId] },
    ...(claims.alternateLogin ? [{ type: ALTERNATE_LOGIN_ID_CLAIM, values: [claims.signInName] }] : []),
    ...passwordExpiryClaims(claims, opts),
    ...signInClaims(opts?.signIn),
  ];
}

/** The claims of ADFS's device rules (hybrid Entra join), for domain-joined computers only. */
export const DEVICE_CLAIMS = {
  accountType: `${CLAIM_NS.ws2012}/accounttype`,
  onPremObjectGuid: 'http://schemas.microsoft.com/identity/claims/onpremobjectguid',
  primarySid: 'http://schemas.microsoft.com/ws/2008/06/identity/claims/primarysid',
} as const;

/**
 * The `microsoft365` preset for a domain-joined computer (the hybrid join), as ADFS's device rules issue
 * it: ImmutableID (its source anchor, as for users), accounttype DJ, onpremobjectguid (its objectGUID in
 * base64), primarysid (its objectSid), and the claims about the sign-in. A computer has no UPN. Users get
 * no accounttype: ADFS's rule for them only adds "User" to its own pipeline (add, not issue).
 */
function computerClaims(claims: ResolvedClaims, computer: NonNullable<ResolvedClaims['computer']>, opts: ReleaseOptions | undefined): AssertionAttribute[] {
  return [
    { type: `${CLAIM_NS.liveId}/ImmutableID`, values: [claims.immutableId] },
    { type: DEVICE_CLAIMS.accountType, values: ['DJ'] },
    { type: DEVICE_CLAIMS.onPremObjectGuid, values: [computer.onPremObjectGuid] },
    { type: DEVICE_CLAIMS.primarySid, values: [computer.sid] },
    ...signInClaims(opts?.signIn),
  ];
}

const NAMEID_FORMAT = {
  persistent: 'urn:oasis:names:tc:SAML:2.0:nameid-format:persistent',
  email: 'urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress',
  unspecified: 'urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified',
} as const;

/**
 * The subject, from the relying party's `nameId`: ImmutableID as a persistent NameID by default
 * (Microsoft 365's key, and a stable opaque identifier for anyone else); upn and mail default to the
 * emailAddress format, sAMAccountName to unspecified.
 * @throws GH_USER_INCOMPLETE when the user lacks the attribute the NameID comes from.
 */
function subjectOf(rp: RelyingPartyConfig, claims: ResolvedClaims): AssertionSubject {
  const setting = rp.nameId;
  const source = setting?.source ?? 'immutableId';
  const value = { immutableId: claims.immutableId, upn: claims.upn, mail: claims.mail, sAMAccountName: claims.sAMAccountName || undefined }[source];
  const defaultFormat =
    source === 'immutableId' ? NAMEID_FORMAT.persistent : source === 'sAMAccountName' ? NAMEID_FORMAT.unspecified : NAMEID_FORMAT.email;
  if (value === undefined) {
    throw new GatehouseError('GH_USER_INCOMPLETE', {
      detail: `${claims.sAMAccountName} has no ${source} for the NameID`,
      message: 'Your account cannot be used with this application (it lacks information the application needs). Contact your help desk.',
    });
  }
  return { nameId: value, format: setting?.format ?? defaultFormat };
}

/**
 * What a relying party receives (attribute release): its `claims` rules applied to the resolved claims.
 * Without rules, Microsoft 365's preset: NameIdentifier = ImmutableID (persistent), the UPN and
 * ImmutableID attributes, and the password-expiry claims within the notification window. Nothing the
 * rules do not name is released; a claim whose attribute the user lacks is left out.
 * @throws GH_USER_INCOMPLETE when a required value is missing (the UPN for the preset, the NameID source).
 */
export function releaseClaims(rp: RelyingPartyConfig, claims: ResolvedClaims, opts?: ReleaseOptions): ReleasedClaims {
  const rules: ClaimRules | undefined = rp.claims;
  const preset = rules?.preset ?? 'microsoft365';
  const computer = claims.computer;
  const attributes = preset !== 'microsoft365' ? [] : computer ? computerClaims(claims, computer, opts) : microsoft365Claims(claims, opts);
  // Microsoft 365 itself (not every party with its preset): the Issuer follows the user's domain.
  let issuer: string | undefined;
  if (rp.id === MICROSOFT_365.id && computer && opts?.domains) {
    const chosen = computerIssuer(opts.domains);
    if (chosen.issuer !== opts.domains.issuer) issuer = chosen.issuer;
    if (chosen.issuerId) mergeClaims(attributes, [chosen.issuerId]);
  } else if (rp.id === MICROSOFT_365.id && opts?.domains?.federatedDomains.length) {
    if (!claims.signInName) throw new GatehouseError('GH_USER_INCOMPLETE', { detail: `${claims.sAMAccountName} has no sign-in name for Microsoft 365` });
    const chosen = microsoft365Issuer(claims.signInName, opts.domains);
    issuer = chosen.issuer;
    if (chosen.issuerId) mergeClaims(attributes, [chosen.issuerId]);
  }
  mergeClaims(attributes, applyRules(rules?.rules ?? [], claims));
  return { subject: subjectOf(rp, claims), attributes, ...(issuer !== undefined ? { issuer } : {}) };
}
