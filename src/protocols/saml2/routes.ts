import { createHash } from 'node:crypto';
import fp from 'fastify-plugin';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { SAML2, SAML2_STATUS } from '../../constants.js';
import { GatehouseError } from '../../errors.js';
import { userFromSession } from '../../authn/authenticate.js';
import { authenticateForm } from '../../authn/login-form.js';
import { renderLogin } from '../../authn/login-page.js';
import { credentialFormSchema, credentialRateLimits, type CredentialForm } from '../../authn/forms.js';
import type { Session } from '../../authn/session.js';
import { renderPage } from '../../http/pages.js';
import { clientAddresses } from '../../http/client-address.js';
import type { DirectoryUser } from '../../directory/directory.js';
import type { SigningKey } from '../../keys/keystore.js';
import type { RelyingPartyConfig } from '../../config/schema/relying-party.js';
import { claimsFor } from '../../claims/claims-for.js';
import { newAssertionId } from '../../tokens/assertion.js';
import { issueSaml20 } from '../../tokens/issue-saml20.js';
import {
  serializeSaml20LogoutRequest,
  serializeSaml20LogoutResponse,
  serializeSaml20Response,
  type Saml2Status,
} from '../../tokens/saml20.js';
import { saml20Message, signEnveloped } from '../../tokens/sign.js';
import { buildSamlIdpMetadata } from '../../metadata/saml-idp.js';
import { protocolOf } from '../../relying-parties/registry.js';
import type { SamlServiceProvider, SpEndpoint } from '../../relying-parties/sp-metadata.js';
import {
  decodeMessage,
  readAuthnRequest,
  readLogoutRequest,
  readLogoutResponse,
  readHead,
  type AuthnRequest,
  type Binding,
  type InboundMessage,
  type LogoutRequest,
  type SamlParams,
} from './parse.js';
import { hasXmlSignature, SignatureError, verifyRedirectSignature, verifyRootSignature } from '../../xml/signature.js';
import { Sealer } from '../../crypto/sealed.js';
import { isReplayedRequest } from '../../state/replay-guards.js';
import { warmUpSchemaValidator } from './schema-validate.js';
import { sendPost, sendRedirect, sendSignedPost } from './respond.js';

/** A validated AuthnRequest (or IdP-initiated sign-on) waiting for the user, sealed into the sign-in URL. */
interface Pending {
  rp: string;
  /** AuthnRequest ID (InResponseTo); absent for IdP-initiated. */
  id?: string;
  acs: string;
  relayState?: string;
  forceAuthn: boolean;
  /** When the request arrived: ForceAuthn needs a password typed after it. */
  at: number;
}

/** Progress of a front-channel single-logout chain, kept in a sealed cookie between hops. */
interface LogoutChain {
  /** Who asked: a SAML SP (answered with a LogoutResponse at the end) or WS-Federation sign-out. */
  origin: { kind: 'saml2'; rp: string; requestId: string; relayState?: string } | { kind: 'wsfed'; wreply?: string };
  queue: { rp: string; nameId: string; format?: string }[];
  sessionIndex: string;
  /** The LogoutRequest now out, and to whom. */
  pending?: { id: string; rp: string };
  partial: boolean;
  /** The LogoutRequest named a principal or session that is not this browser's: nothing was ended. */
  unknownPrincipal?: boolean;
}

