import type { FastifyReply, FastifyRequest } from 'fastify';
import { SAML2_STATUS } from '../../constants.js';
import type { RelyingPartyConfig } from '../../config/schema/relying-party.js';
import { GatehouseError } from '../../errors.js';
import type { Session } from '../../authn/session.js';
import { claimsFor } from '../../claims/claims-for.js';
import { renderPage } from '../../http/pages.js';
import type { SamlServiceProvider } from '../../relying-parties/sp-metadata.js';
import type { Services } from '../../services.js';
import { sessionIndexOf } from '../../tokens/saml20.js';
import { readHead, readLogoutRequest, readLogoutResponse, type InboundMessage, type LogoutRequest } from './parse.js';
import { SignatureError } from '../../xml/signature.js';
import { checkSignature } from './signature-policy.js';
import { LogoutChains, type LogoutChain } from './slo-chain.js';
import type { Sealer } from '../../crypto/sealed.js';

/** A malformed logout message is a sign-out error, never called a sign-in error. */
function asLogoutError(err: unknown): unknown {
  if (err instanceof GatehouseError && err.code === 'GH_BAD_REQUEST') return new GatehouseError('GH_SAML_LOGOUT', { detail: err.detail, cause: err });
  return err;
}

export type SloServices = Pick<Services, 'config' | 'directory' | 'signingKey' | 'relyingParties' | 'sessions' | 'accounts'>;

/**
 * SAML 2.0 Single Logout (saml-profiles 4.4) at /adfs/ls/: a LogoutRequest from an SP ends this browser's
 * session (only when it names the session's own NameID and SessionIndex) and starts the chain to the
 * session's other SAML relying parties; their LogoutResponses move the chain on. WS-Federation sign-out
 * starts the same chain (`propagate`).
 */
