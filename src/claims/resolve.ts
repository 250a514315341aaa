import type { DirectoryUser } from '../directory/directory.js';
import { immutableIdOf } from './immutable-id.js';

/** What is true about the user, independent of who asks (attribute resolution). */
export interface ResolvedClaims {
  immutableId: string;
  upn: string | undefined;
  sAMAccountName: string;
  displayName: string | undefined;
  givenName: string | undefined;
  surname: string | undefined;
  mail: string | undefined;
  passwordExpires: Date | undefined;
}

export function resolveClaims(user: DirectoryUser): ResolvedClaims {
  return {
    immutableId: immutableIdOf(user),
    upn: user.userPrincipalName,
    sAMAccountName: user.sAMAccountName,
    displayName: user.displayName,
    givenName: user.givenName,
    surname: user.surname,
    mail: user.mail,
    passwordExpires: user.passwordExpires,
  };
}
