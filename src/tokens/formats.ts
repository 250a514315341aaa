import { MFA, SAML11, SAML2, WINDOWS_AUTHN } from '../constants.js';
import type { SigningKey } from '../keys/keystore.js';
import type { Assertion } from './assertion.js';
import { signCanonical } from './canonical-sign.js';
import { serializeSaml11 } from './saml11.js';
import { serializeSaml20Assertion, type Saml2Delivery } from './saml20.js';
import { SAML20_ASSERTION, signEnveloped } from './sign.js';

/** A token type: how it names the ways of authenticating, and the assertion model as signed XML. */
export interface TokenFormat<Delivery = undefined> {
  /** AuthenticationMethod (SAML 1.1) or AuthnContextClassRef (SAML 2.0) for each way of authenticating. */
  readonly authnMethods: { readonly passwordProtectedTransport: string; readonly password: string; readonly multipleAuthn: string; readonly windows: string };
  sign(assertion: Assertion, key: SigningKey, delivery: Delivery): string;
}

/**
 * SAML 1.1 (WS-Federation, WS-Trust): written directly in exclusive canonical form and signed as that
 * string (canonical-sign.ts), the signature as the last child.
 */
export const SAML11_TOKEN: TokenFormat = {
  authnMethods: { passwordProtectedTransport: SAML11.passwordProtectedTransport, password: SAML11.password, multipleAuthn: MFA.multipleAuthn, windows: WINDOWS_AUTHN },
  sign: (assertion, key) => signCanonical(serializeSaml11(assertion), assertion.id, '</saml:Assertion>', key),
};

/**
 * SAML 2.0 Web Browser SSO: the assertion with its bearer confirmation and session (the delivery),
 * signed with xml-crypto (RSA-SHA256, exc-c14n), the signature after Issuer.
 */
export const SAML20_TOKEN: TokenFormat<Saml2Delivery> = {
  authnMethods: { passwordProtectedTransport: SAML2.passwordProtectedTransport, password: SAML2.password, multipleAuthn: MFA.multipleAuthn, windows: WINDOWS_AUTHN },
  sign: (assertion, key, delivery) => signEnveloped(serializeSaml20Assertion(assertion, delivery), key, SAML20_ASSERTION),
};
