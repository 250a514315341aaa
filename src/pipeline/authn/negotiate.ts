import type { FastifyRequest } from 'fastify';
import type { KerberosConfig } from '../../config/kerberos.js';
import { KerberosAcceptor, KerberosRefusal } from '../../authn/kerberos-acceptor.js';
import { readNegotiateHeader } from '../../authn/negotiate-token.js';
import { windowsUser } from '../../authn/windows-user.js';
import { GatehouseError } from '../../errors.js';
import type { SignInContext } from '../sign-in.js';
import type { AuthnMethod } from './method.js';

/** The query parameter of the "sign in as a different user" link: the login form, without Negotiate. */
export const FORM_ONLY_PARAM = 'signin';
export const FORM_ONLY_VALUE = 'form';

const acceptors = new WeakMap<KerberosConfig, KerberosAcceptor>();
function acceptorFor(config: KerberosConfig): KerberosAcceptor {
  let a = acceptors.get(config);
  if (!a) acceptors.set(config, (a = new KerberosAcceptor(config)));
  return a;
}

function asksForForm(request: FastifyRequest): boolean {
  const q = request.query as Record<string, unknown> | undefined;
  return q?.[FORM_ONLY_PARAM] === FORM_ONLY_VALUE;
}

/**
 * When Windows sign-in is offered, as ADFS decides it: turned on, a browser inside the corporate network
 * whose user agent is known to answer Negotiate without a pop-up, and a request that neither asks for a
 * password typed now nor brings one, nor may show anything (passive), nor came from the "different user" link.
 */
export function offersNegotiate(ctx: SignInContext): boolean {
  const k = ctx.services.config.kerberos;
  const { authn } = ctx.request;
  if (!k.enabled || ctx.request.insideCorporateNetwork !== true) return false;
  // WS-Trust windowstransport: Negotiate is the endpoint's only way in (its route is intranet-only).
  if (!ctx.adapter.browser) return authn.negotiate === true;
  if (authn.passwordRequired || authn.passive || authn.form !== undefined || asksForForm(ctx.http.request)) return false;
  const agent = ctx.http.request.headers['user-agent'] ?? '';
  return k.userAgents.some((re) => re.test(agent));
}

/**
 * Windows Integrated Authentication: HTTP Negotiate with the Kerberos ticket the browser already has.
 * Without an Authorization header the answer is `401 WWW-Authenticate: Negotiate` whose body is the login
 * form (the adapter's challenge renders it): a browser with a ticket asks again at once, one without shows
 * the form, with no pop-up. A token that is NTLM, malformed, for another service or replayed falls to
 * the form (no second Negotiate, so no loop and no prompt). The account is checked as a password sign-in
 * would be. The single sign-on session it starts remembers it was Windows sign-in (its tokens say so).
 * @throws the account-state errors (disabled, expired, locked), GH_DIRECTORY_UNAVAILABLE
 */
export const negotiate: AuthnMethod = {
  name: 'windows',
  appliesTo: offersNegotiate,

  async authenticate(ctx) {
    const { config, directory } = ctx.services;
    const { request, reply } = ctx.http;
    const token = readNegotiateHeader(request.headers.authorization, config.kerberos.maxTokenBytes);
    if (!token) {
      reply.header('www-authenticate', 'Negotiate');
      return undefined;
    }
    const then = ctx.adapter.browser ? 'login form shown' : 'SOAP fault sent';
    const audit = { event: 'signin_attempt', method: 'windows', addresses: ctx.request.addresses, protocol: ctx.request.endpoint, realm: ctx.rp.id };
    if (token.kind !== 'kerberos') {
      request.log.info({ ...audit, outcome: ctx.adapter.browser ? 'form' : 'failure', reason: token.kind === 'ntlm' ? 'NTLM token' : token.why }, `windows sign-in: token refused, ${then}`);
      return undefined;
    }
    let principal: string;
    let response: string | undefined;
    try {
      ({ principal, response } = await acceptorFor(config.kerberos).accept(token.base64));
    } catch (err) {
      if (!(err instanceof KerberosRefusal)) throw err;
      request.log.warn({ ...audit, outcome: ctx.adapter.browser ? 'form' : 'failure', reason: 'kerberos', detail: err.message }, `windows sign-in: ticket refused, ${then}`);
      return undefined;
    }
    let user;
    try {
      user = await windowsUser(directory, principal, config.kerberos.realm, { computers: !ctx.adapter.browser });
    } catch (err) {
      const e = err instanceof GatehouseError ? err : undefined;
      request.log.warn({ ...audit, principal, outcome: 'failure', reason: e?.code, detail: e?.detail }, 'windows sign-in: refused');
      if (e?.code === 'GH_AUTHN_FAILED') return undefined;
      throw err;
    }
    // Mutual authentication: the browser may check the server's answer token.
    if (response) reply.header('www-authenticate', `Negotiate ${response}`);
    request.log.info({ ...audit, principal, user: user.userPrincipalName ?? user.sAMAccountName, outcome: 'success' }, 'windows sign-in: accepted');
    if (!ctx.adapter.browser) return { authenticated: { user, method: this.name, context: 'windows', instant: Date.now() } };
    ctx.services.accounts.remember(user);
    const session = { ...ctx.services.sessions.start(user), windows: true as const };
    return { authenticated: { user, method: this.name, context: 'windows', instant: session.authInstant, session, newSession: true } };
  },
};
