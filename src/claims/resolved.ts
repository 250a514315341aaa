/** A directory attribute's values as read: text, or the raw bytes of a binary attribute. */
export type AttributeValues = readonly (string | Buffer)[];

/** What is true about the user, independent of who asks (attribute resolution). */
export interface ResolvedClaims {
  immutableId: string;
  /** The AD userPrincipalName (the NameID source `upn`). */
  upn: string | undefined;
  /** The user's Microsoft 365 sign-in name: the UPN, or the alternate login ID when one is configured. */
  signInName: string | undefined;
  /** directory.loginAttribute when it is not userPrincipalName, and the user's value of it. */
  alternateLogin?: { attribute: string; value: string | undefined } | undefined;
  sAMAccountName: string;
  displayName: string | undefined;
  givenName: string | undefined;
  surname: string | undefined;
  mail: string | undefined;
  passwordExpires: Date | undefined;
  /**
   * Directory attributes by lower-case LDAP name (plus the computed `immutableid`). Holds what the
   * sign-in look-up read, and whatever else the relying party's rules asked for; an attribute the user
   * lacks is absent, never an empty list.
   */
  attributes: ReadonlyMap<string, AttributeValues>;
  /** Group DNs (as written in the rules) and whether the user is a member, directly or nested. */
  memberOf: ReadonlyMap<string, boolean>;
  /** A domain-joined computer (WS-Trust windowstransport): what its device claims say. */
  computer?: { onPremObjectGuid: string; sid: string } | undefined;
}
