import type { AuthnMethod } from './authn/method.js';
import { formPassword } from './authn/form-password.js';
import { messagePassword } from './authn/message-password.js';
import { singleSignOnSession } from './authn/session.js';
import { secondFactorForm } from './authn/second-factor-form.js';
import { negotiate } from './authn/negotiate.js';
import type { Step } from './sign-in.js';
import { decode } from './steps/decode.js';
import { findRelyingParty } from './steps/find-relying-party.js';
import { chooseReplyEndpoint } from './steps/choose-reply-endpoint.js';
import { verifyRequest } from './steps/verify-request.js';
import { authenticateWith } from './steps/authenticate.js';
import { secondFactor } from './steps/second-factor.js';
import { checkAccess } from './steps/check-access.js';
import { resolveClaims } from './steps/resolve-claims.js';
import { releaseClaims } from './steps/release-claims.js';
import { buildToken } from './steps/build-token.js';
import { signToken } from './steps/sign-token.js';
import { joinSession } from './steps/join-session.js';
import { audit } from './steps/audit.js';
import { passwordExpiryNotice } from './steps/password-expiry-notice.js';
import { encode } from './steps/encode.js';

/**
 * The ways of telling who the user is, tried in this order by the authenticate step: credentials the
 * request brings first (the login form, a WS-Trust password), then the single sign-on session. A new way
 * (a second factor, Kerberos) is one module in pipeline/authn/ and one line here.
 */
export const AUTHN_METHODS: readonly AuthnMethod[] = [
  formPassword,
  messagePassword,
  secondFactorForm,
  singleSignOnSession,
  negotiate,
];

/**
 * Every sign-in of every protocol (WS-Federation, WS-Trust, SAML 2.0), in the order the steps run.
 * `decode` and `encode` are the protocol adapter's; the steps between are shared, and an adapter only
 * supplies what its protocol alone knows (reply endpoints, its own checks, how to ask for a password).
 */
export const SIGN_IN: readonly Step[] = [
  decode,
  findRelyingParty,
  chooseReplyEndpoint,
  verifyRequest,
  authenticateWith(AUTHN_METHODS),
  checkAccess,
  secondFactor,
  resolveClaims,
  releaseClaims,
  buildToken,
  signToken,
  joinSession,
  audit,
  passwordExpiryNotice,
  encode,
];
