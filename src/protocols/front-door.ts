import type { Secrets } from '../crypto/sealed.js';
import fp from 'fastify-plugin';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { WSFED } from '../constants.js';
import { GatehouseError } from '../errors.js';
import { credentialFormSchema, credentialRateLimits, type CredentialForm } from '../authn/forms.js';
import { runSignIn } from '../pipeline/run.js';
import { parseWsFed, type WsFedQuery } from './wsfed/parse.js';
import { wsFedSignIn } from './wsfed/sign-in.js';
import { wsFedSignOut } from './wsfed/sign-out.js';
import { decodeMessage, type Binding, type InboundMessage, type SamlParams } from './saml2/parse.js';
import { authnRequestSignIn } from './saml2/sso.js';
import { singleLogout } from './saml2/slo.js';
import { samlSealers } from './saml2/sealers.js';

const str = { type: 'string', maxLength: 4096 } as const;
const wsFedQuerySchema = {
  type: 'object',
  properties: { wa: str, wtrealm: str, wreply: str, wctx: str, wct: str, wfresh: str, whr: str, wauth: str, prompt: str, username: str },
} as const;

function isSamlParams(p: unknown): p is SamlParams {
  return typeof p === 'object' && p !== null && ('SAMLRequest' in p || 'SAMLResponse' in p);
}

function samlParamsOf(src: Record<string, unknown>): SamlParams {
  const out: SamlParams = {};
  for (const k of ['SAMLRequest', 'SAMLResponse', 'RelayState', 'SigAlg', 'Signature'] as const) {
    const v = src[k];
    if (typeof v === 'string') out[k] = v;
    else if (v !== undefined) throw new GatehouseError('GH_BAD_REQUEST', { detail: `${k} is not a single string` });
  }
  return out;
}

/**
 * ADFS's /adfs/ls/, where WS-Federation and SAML 2.0 share one address, told apart by their parameters:
 * SAMLRequest/SAMLResponse go to SAML 2.0 (an AuthnRequest into the sign-in pipeline, a LogoutRequest or
 * LogoutResponse to single logout) before WS-Federation's query validation, CSRF check and rate limits,
 * which are for the login form; everything else is WS-Federation (`wa`: sign-in into the pipeline, or
 * sign-out, which tells the session's SAML relying parties through the same single logout).
 */
async function frontDoor(app: FastifyInstance, opts: { sessionKeys: Secrets }): Promise<void> {
  const services = app.gatehouse;
  const sealers = samlSealers(opts.sessionKeys);
  const authnRequest = authnRequestSignIn(sealers.pending);
  const slo = singleLogout(services, sealers.logoutChain);
  const signOut = wsFedSignOut(services, slo.propagate);

  async function saml2(request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined> {
    const binding: Binding = request.method === 'POST' ? 'post' : 'redirect';
    const src = (binding === 'post' ? request.body : request.query) as Record<string, unknown> | undefined;
    if (!isSamlParams(src)) return undefined;
    const rawQuery = request.url.includes('?') ? request.url.slice(request.url.indexOf('?') + 1) : '';
    const params = samlParamsOf(src);
    let msg: InboundMessage;
    try {
      msg = await decodeMessage(params, binding);
    } catch (err) {
      // A SAMLResponse here can only be a LogoutResponse: one that cannot be read is a relying party's
      // failed answer in a single logout, which goes on (partial) instead of stopping on an error page.
      if (params.SAMLResponse !== undefined) return slo.undecodableResponse(request, reply, err);
      throw err;
    }
    if (msg.kind === 'AuthnRequest') return runSignIn(authnRequest, services, { request, reply }, { msg, rawQuery });
    if (msg.kind === 'LogoutRequest') return slo.logoutRequest(request, reply, msg, rawQuery);
    return slo.logoutResponse(request, reply, msg, rawQuery);
  }

  async function wsFederation(request: FastifyRequest<{ Querystring: WsFedQuery; Body: CredentialForm }>, reply: FastifyReply) {
    const req = parseWsFed(request.query);
    if (req.action === WSFED.signIn) return runSignIn(wsFedSignIn, services, { request, reply }, req);
    return signOut(request, reply, req);
  }

  for (const url of ['/adfs/ls', '/adfs/ls/']) {
    app.get<{ Querystring: WsFedQuery; Body: CredentialForm }>(url, { schema: { querystring: wsFedQuerySchema }, preValidation: saml2 }, wsFederation);
    app.post<{ Querystring: WsFedQuery; Body: CredentialForm }>(
      url,
      {
        schema: { querystring: wsFedQuerySchema, body: credentialFormSchema },
        preValidation: saml2,
        preHandler: [...credentialRateLimits(app, { defer: true }), app.csrfProtection],
      },
      wsFederation,
    );
  }
}

export const frontDoorRoutes = fp(frontDoor, {
  name: 'gatehouse-adfs-ls',
  encapsulate: true,
  decorators: { fastify: ['gatehouse', 'csrfProtection'] },
  dependencies: ['@fastify/formbody', '@fastify/cookie', '@fastify/csrf-protection', '@fastify/view'],
});