export interface Saml2Endpoint {
  /** Handles a SAML message that arrived at /adfs/ls/; undefined when the request is not SAML (WS-Federation). */
  dispatch(request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined>;
  /**
   * WS-Federation sign-out: log the session out of its SAML relying parties too (front-channel chain),
   * ending at `wreply` or the signed-out page. Undefined when the session had no SAML relying party to tell.
   */
  propagateLogout(request: FastifyRequest, reply: FastifyReply, session: Session | undefined, wreply: string | undefined): Promise<FastifyReply | undefined>;
}

declare module 'fastify' {
  interface FastifyInstance {
    saml2?: Saml2Endpoint;
  }
}

const SLO_COOKIE = 'gatehouse_saml_slo';
const PENDING_TTL_SECONDS = 15 * 60;
const SIGNIN_PATH = '/adfs/ls/saml2/signin';
const IDP_INITIATED_PATH = '/adfs/ls/idpinitiatedsignon';

/** The AuthnStatement SessionIndex of a Gatehouse session: derived, so the cookie's sid is not repeated. */
export function sessionIndexOf(sid: string): string {
  return '_' + createHash('sha256').update(`saml2 session index ${sid}`).digest('hex').slice(0, 32);
}

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
 * SAML 2.0 identity provider (saml-profiles 4.1 Web Browser SSO, 4.4 Single Logout) on ADFS's
 * /adfs/ls/, told apart from WS-Federation by its SAMLRequest/SAMLResponse parameters. A sign-in runs,
 * in order: decode and schema-validate the AuthnRequest → find the relying party and its metadata →
 * check the signature strictly against the SP's pinned certificate → pick the ACS from the metadata
 * (never from the request) → check NameIDPolicy, ForceAuthn, IsPassive → authenticate (session or the
 * shared login page) → release claims, build, sign (and encrypt) the assertion → POST the Response.
 */
async function saml2Plugin(app: FastifyInstance, opts: { sessionKeys: Buffer[] }): Promise<void> {
  const { relyingParties, directory, sessions, config } = app.gatehouse;
  const pendingSealer = new Sealer(opts.sessionKeys, 'saml2 authn request');
  const sloSealer = new Sealer(opts.sessionKeys, 'saml2 logout chain');
  const secure = config.publicUrl.startsWith('https:');
  const key = () => app.gatehouse.signingKey;
  // The schema validator's workers start (and V8 optimises libxml2) before the first message, not during it.
  void warmUpSchemaValidator().catch((err: Error) => app.log.warn({ event: 'saml2_schema_validator', err: err.message }, 'SAML schema validator warm-up failed'));

  // ---- signatures -------------------------------------------------------------------------------

  /**
   * Signed requests must verify against the SP's pinned certificates; an SP whose metadata says
   * AuthnRequestsSigned (or, for logout, any SP with a signing certificate) must sign.
   * @throws SignatureError
   */
  function checkSignature(msg: InboundMessage, sp: SamlServiceProvider, rawQuery: string, required: boolean): boolean {
    const xmlSigned = hasXmlSignature(msg.doc);
    if (msg.binding === 'redirect') {
      if (xmlSigned) throw new SignatureError('an XML signature inside a Redirect-bound message');
      const hasQuerySig = /(^|&)Signature=/.test(rawQuery);
      if (hasQuerySig && sp.signingCerts.length) {
        verifyRedirectSignature(rawQuery, msg.param, sp.signingCerts);
        return true;
      }
      if (hasQuerySig && !sp.signingCerts.length && required) throw new SignatureError('no signing certificate registered for the SP');
    } else if (xmlSigned) {
      if (sp.signingCerts.length) {
        verifyRootSignature(msg.xml, msg.doc, sp.signingCerts);
        return true;
      }
      if (required) throw new SignatureError('no signing certificate registered for the SP');
    }
    if (required) throw new SignatureError('unsigned message from an SP that must sign');
    return false;
  }

  // ---- endpoints from metadata ------------------------------------------------------------------

  /**
   * The ACS the Response goes to: the one the request names by index or URL only when the metadata
   * registers it for HTTP-POST; otherwise the metadata's default.
   * @throws GH_SAML_ENDPOINT_UNREGISTERED
   */
  function chooseAcs(sp: SamlServiceProvider, req: Pick<AuthnRequest, 'acsUrl' | 'acsIndex' | 'protocolBinding'>): SpEndpoint {
    const post = sp.acs.filter((e) => e.binding === SAML2.bindingPost);
    if (req.protocolBinding && req.protocolBinding !== SAML2.bindingPost) {
      throw new GatehouseError('GH_SAML_ENDPOINT_UNREGISTERED', { detail: `ProtocolBinding ${req.protocolBinding} is not supported` });
    }
    if (req.acsIndex !== undefined) {
      const e = post.find((x) => x.index === req.acsIndex);
      if (!e) throw new GatehouseError('GH_SAML_ENDPOINT_UNREGISTERED', { detail: `ACS index ${req.acsIndex} is not registered for ${sp.entityId}` });
      return e;
    }
    if (req.acsUrl !== undefined) {
      const e = post.find((x) => x.location === req.acsUrl);
      if (!e) throw new GatehouseError('GH_SAML_ENDPOINT_UNREGISTERED', { detail: `ACS URL ${req.acsUrl} is not registered for ${sp.entityId}` });
      return e;
    }
    return post.find((x) => x.isDefault) ?? post[0]!;
  }

  /** Where a logout message goes: the SP's Redirect SingleLogoutService if it has one, else POST. */
  function sloEndpoint(sp: SamlServiceProvider): SpEndpoint | undefined {
    return sp.slo.find((e) => e.binding === SAML2.bindingRedirect) ?? sp.slo.find((e) => e.binding === SAML2.bindingPost);
  }

  // ---- responses --------------------------------------------------------------------------------

  function sendErrorResponse(reply: FastifyReply, acs: string, inResponseTo: string | undefined, relayState: string | undefined, status: Saml2Status) {
    const xml = serializeSaml20Response({ issuer: config.issuer, destination: acs, inResponseTo, status });
    return sendPost(reply, acs, 'SAMLResponse', signEnveloped(xml, key(), saml20Message('Response')), relayState);
  }

  async function issue(request: FastifyRequest, reply: FastifyReply, p: Pending, session: Session, user: DirectoryUser) {
    const { rp, sp } = relyingParties.saml(p.rp);
    const encryptTo = rp.encryptAssertion === false ? undefined : sp.encryptionCert;
    const { assertion, response } = await issueSaml20(app.gatehouse, rp, user, {
      inResponseTo: p.id,
      recipient: p.acs,
      sessionIndex: sessionIndexOf(session.sid),
      sessionNotOnOrAfter: new Date(session.expires),
      authnInstant: new Date(session.authInstant),
      encryptTo,
      signResponse: rp.signResponse ?? false,
    });
    if (!session.realms.includes(rp.id)) session.realms.push(rp.id);
    sessions.write(reply, session);
    request.log.info(
      {
        event: 'token_issued', protocol: 'saml2', realm: rp.id, sid: session.sid, user: user.userPrincipalName,
        addresses: clientAddresses(request), assertionId: assertion.id, inResponseTo: p.id, encrypted: Boolean(encryptTo),
      },
      'SAML 2.0 token issued',
    );
    return sendPost(reply, p.acs, 'SAMLResponse', response, p.relayState);
  }

  /** With a usable session (and no ForceAuthn), answer at once; otherwise send the browser to the login page. */
  async function continueSignIn(request: FastifyRequest, reply: FastifyReply, p: Pending, isPassive: boolean) {
    const session = await sessions.read(request);
    const fresh = session && (!p.forceAuthn || session.authInstant >= p.at);
    const user = fresh ? await userFromSession(app.gatehouse.accounts, session, undefined, sessions) : undefined;
    if (session && user) return issue(request, reply, p, session, user);
    if (isPassive) {
      return sendErrorResponse(reply, p.acs, p.id, p.relayState, { code: SAML2_STATUS.responder, subCode: SAML2_STATUS.noPassive });
    }
    return reply.header('cache-control', 'no-store').redirect(`${config.publicUrl}${SIGNIN_PATH}?ctx=${pendingSealer.seal(p, PENDING_TTL_SECONDS)}`, 303);
  }

  // ---- SSO --------------------------------------------------------------------------------------

  async function authnRequest(request: FastifyRequest, reply: FastifyReply, msg: InboundMessage, rawQuery: string) {
    // Read by Gatehouse before the signature check: the Issuer (whose keys), the ID, the ACS asked for.
    const head = readHead(msg.doc);
    const { rp, sp } = relyingParties.saml(head.issuer);
    // The ACS first: a refusal can only go back to an ACS that the metadata registers.
    const acs = chooseAcs(sp, head);
    const fail = (status: Saml2Status, detail: string) => {
      request.log.warn({ event: 'saml2_refused', realm: rp.id, requestId: head.id, status: status.subCode ?? status.code, detail }, 'SAML request refused');
      return sendErrorResponse(reply, acs.location, head.id, msg.relayState, status);
    };
    try {
      checkSignature(msg, sp, rawQuery, sp.authnRequestsSigned);
    } catch (err) {
      if (!(err instanceof SignatureError)) throw err;
      return fail({ code: SAML2_STATUS.requester, subCode: SAML2_STATUS.requestDenied, message: 'The request signature was not accepted.' }, err.message);
    }
    // Only a checked message reaches samlify's extractor (parse.ts says why).
    const req = readAuthnRequest(msg, head);
    if (await isReplayedRequest(app.gatehouse.state.replay, rp.id, req.id, PENDING_TTL_SECONDS * 1000)) return fail({ code: SAML2_STATUS.requester, subCode: SAML2_STATUS.requestDenied }, `AuthnRequest ${req.id} was received before (replay)`);
    if (req.destination && !req.destination.startsWith(`${config.publicUrl}/adfs/ls`)) {
      return fail({ code: SAML2_STATUS.requester, subCode: SAML2_STATUS.requestDenied }, `Destination ${req.destination} is not this IdP`);
    }
    if (req.nameIdFormat && req.nameIdFormat !== SAML2.nameIdUnspecified) {
      // The NameID format is the relying party's configuration; a request may only ask for that one.
      const ours = rp.nameId?.format ?? defaultNameIdFormat(rp);
      if (req.nameIdFormat !== ours) {
        return fail({ code: SAML2_STATUS.requester, subCode: SAML2_STATUS.invalidNameIdPolicy }, `NameIDPolicy ${req.nameIdFormat}, configured ${ours}`);
      }
    }
    const p: Pending = { rp: rp.id, id: req.id, acs: acs.location, forceAuthn: req.forceAuthn, at: Date.now(), ...(msg.relayState !== undefined ? { relayState: msg.relayState } : {}) };
    return continueSignIn(request, reply, p, req.isPassive);
  }

  // ---- the login page for SAML -----------------------------------------------------------------

  function openPending(request: FastifyRequest<{ Querystring: { ctx?: string } }>): Pending {
    const p = pendingSealer.open<Pending>(request.query.ctx);
    if (!p) throw new GatehouseError('GH_BAD_REQUEST', { detail: 'SAML sign-in context missing, forged or expired', message: 'This sign-in request has expired. Go back to the application and try again.' });
    return p;
  }

  const ctxQuery = { type: 'object', properties: { ctx: { type: 'string', maxLength: 8192 } }, required: ['ctx'] } as const;

  app.get<{ Querystring: { ctx: string } }>(SIGNIN_PATH, { schema: { querystring: ctxQuery } }, async (request, reply) => {
    const p = openPending(request);
    const { rp } = relyingParties.saml(p.rp);
    const session = await sessions.read(request);
    if (session && (!p.forceAuthn || session.authInstant >= p.at)) {
      const user = await userFromSession(app.gatehouse.accounts, session, undefined, sessions);
      if (user) return issue(request, reply, p, session, user);
    }
    return renderLogin(request, reply, { rpName: rp.name ?? rp.id });
  });

  app.post<{ Querystring: { ctx: string }; Body: CredentialForm }>(
    SIGNIN_PATH,
    { schema: { querystring: ctxQuery, body: credentialFormSchema }, preHandler: [...credentialRateLimits(app), app.csrfProtection] },
    async (request, reply) => {
      const p = openPending(request);
      const { rp } = relyingParties.saml(p.rp);
      const user = await authenticateForm(request, reply, rp, 'saml2');
      if (!user) return reply;
      const session = sessions.start(user, request.body.Kmsi === 'true');
      return issue(request, reply, p, session, user);
    },
  );

  // ---- IdP-initiated ---------------------------------------------------------------------------

  const offered = () => relyingParties.all().filter((rp) => protocolOf(rp) === 'saml2' && rp.idpInitiated === true);

  for (const path of [IDP_INITIATED_PATH, `${IDP_INITIATED_PATH}.aspx`]) {
    app.get<{ Querystring: { loginToRp?: string; RelayState?: string } }>(
      path,
      { schema: { querystring: { type: 'object', properties: { loginToRp: { type: 'string', maxLength: 1024 }, RelayState: { type: 'string', maxLength: 1024 } } } } },
      async (request, reply) => {
        const { loginToRp, RelayState } = request.query;
        if (!loginToRp) {
          return renderPage(reply, 'idp-initiated', {
            title: 'Sign in to an application',
            parties: offered().map((rp) => ({ name: rp.name ?? rp.id, href: `${IDP_INITIATED_PATH}?${new URLSearchParams({ loginToRp: rp.id })}` })),
          });
        }
        if (!offered().some((rp) => rp.id === loginToRp)) {
          throw new GatehouseError('GH_RP_UNKNOWN', { detail: `${loginToRp} is not offered for IdP-initiated sign-on` });
        }
        const { rp, sp } = relyingParties.saml(loginToRp);
        const acs = chooseAcs(sp, { acsUrl: undefined, acsIndex: undefined, protocolBinding: undefined });
        const p: Pending = { rp: rp.id, acs: acs.location, forceAuthn: false, at: Date.now(), ...(RelayState !== undefined ? { relayState: RelayState } : {}) };
        return continueSignIn(request, reply, p, false);
      },
    );
  }

  // ---- single logout ---------------------------------------------------------------------------

  function writeChain(reply: FastifyReply, chain: LogoutChain) {
    reply.setCookie(SLO_COOKIE, sloSealer.seal(chain, 600), { path: '/adfs/ls', httpOnly: true, secure, sameSite: secure ? 'none' : 'lax', maxAge: 600 });
  }
  function clearChain(reply: FastifyReply) {
    reply.clearCookie(SLO_COOKIE, { path: '/adfs/ls', httpOnly: true, secure, sameSite: secure ? 'none' : 'lax' });
  }

  /** The other SAML relying parties of a session, each with the NameID it was given. */
  async function logoutQueue(session: Session, except: string | undefined, log: FastifyRequest['log']): Promise<{ queue: LogoutChain['queue']; partial: boolean }> {
    const targets = session.realms.filter((id) => id !== except).flatMap((id) => {
      try {
        const { rp, sp } = relyingParties.saml(id);
        return sloEndpoint(sp) ? [rp] : [];
      } catch {
        return []; // WS-Federation relying parties and those whose metadata is unavailable
      }
    });
    if (!targets.length) return { queue: [], partial: false };
    const user = await directory.findByDn(session.dn).catch(() => undefined);
    if (!user) {
      log.warn({ event: 'slo_user_missing', sid: session.sid }, 'single logout: the user could not be read; other relying parties not told');
      return { queue: [], partial: true };
    }
    const queue: LogoutChain['queue'] = [];
    let partial = false;
    for (const rp of targets) {
      try {
        const { subject } = await claimsFor(app.gatehouse, rp, user);
        queue.push({ rp: rp.id, nameId: subject.nameId, ...(subject.format ? { format: subject.format } : {}) });
      } catch {
        partial = true;
      }
    }
    return { queue, partial };
  }

  /** Sends the next LogoutRequest of the chain, or, when none is left, the final answer. */
  function nextHop(request: FastifyRequest, reply: FastifyReply, chain: LogoutChain) {
    while (chain.queue.length) {
      const item = chain.queue.shift()!;
      let sp: SamlServiceProvider;
      try {
        sp = relyingParties.saml(item.rp).sp;
      } catch {
        chain.partial = true;
        continue;
      }
      const ep = sloEndpoint(sp)!;
      const id = newAssertionId();
      const xml = serializeSaml20LogoutRequest({
        id, issuer: config.issuer, destination: ep.location, nameId: item.nameId, nameIdFormat: item.format,
        sessionIndex: chain.sessionIndex, notOnOrAfter: new Date(Date.now() + 5 * 60_000),
      });
      chain.pending = { id, rp: item.rp };
      writeChain(reply, chain);
      request.log.info({ event: 'slo_request_sent', realm: item.rp, id }, 'single logout: LogoutRequest sent');
      return ep.binding === SAML2.bindingRedirect
        ? sendRedirect(reply, ep.location, 'SAMLRequest', xml, undefined, key())
        : sendSignedPost(reply, ep.location, 'SAMLRequest', xml, undefined, key(), 'LogoutRequest');
    }
    clearChain(reply);
    const o = chain.origin;
    if (o.kind === 'saml2') {
      let sp: SamlServiceProvider | undefined;
      try {
        sp = relyingParties.saml(o.rp).sp;
      } catch {
        sp = undefined;
      }
      const ep = sp && sloEndpoint(sp);
      if (ep) {
        const to = ep.responseLocation ?? ep.location;
        const status: Saml2Status = chain.unknownPrincipal
          ? { code: SAML2_STATUS.requester, subCode: SAML2_STATUS.unknownPrincipal }
          : chain.partial
            ? { code: SAML2_STATUS.success, subCode: SAML2_STATUS.partialLogout }
            : { code: SAML2_STATUS.success };
        const xml = serializeSaml20LogoutResponse({ issuer: config.issuer, destination: to, inResponseTo: o.requestId, status });
        request.log.info({ event: 'slo_done', origin: o.rp, partial: chain.partial }, 'single logout finished');
        return ep.binding === SAML2.bindingRedirect
          ? sendRedirect(reply, to, 'SAMLResponse', xml, o.relayState, key())
          : sendSignedPost(reply, to, 'SAMLResponse', xml, o.relayState, key(), 'LogoutResponse');
      }
    } else if (o.wreply) {
      request.log.info({ event: 'slo_done', origin: 'wsfed', partial: chain.partial }, 'single logout finished');
      return reply.header('cache-control', 'no-store').redirect(o.wreply, 302);
    }
    request.log.info({ event: 'slo_done', partial: chain.partial }, 'single logout finished');
    return renderPage(reply, 'signed-out', { title: 'Signed out' });
  }

  /**
   * Whether a LogoutRequest is about the browser's own session: the SP got a token in it, the NameID is
   * the one it was given, and a SessionIndex, when named, is this session's.
   */
  async function isThisSession(session: Session, rp: RelyingPartyConfig, req: LogoutRequest): Promise<boolean> {
    if (!session.realms.includes(rp.id)) return false;
    const index = sessionIndexOf(session.sid);
    if (req.sessionIndexes.length && !req.sessionIndexes.includes(index)) return false;
    const user = await app.gatehouse.accounts.findByDn(session.dn).catch(() => undefined);
    // An account that is gone cannot use the session anyway; then the SessionIndex alone must match.
    if (!user) return req.sessionIndexes.includes(index);
    const { subject } = await claimsFor(app.gatehouse, rp, user);
    return req.nameId === subject.nameId;
  }

  async function logoutRequest(request: FastifyRequest, reply: FastifyReply, msg: InboundMessage, rawQuery: string) {
    const head = readHead(msg.doc);
    const { rp, sp } = relyingParties.saml(head.issuer);
    try {
      // saml-profiles 4.4.4.1: the requester must authenticate its LogoutRequest; one with a registered key must sign.
      checkSignature(msg, sp, rawQuery, sp.signingCerts.length > 0);
    } catch (err) {
      if (!(err instanceof SignatureError)) throw err;
      throw new GatehouseError('GH_SAML_SIGNATURE', { detail: `LogoutRequest from ${rp.id}: ${err.message}` });
    }
    const req = readLogoutRequest(msg, head);
    const origin: LogoutChain['origin'] = { kind: 'saml2', rp: rp.id, requestId: req.id, ...(msg.relayState !== undefined ? { relayState: msg.relayState } : {}) };
    const session = await sessions.read(request);
    if (session && !(await isThisSession(session, rp, req))) {
      // A registered SP may only end the sessions it took part in: a LogoutRequest for another NameID or
      // SessionIndex leaves this browser signed in (saml-core 3.7.3.2: the principal is unknown here).
      request.log.warn(
        { event: 'slo_not_this_session', realm: rp.id, sid: session.sid, requestId: req.id },
        'LogoutRequest names another principal or session: the session is kept',
      );
      return nextHop(request, reply, { origin, queue: [], sessionIndex: '', partial: false, unknownPrincipal: true });
    }
    sessions.clear(reply);
    if (session) await sessions.revoke(session);
    request.log.info({ event: 'signout', protocol: 'saml2', realm: rp.id, sid: session?.sid, requestId: req.id }, 'signed out');
    const { queue, partial } = session ? await logoutQueue(session, rp.id, request.log) : { queue: [], partial: false };
    const chain: LogoutChain = { origin, queue, sessionIndex: session ? sessionIndexOf(session.sid) : '', partial };
    return nextHop(request, reply, chain);
  }

  async function logoutResponse(request: FastifyRequest, reply: FastifyReply, msg: InboundMessage, rawQuery: string) {
    const head = readHead(msg.doc);
    const chain = sloSealer.open<LogoutChain>(request.cookies[SLO_COOKIE]);
    if (!chain?.pending || chain.pending.id !== head.inResponseTo || chain.pending.rp !== head.issuer) {
      request.log.warn({ event: 'slo_response_unexpected', issuer: head.issuer, inResponseTo: head.inResponseTo }, 'LogoutResponse outside a logout chain');
      clearChain(reply);
      return renderPage(reply, 'signed-out', { title: 'Signed out' });
    }
    const { sp } = relyingParties.saml(head.issuer);
    try {
      checkSignature(msg, sp, rawQuery, false);
    } catch (err) {
      if (!(err instanceof SignatureError)) throw err;
      throw new GatehouseError('GH_SAML_SIGNATURE', { detail: `LogoutResponse from ${head.issuer}: ${err.message}` });
    }
    const res = readLogoutResponse(msg, head);
    if (res.status !== SAML2_STATUS.success) chain.partial = true;
    request.log.info({ event: 'slo_response', realm: res.issuer, status: res.status }, 'single logout: LogoutResponse received');
    delete chain.pending;
    return nextHop(request, reply, chain);
  }

  // ---- dispatch from /adfs/ls/ -----------------------------------------------------------------

  async function dispatch(request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined> {
    const binding: Binding = request.method === 'POST' ? 'post' : 'redirect';
    const src = (binding === 'post' ? request.body : request.query) as Record<string, unknown> | undefined;
    if (!isSamlParams(src)) return undefined;
    const rawQuery = request.url.includes('?') ? request.url.slice(request.url.indexOf('?') + 1) : '';
    const msg = await decodeMessage(samlParamsOf(src), binding);
    if (msg.kind === 'AuthnRequest') return authnRequest(request, reply, msg, rawQuery);
    if (msg.kind === 'LogoutRequest') return logoutRequest(request, reply, msg, rawQuery);
    return logoutResponse(request, reply, msg, rawQuery);
  }

  async function propagateLogout(request: FastifyRequest, reply: FastifyReply, session: Session | undefined, wreply: string | undefined) {
    if (!session) return undefined;
    const { queue, partial } = await logoutQueue(session, undefined, request.log);
    if (!queue.length) return undefined;
    return nextHop(request, reply, {
      origin: { kind: 'wsfed', ...(wreply ? { wreply } : {}) },
      queue,
      sessionIndex: sessionIndexOf(session.sid),
      partial,
    });
  }

  app.decorate('saml2', { dispatch, propagateLogout } satisfies Saml2Endpoint);

  // ---- metadata --------------------------------------------------------------------------------

  // Every published key (the current one and, during a rollover, the next), read at each request so a
  // swap shows at once; re-signed only when the set of keys changes.
  const publishedKeys = (): SigningKey[] => {
    const g = app.gatehouse as { signingKeys?: { published(): SigningKey[] } };
    return g.signingKeys ? g.signingKeys.published() : [app.gatehouse.signingKey];
  };
  let cached: { thumbprints: string; xml: string } | undefined;
  const metadata = (): string => {
    const keys = publishedKeys();
    const thumbprints = keys.map((k) => k.thumbprint).join(',');
    if (cached?.thumbprints !== thumbprints) {
      cached = { thumbprints, xml: buildSamlIdpMetadata({ issuer: config.issuer, publicUrl: config.publicUrl, keys }) };
    }
    return cached.xml;
  };
  metadata();
  app.get('/saml/metadata', (_req, reply) =>
    reply.type('application/samlmetadata+xml; charset=utf-8').header('cache-control', 'public, max-age=3600').send(metadata()),
  );

}

function defaultNameIdFormat(rp: RelyingPartyConfig): string {
  const source = rp.nameId?.source ?? 'immutableId';
  return source === 'immutableId' ? SAML2.nameIdPersistent : source === 'sAMAccountName' ? SAML2.nameIdUnspecified : SAML2.nameIdEmail;
}

/** Not encapsulated: /adfs/ls/ (WS-Federation's routes) hands SAML messages to `app.saml2.dispatch`. */
export const saml2Routes = fp(saml2Plugin, { name: 'gatehouse-saml2' });
