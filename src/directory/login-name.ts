import { escapeFilter } from 'ldapts';
import { GatehouseError } from '../errors.js';

/** What a user typed in the user name box, normalised. */
export type LoginName =
  | { kind: 'upn'; upn: string }
  | { kind: 'sam'; sam: string; domain?: string };

const MAX_LENGTH = 256;

/**
 * Accepts `alice@corp.example.com` (UPN), `CORP\alice` (down-level) and `alice` (sAMAccountName).
 * @throws GH_AUTHN_FAILED for empty or absurd input (same message as a wrong password).
 */
export function parseLoginName(input: string, netbiosName?: string): LoginName {
  const name = input.trim();
  if (!name || name.length > MAX_LENGTH || /[\u0000-\u001f]/.test(name)) {
    throw new GatehouseError('GH_AUTHN_FAILED', { detail: 'empty or invalid user name' });
  }
  const slash = name.indexOf('\\');
  if (slash >= 0) {
    const domain = name.slice(0, slash);
    const sam = name.slice(slash + 1);
    if (!domain || !sam || sam.includes('\\')) throw new GatehouseError('GH_AUTHN_FAILED', { detail: 'malformed DOMAIN\\user name' });
    if (netbiosName && domain.toUpperCase() !== netbiosName.toUpperCase()) {
      throw new GatehouseError('GH_AUTHN_FAILED', { detail: `domain ${domain} is not ${netbiosName}` });
    }
    return { kind: 'sam', sam, domain };
  }
  if (name.includes('@')) return { kind: 'upn', upn: name };
  return { kind: 'sam', sam: name };
}

/** The attribute users sign in with when nothing else is configured (directory.loginAttribute). */
export const DEFAULT_LOGIN_ATTRIBUTE = 'userPrincipalName';

/**
 * The look-up filter; every value is escaped (RFC 4515) by ldapts' escapeFilter. A name with @ matches the
 * login attribute (directory.loginAttribute) or, as with ADFS's alternate login ID, the UPN: one filter,
 * so that a name two accounts answer to is seen as ambiguous and refused, never resolved to either.
 */
export function userFilter(login: LoginName, baseFilter: string, loginAttribute = DEFAULT_LOGIN_ATTRIBUTE): string {
  let match: string;
  if (login.kind === 'sam') match = escapeFilter`(sAMAccountName=${login.sam})`;
  else if (loginAttribute.toLowerCase() === DEFAULT_LOGIN_ATTRIBUTE.toLowerCase()) match = escapeFilter`(userPrincipalName=${login.upn})`;
  else match = `(|(${loginAttribute}=${escapeFilter`${login.upn}`})${escapeFilter`(userPrincipalName=${login.upn})`})`;
  return `(&${baseFilter}${match})`;
}
