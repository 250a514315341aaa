import type { AuthnMethod } from './method.js';

/**
 * The user's name and password sent in the message itself (WS-Trust usernamemixed), checked by the same
 * PasswordVerifier as the login form: smart lockout, decoy timing, one audit line. No session.
 * @throws GH_AUTHN_FAILED, GH_EXTRANET_LOCKOUT, AD account-state errors, GH_DIRECTORY_UNAVAILABLE
 */
export const messagePassword: AuthnMethod = {
  name: 'message-password',
  appliesTo: (ctx) => ctx.request.authn.password !== undefined,

  async authenticate(ctx) {
    const { username, password } = ctx.request.authn.password!;
    const user = await ctx.services.passwords.verify(
      { username, password, addresses: ctx.request.addresses, protocol: ctx.request.endpoint, realm: ctx.rp.id, correlationId: ctx.http.request.id, allowance: ctx.http.request.credentialAllowance },
      ctx.http.request.log,
    );
    // A password sent in the message: SAML's "password" method, as ADFS writes for usernamemixed.
    return { authenticated: { user, method: this.name, context: 'password', instant: Date.now() } };
  },
};
