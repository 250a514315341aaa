import { SAML11, WSFED } from '../../constants.js';
import { GatehouseError } from '../../errors.js';

/** The WS-Federation passive requestor parameters (WS-Federation 1.2, section 13). */
export interface WsFedQuery {
  wa?: string;
  wtrealm?: string;
  wreply?: string;
  wctx?: string;
  wct?: string;
  wfresh?: string;
  whr?: string;
  wauth?: string;
  /** OpenID Connect's prompt, which Entra passes through as it is with promptLoginBehavior nativeSupport. */
  prompt?: string;
  username?: string;
}

export interface SignInRequest {
  action: typeof WSFED.signIn;
  realm: string;
  wreply: string | undefined;
  /** Opaque relying-party state, echoed back unchanged. */
  wctx: string | undefined;
  /** Maximum age of the authentication in minutes; 0 forces a fresh password prompt. */
  freshness: number | undefined;
  loginHint: string | undefined;
  /** The authentication the relying party asks for (wauth): Entra names multipleauthn to ask for MFA. */
  wauth: string | undefined;
  /** wauth asks for the password method, or prompt=login: the password typed now, not Windows sign-in. */
  passwordRequired: boolean;
}

/** The wauth values that ask for a password: SAML 1.1's, and ADFS's own. */
const PASSWORD_WAUTH = new Set([SAML11.password, 'http://schemas.microsoft.com/ws/2008/06/identity/authenticationmethod/password']);

export interface SignOutRequest {
  action: typeof WSFED.signOut | typeof WSFED.signOutCleanup;
  wreply: string | undefined;
}

export type WsFedRequest = SignInRequest | SignOutRequest;

/**
 * @throws GH_BAD_REQUEST when a required parameter is missing or malformed,
 *         GH_UNSUPPORTED_ACTION for an unknown `wa`.
 */
export function parseWsFed(q: WsFedQuery): WsFedRequest {
  switch (q.wa) {
    case WSFED.signIn: {
      if (!q.wtrealm) throw new GatehouseError('GH_BAD_REQUEST', { detail: 'wsignin1.0 without wtrealm' });
      let freshness: number | undefined;
      if (q.wfresh !== undefined && q.wfresh !== '') {
        if (!/^\d{1,9}$/.test(q.wfresh)) throw new GatehouseError('GH_BAD_REQUEST', { detail: `wfresh=${q.wfresh} is not a number of minutes` });
        freshness = Number(q.wfresh);
      }
      // prompt=login (Entra's promptLoginBehavior nativeSupport, as ADFS 2016 takes it): the password again.
      if (q.prompt === 'login') freshness = 0;
      return {
        action: WSFED.signIn,
        realm: q.wtrealm,
        wreply: q.wreply || undefined,
        wctx: q.wctx,
        freshness,
        loginHint: q.username || undefined,
        wauth: q.wauth || undefined,
        passwordRequired: PASSWORD_WAUTH.has(q.wauth ?? '') || q.prompt === 'login',
      };
    }
    case WSFED.signOut:
    case WSFED.signOutCleanup:
      return { action: q.wa, wreply: q.wreply || undefined };
    case undefined:
    case '':
      throw new GatehouseError('GH_BAD_REQUEST', { detail: 'no wa parameter' });
    default:
      throw new GatehouseError('GH_UNSUPPORTED_ACTION', { detail: `wa=${q.wa}` });
  }
}
