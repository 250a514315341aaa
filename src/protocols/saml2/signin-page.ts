import type { FastifyInstance } from 'fastify';
import { GatehouseError } from '../../errors.js';
import { credentialFormSchema, credentialRateLimits, type CredentialForm } from '../../authn/forms.js';
import { renderLogin } from '../../authn/login-page.js';
import { postedLoginForm, signInRequest } from '../../pipeline/request.js';
import { runSignIn } from '../../pipeline/run.js';
import type { PipelineServices, SignInAdapter } from '../../pipeline/sign-in.js';
import { samlAnswer, SIGNIN_PATH, type Pending, type SamlSsoMessage } from './sso.js';
import type { Sealer } from '../../crypto/sealed.js';

/**
 * The shared login page for a SAML 2.0 sign-in that needs the password: the validated request comes back
 * sealed in `ctx` (its ACS was chosen from the metadata before it was sealed), the form posts back to the
 * same URL.
 */
function signInPageSignIn(pending: Sealer): SignInAdapter<{ ctx: string }, SamlSsoMessage> {
  return {
    ...samlAnswer,
    decode(ctx) {
      const p = pending.open<Pending>(ctx.input.ctx);
      if (!p) {
        throw new GatehouseError('GH_BAD_REQUEST', {
          detail: 'SAML sign-in context missing, forged or expired',
          message: 'This sign-in request has expired. Go back to the application and try again.',
        });
      }
      const request = signInRequest(ctx.http.request, {
        protocol: 'saml2',
        relyingParty: p.rp,
        messageId: p.id,
        reply: { url: p.acs },
        authn: { notBefore: p.forceAuthn ? p.at : undefined, form: postedLoginForm(ctx.http.request), mfa: p.mfa, wiaOrMfa: p.wiaOrMfa, passwordRequired: p.passwordRequired },
      });
      return { request, message: { relayState: p.relayState, forceAuthn: p.forceAuthn, at: p.at, passwordRequired: p.passwordRequired } };
    },
    replyEndpoint: (ctx) => ctx.request.reply.url!,
    challenge(ctx) {
      const { request, reply } = ctx.http;
      return renderLogin(request, reply, ctx.services.config, { rp: ctx.rp });
    },
  };
}

export function signInPageRoutes(app: FastifyInstance, services: PipelineServices, pending: Sealer): void {
  const adapter = signInPageSignIn(pending);
  const ctxQuery = { type: 'object', properties: { ctx: { type: 'string', maxLength: 8192 } }, required: ['ctx'] } as const;

  app.get<{ Querystring: { ctx: string } }>(SIGNIN_PATH, { schema: { querystring: ctxQuery } }, (request, reply) =>
    runSignIn(adapter, services, { request, reply }, request.query),
  );
  app.post<{ Querystring: { ctx: string }; Body: CredentialForm }>(
    SIGNIN_PATH,
    { schema: { querystring: ctxQuery, body: credentialFormSchema }, preHandler: [...credentialRateLimits(app, { defer: true }), app.csrfProtection] },
    (request, reply) => runSignIn(adapter, services, { request, reply }, request.query),
  );
}
