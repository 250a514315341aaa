import { NS, WSTRUST13, WSTRUST2005 } from '../../constants.js';

/** What differs between the two WS-Trust versions Microsoft clients speak. Everything else is shared. */
export interface TrustVersion {
  name: '1.3' | '2005';
  /** ADFS's path for the username/password ("usernamemixed") endpoint. */
  path: string;
  /** ADFS's path for the Kerberos ("windowstransport") endpoint: HTTP Negotiate, no credentials in the message. */
  windowsPath: string;
  trustNs: string;
  /** WS-Addressing Action of the request (also the WSDL soapAction). */
  requestAction: string;
  /** WS-Addressing Action of our answer. */
  responseAction: string;
  requestType: string;
  /** 1.3 answers with a RequestSecurityTokenResponseCollection around the RSTR; 2005 with a bare RSTR. */
  wrapInCollection: boolean;
}

export const TRUST_13: TrustVersion = {
  name: '1.3',
  path: '/adfs/services/trust/13/usernamemixed',
  windowsPath: '/adfs/services/trust/13/windowstransport',
  trustNs: NS.trust13,
  requestAction: WSTRUST13.rstIssue,
  responseAction: WSTRUST13.rstrcIssueFinal,
  requestType: WSTRUST13.issue,
  wrapInCollection: true,
};

export const TRUST_2005: TrustVersion = {
  name: '2005',
  path: '/adfs/services/trust/2005/usernamemixed',
  windowsPath: '/adfs/services/trust/2005/windowstransport',
  trustNs: NS.trust2005,
  requestAction: WSTRUST2005.rstIssue,
  responseAction: WSTRUST2005.rstrIssue,
  requestType: WSTRUST2005.issue,
  wrapInCollection: false,
};

export const MEX_PATH = '/adfs/services/trust/mex';

/**
 * Key types that mean "a bearer token, no proof key". Both are accepted on both endpoints: clients mix
 * them up (the 2005 spec had no bearer URI, so Microsoft used the identity NoProofKey one).
 */
export const BEARER_KEY_TYPES: readonly string[] = [WSTRUST13.bearer, WSTRUST2005.noProofKey];
