import { Sealer, type Secrets } from '../../crypto/sealed.js';

/**
 * The SAML endpoints' sealed state, each with a key of its own derived from the session secrets: every
 * server of a farm (and every plugin) opens what another sealed.
 */
export function samlSealers(sessionKeys: Secrets) {
  return {
    /** A validated AuthnRequest waiting for the password (sso.ts, signin-page.ts). */
    pending: new Sealer(sessionKeys, 'saml2 authn request'),
    /** A single-logout chain between hops (slo-chain.ts). */
    logoutChain: new Sealer(sessionKeys, 'saml2 logout chain'),
  };
}
