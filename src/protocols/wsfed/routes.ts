import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { WSFED } from '../../constants.js';
import { userFromSession } from '../../authn/authenticate.js';
import { authenticateForm } from '../../authn/login-form.js';
import { renderLogin } from '../../authn/login-page.js';
import { credentialFormSchema, credentialRateLimits, type CredentialForm } from '../../authn/forms.js';
import type { Session } from '../../authn/session.js';
import { issueSaml11 } from '../../tokens/issue-saml11.js';
import { renderFormPost, renderPage } from '../../http/pages.js';
import { clientAddresses } from '../../http/client-address.js';
import type { DirectoryUser } from '../../directory/directory.js';
import { parseWsFed, type SignInRequest, type SignOutRequest, type WsFedQuery } from './parse.js';
import { wrapInRstr } from './rstr.js';

const str = { type: 'string', maxLength: 4096 } as const;
const querySchema = {
  type: 'object',
  properties: { wa: str, wtrealm: str, wreply: str, wctx: str, wct: str, wfresh: str, whr: str, wauth: str, username: str },
} as const;

type Req = FastifyRequest<{ Querystring: WsFedQuery; Body: CredentialForm }>;

/**
 * WS-Federation passive requestor profile at ADFS's /adfs/ls/. A sign-in runs, in order:
 * parse the request → find the relying party and its reply URL → authenticate (password, password
 * change, or session) → resolve and release claims, build and sign the SAML 1.1 token → POST it back
 * in an RSTR.
 */
export async function wsFederationRoutes(app: FastifyInstance): Promise<void> {
  const { relyingParties, sessions, accounts } = app.gatehouse;

  async function signIn(request: Req, reply: FastifyReply, req: SignInRequest) {
    const rp = relyingParties.wsFederation(req.realm, 'wsfed');
    const replyTo = relyingParties.replyUrl(rp, req.wreply);
    if (req.wreply && req.wreply !== replyTo) {
      request.log.warn({ event: 'wreply_ignored', realm: rp.id, wreply: req.wreply }, 'unregistered wreply ignored');
    }

    let session: Session | undefined = await sessions.read(request);
    let user: DirectoryUser | undefined;
    if (request.method === 'POST') {
      user = await authenticateForm(request, reply, rp, 'wsfed');
      if (!user) return reply; // a form was rendered
      accounts.remember(user);
      session = sessions.start(user, request.body.Kmsi === 'true');
    } else {
      user = await userFromSession(accounts, session, req.freshness, sessions);
      if (!user) return renderLogin(request, reply, { rpName: rp.name ?? rp.id, username: req.loginHint });
    }

    const { assertion, signed } = await issueSaml11(app.gatehouse, rp, user, new Date(session!.authInstant));
    // The cookie only changes for a new session or a relying party it has not seen yet.
    if (request.method === 'POST' || !session!.realms.includes(rp.id)) {
      if (!session!.realms.includes(rp.id)) session!.realms.push(rp.id);
      sessions.write(reply, session!);
    }
    request.log.info(
      {
        event: 'token_issued', protocol: 'wsfed', realm: rp.id, sid: session!.sid, user: user.userPrincipalName,
        addresses: clientAddresses(request), assertionId: assertion.id,
      },
      'WS-Federation token issued',
    );
    const fields = [
      { name: 'wa', value: WSFED.signIn },
      { name: 'wresult', value: wrapInRstr(signed, assertion) },
    ];
    if (req.wctx !== undefined) fields.push({ name: 'wctx', value: req.wctx });
    return renderFormPost(reply, replyTo, fields);
  }

  /** Ends the session; its SAML 2.0 relying parties are logged out too (a front-channel chain) before wreply. */
  async function signOut(request: Req, reply: FastifyReply, req: SignOutRequest) {
    const session = await sessions.read(request);
    sessions.clear(reply);
    if (session) await sessions.revoke(session);
    request.log.info({ event: 'signout', sid: session?.sid, action: req.action }, 'signed out');
    const wreply = req.wreply && relyingParties.isRegisteredReply(req.wreply) ? req.wreply : undefined;
    const chained = await app.saml2?.propagateLogout(request, reply, session, wreply);
    if (chained) return chained;
    if (wreply) return reply.header('cache-control', 'no-store').redirect(wreply, 302);
    return renderPage(reply, 'signed-out', { title: 'Signed out' });
  }

  async function handle(request: Req, reply: FastifyReply) {
    const req = parseWsFed(request.query);
    if (req.action === WSFED.signIn) return signIn(request, reply, req);
    return signOut(request, reply, req);
  }

  // SAML 2.0 shares /adfs/ls/ (as at ADFS): a request with SAMLRequest/SAMLResponse goes to the SAML
  // endpoint before WS-Federation's validation, CSRF check and rate limits, which are for the login form.
  const saml2 = async (request: FastifyRequest, reply: FastifyReply) => {
    const handled = await app.saml2?.dispatch(request, reply);
    if (handled) return handled;
  };

  for (const url of ['/adfs/ls', '/adfs/ls/']) {
    app.get<{ Querystring: WsFedQuery; Body: CredentialForm }>(url, { schema: { querystring: querySchema }, preValidation: saml2 }, handle);
    app.post<{ Querystring: WsFedQuery; Body: CredentialForm }>(
      url,
      {
        schema: { querystring: querySchema, body: credentialFormSchema },
        preValidation: saml2,
        preHandler: [...credentialRateLimits(app), app.csrfProtection],
      },
      handle,
    );
  }
}
