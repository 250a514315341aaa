import type { ANSWERED, Authentication, SignInContext } from '../sign-in.js';

/**
 * What a method of the authenticate step gives back: the user, ANSWERED when it answered with a page (the
 * login form again, the change-password page), or nothing (it could not tell who the user is: the next
 * method runs).
 */
export type AuthnOutcome = { authenticated: Authentication } | typeof ANSWERED | undefined;

/**
 * One way of telling who the user is. The authenticate step tries the methods of the chain in order
 * (pipeline/chain.ts AUTHN_METHODS); a new way (a second factor, Kerberos) is one more of these.
 */
export interface AuthnMethod {
  readonly name: string;
  /** Whether the request brings what this method checks (a posted form, a password in the message, a browser). */
  appliesTo(ctx: SignInContext): boolean;
  authenticate(ctx: SignInContext): Promise<AuthnOutcome>;
}