export function singleLogout(services: SloServices, sealer: Sealer) {
  const { relyingParties, sessions, accounts } = services;
  const chains = new LogoutChains(services, sealer);

  /** @throws GH_SAML_LOGOUT_SIGNATURE */
  function checkLogoutSignature(msg: InboundMessage, rawQuery: string, sp: SamlServiceProvider, required: boolean) {
    try {
      checkSignature(msg, sp, rawQuery, required);
    } catch (err) {
      if (!(err instanceof SignatureError)) throw err;
      throw new GatehouseError('GH_SAML_LOGOUT_SIGNATURE', { detail: `${msg.kind} from ${sp.entityId}: ${err.message}` });
    }
  }

  /**
   * Whether a LogoutRequest is about the browser's own session: the SP got a token in it, the NameID is
   * the one it was given, and a SessionIndex, when named, is this session's.
   */
  async function isThisSession(session: Session, rp: RelyingPartyConfig, req: LogoutRequest): Promise<boolean> {
    if (!session.realms.includes(rp.id)) return false;
    const index = sessionIndexOf(session.sid);
    if (req.sessionIndexes.length && !req.sessionIndexes.includes(index)) return false;
    const user = await accounts.findByDn(session.dn).catch(() => undefined);
    // An account that is gone cannot use the session anyway; then the SessionIndex alone must match.
    if (!user) return req.sessionIndexes.includes(index);
    const { subject } = await claimsFor(services, rp, user);
    return req.nameId === subject.nameId;
  }

  async function logoutRequest(request: FastifyRequest, reply: FastifyReply, msg: InboundMessage, rawQuery: string) {
    try {
      return await startFromLogoutRequest(request, reply, msg, rawQuery);
    } catch (err) {
      throw asLogoutError(err);
    }
  }

  async function startFromLogoutRequest(request: FastifyRequest, reply: FastifyReply, msg: InboundMessage, rawQuery: string) {
    const head = readHead(msg.doc);
    const { rp, sp } = relyingParties.saml(head.issuer);
    // saml-profiles 4.4.4.1: the requester must authenticate its LogoutRequest; one with a registered key must sign.
    checkLogoutSignature(msg, rawQuery, sp, sp.signingCerts.length > 0);
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
      return chains.next(request, reply, { origin, queue: [], sessionIndex: '', partial: false, unknownPrincipal: true });
    }
    sessions.clear(reply);
    if (session) await sessions.revoke(session);
    request.log.info({ event: 'signout', protocol: 'saml2', realm: rp.id, sid: session?.sid, requestId: req.id }, 'signed out');
    const { queue, partial } = session ? await chains.queueFor(session, rp.id, request.log) : { queue: [], partial: false };
    return chains.next(request, reply, { origin, queue, sessionIndex: session ? sessionIndexOf(session.sid) : '', partial });
  }

  /**
   * A LogoutResponse. Inside a chain, whatever one relying party answers (a failure status, a message that
   * is refused, or an answer to something else, meaning its own answer went missing) only makes the logout
   * partial: the chain goes on to the next relying party and the initiator still gets its LogoutResponse,
   * with PartialLogout (saml-profiles 4.4.3.4). Only a LogoutResponse outside any chain ends on a page.
   */
  async function logoutResponse(request: FastifyRequest, reply: FastifyReply, msg: InboundMessage, rawQuery: string) {
    const chain = chains.open(request);
    if (!chain?.pending) {
      let issuer: string | undefined;
      try {
        issuer = readHead(msg.doc).issuer;
      } catch {
        // an unreadable answer to nothing: the same page
      }
      request.log.warn({ event: 'slo_response_unexpected', issuer }, 'LogoutResponse outside a logout chain');
      chains.clear(reply);
      return renderPage(reply, 'signed-out', {});
    }
    const pending = chain.pending;
    delete chain.pending;
    try {
      const head = readHead(msg.doc);
      if (pending.id !== head.inResponseTo || pending.rp !== head.issuer) {
        throw new GatehouseError('GH_SAML_LOGOUT', { detail: `answer from ${head.issuer} to ${head.inResponseTo ?? 'nothing'}, expected from ${pending.rp} to ${pending.id}` });
      }
      checkLogoutSignature(msg, rawQuery, relyingParties.saml(head.issuer).sp, false);
      const res = readLogoutResponse(msg, head);
      if (res.status !== SAML2_STATUS.success) chain.partial = true;
      request.log.info({ event: 'slo_response', realm: res.issuer, status: res.status }, 'single logout: LogoutResponse received');
    } catch (err) {
      chain.partial = true;
      refused(request, pending.rp, err);
    }
    return chains.next(request, reply, chain);
  }

  function refused(request: FastifyRequest, realm: string, err: unknown) {
    const e = asLogoutError(err);
    const message = 'single logout: the answer of a relying party was refused; the logout goes on and ends as partial';
    if (e instanceof GatehouseError) {
      request.log.warn({ event: 'slo_response_refused', realm, code: e.code, reason: e.detail ?? e.message }, message);
    } else {
      // Our own failure reading it: still only this relying party's answer, but worth an error line.
      request.log.error({ event: 'slo_response_refused', realm, code: 'GH_INTERNAL', err }, message);
    }
  }

  /**
   * A SAMLResponse that could not even be decoded. Inside a chain it stands for the pending relying party's
   * answer (refused: the logout goes on, partial); outside one it is an invalid sign-out message.
   */
  async function undecodableResponse(request: FastifyRequest, reply: FastifyReply, err: unknown) {
    const chain = chains.open(request);
    if (!chain?.pending) throw asLogoutError(err);
    const { rp } = chain.pending;
    delete chain.pending;
    chain.partial = true;
    refused(request, rp, err);
    return chains.next(request, reply, chain);
  }

  /**
   * WS-Federation sign-out: the session's SAML relying parties are logged out too, ending at `wreply` or
   * the signed-out page. False (nothing sent) when the session had no SAML relying party to tell.
   */
  async function propagate(request: FastifyRequest, reply: FastifyReply, session: Session | undefined, wreply: string | undefined): Promise<boolean> {
    if (!session) return false;
    const { queue, partial } = await chains.queueFor(session, undefined, request.log);
    if (!queue.length) return false;
    await chains.next(request, reply, { origin: { kind: 'wsfed', ...(wreply ? { wreply } : {}) }, queue, sessionIndex: sessionIndexOf(session.sid), partial });
    return true;
  }

  return { logoutRequest, logoutResponse, undecodableResponse, propagate };
}
