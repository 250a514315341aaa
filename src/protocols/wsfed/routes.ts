import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { WSFED, SAML11 } from '../../constants.js';
import { GatehouseError } from '../../errors.js';
import { authenticateWithPassword, userFromSession } from '../../authn/authenticate.js';
import { renderLogin } from '../../authn/login-page.js';
import type { Session } from '../../authn/session.js';
import { resolveClaims } from '../../claims/resolve.js';
import { releaseClaims } from '../../claims/release.js';
import { buildAssertion } from '../../tokens/build.js';
import { serializeSaml11 } from '../../tokens/saml11.js';
import { SAML11_ASSERTION, signEnveloped } from '../../tokens/sign.js';
import { renderFormPost, renderPage } from '../../http/pages.js';
import type { DirectoryUser } from '../../directory/directory.js';
import { parseWsFed, type SignInRequest, type SignOutRequest, type WsFedQuery } from './parse.js';
import { wrapInRstr } from './rstr.js';

const str = { type: 'string', maxLength: 4096 } as const;
const querySchema = {
  type: 'object',
  properties: { wa: str, wtrealm: str, wreply: str, wctx: str, wct: str, wfresh: str, whr: str, wauth: str, username: str },
} as const;
const loginBodySchema = {
  type: 'object',
  required: ['UserName', 'Password'],
  properties: {
    UserName: { type: 'string', maxLength: 256 },
    Password: { type: 'string', maxLength: 512 },
    AuthMethod: { type: 'string', maxLength: 200 },
  },
} as const;

type Req = FastifyRequest<{ Querystring: WsFedQuery; Body: { UserName: string; Password: string } }>;

/**
 * WS-Federation passive requestor profile at ADFS's /adfs/ls/. A sign-in runs, in order:
 * parse the request → find the relying party and its reply URL → authenticate (password or session)
 * → resolve claims → release them for this relying party → build and sign the SAML 1.1 token
 * → POST it back in an RSTR.
 */
export async function wsFederationRoutes(app: FastifyInstance): Promise<void> {
  const { relyingParties, directory, sessions, signingKey, config } = app.gatehouse;

  async function signIn(request: Req, reply: FastifyReply, req: SignInRequest, credentials?: { UserName: string; Password: string }) {
    const rp = relyingParties.get(req.realm);
    const replyTo = relyingParties.replyUrl(rp, req.wreply);
    if (req.wreply && req.wreply !== replyTo) {
      request.log.warn({ event: 'wreply_ignored', realm: rp.id, wreply: req.wreply }, 'unregistered wreply ignored');
    }

    let session: Session | undefined = sessions.read(request);
    let user: DirectoryUser | undefined;
    if (credentials) {
      try {
        user = await authenticateWithPassword(directory, request.log, credentials.UserName, credentials.Password);
      } catch (err) {
        if (err instanceof GatehouseError && (err.isCredentialProblem || err.code === 'GH_DIRECTORY_UNAVAILABLE')) {
          return renderLogin(request, reply, { rp, username: credentials.UserName, error: err });
        }
        throw err;
      }
      session = sessions.start(user);
    } else {
      user = await userFromSession(directory, session, req.freshness);
      if (!user) return renderLogin(request, reply, { rp, username: req.loginHint });
    }

    const released = releaseClaims(rp, resolveClaims(user));
    const assertion = buildAssertion(
      rp,
      released,
      { method: SAML11.passwordProtectedTransport, instant: new Date(session!.authInstant) },
      { issuer: config.issuer, lifetimeSeconds: config.tokens.lifetimeSeconds, clockSkewSeconds: config.tokens.clockSkewSeconds },
    );
    const signed = signEnveloped(serializeSaml11(assertion), signingKey, SAML11_ASSERTION);

    if (!session!.realms.includes(rp.id)) session!.realms.push(rp.id);
    sessions.write(reply, session!);
    request.log.info(
      { event: 'token_issued', realm: rp.id, sid: session!.sid, user: user.userPrincipalName, assertionId: assertion.id },
      'WS-Federation token issued',
    );
    const fields = [
      { name: 'wa', value: WSFED.signIn },
      { name: 'wresult', value: wrapInRstr(signed, assertion) },
    ];
    if (req.wctx !== undefined) fields.push({ name: 'wctx', value: req.wctx });
    return renderFormPost(reply, replyTo, fields);
  }

  function signOut(request: Req, reply: FastifyReply, req: SignOutRequest) {
    const session = sessions.read(request);
    sessions.clear(reply);
    request.log.info({ event: 'signout', sid: session?.sid, action: req.action }, 'signed out');
    if (req.wreply && relyingParties.isRegisteredReply(req.wreply)) {
      return reply.header('cache-control', 'no-store').redirect(req.wreply, 302);
    }
    return renderPage(reply, 'signed-out', { title: 'Signed out' });
  }

  async function handle(request: Req, reply: FastifyReply) {
    const req = parseWsFed(request.query);
    if (req.action === WSFED.signIn) {
      return signIn(request, reply, req, request.method === 'POST' ? request.body : undefined);
    }
    return signOut(request, reply, req);
  }

  for (const url of ['/adfs/ls', '/adfs/ls/']) {
    app.get(url, { schema: { querystring: querySchema } }, handle);
    app.post(url, { schema: { querystring: querySchema, body: loginBodySchema } }, handle);
  }
}
