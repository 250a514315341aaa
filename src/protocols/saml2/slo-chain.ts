import type { FastifyReply, FastifyRequest } from 'fastify';
import { SAML2, SAML2_STATUS } from '../../constants.js';
import type { Session } from '../../authn/session.js';
import { claimsFor } from '../../claims/claims-for.js';
import { renderPage } from '../../http/pages.js';
import type { SamlServiceProvider } from '../../relying-parties/sp-metadata.js';
import type { Services } from '../../services.js';
import { newAssertionId } from '../../tokens/assertion.js';
import { serializeSaml20LogoutRequest, serializeSaml20LogoutResponse, type Saml2Status } from '../../tokens/saml20.js';
import { sloEndpoint } from './endpoints.js';
import { sendRedirect, sendSignedPost } from './respond.js';
import type { Sealer } from '../../crypto/sealed.js';

const SLO_COOKIE = 'gatehouse_saml_slo';
const CHAIN_TTL_SECONDS = 600;

/** Progress of a front-channel single-logout chain, kept in a sealed cookie between hops. */
export interface LogoutChain {
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

export type ChainServices = Pick<Services, 'config' | 'directory' | 'signingKey' | 'relyingParties'>;

/**
 * The front-channel single logout chain (saml-profiles 4.4): one LogoutRequest to each other SAML relying
 * party of the session in turn, through the browser, then the final answer to whoever started it.
 */
export class LogoutChains {
  private readonly secure: boolean;

  constructor(
    private readonly services: ChainServices,
    private readonly sealer: Sealer,
  ) {
    this.secure = services.config.publicUrl.startsWith('https:');
  }

  /** The chain this browser is in the middle of, if any. */
  open(request: FastifyRequest): LogoutChain | undefined {
    return this.sealer.open<LogoutChain>(request.cookies[SLO_COOKIE]);
  }

  clear(reply: FastifyReply): void {
    reply.clearCookie(SLO_COOKIE, { path: '/adfs/ls', httpOnly: true, secure: this.secure, sameSite: this.secure ? 'none' : 'lax' });
  }

  private write(reply: FastifyReply, chain: LogoutChain): void {
    const { secure } = this;
    reply.setCookie(SLO_COOKIE, this.sealer.seal(chain, CHAIN_TTL_SECONDS), { path: '/adfs/ls', httpOnly: true, secure, sameSite: secure ? 'none' : 'lax', maxAge: CHAIN_TTL_SECONDS });
  }

  private sp(id: string): SamlServiceProvider | undefined {
    try {
      return this.services.relyingParties.saml(id).sp;
    } catch {
      return undefined; // WS-Federation relying parties and those whose metadata is unavailable
    }
  }

  private isSaml(id: string): boolean {
    try {
      return this.services.relyingParties.get(id).protocol === 'saml2';
    } catch {
      return false; // no longer configured
    }
  }

  /** The other SAML relying parties of a session, each with the NameID it was given. */
  async queueFor(session: Session, except: string | undefined, log: FastifyRequest['log']): Promise<{ queue: LogoutChain['queue']; partial: boolean }> {
    const { relyingParties, directory } = this.services;
    let partial = false;
    const targets = session.realms.filter((id) => id !== except).flatMap((id) => {
      const sp = this.sp(id);
      if (sp && sloEndpoint(sp)) return [relyingParties.get(id)];
      // A SAML relying party of the session that cannot be told (its metadata is unavailable, or it has no
      // SingleLogoutService) keeps its own session: the logout is partial (saml-profiles 4.4.3.4).
      if (this.isSaml(id)) {
        partial = true;
        log.warn({ event: 'slo_not_told', realm: id, sid: session.sid }, 'single logout: a relying party of the session cannot be told');
      }
      return [];
    });
    if (!targets.length) return { queue: [], partial };
    const user = await directory.findByDn(session.dn).catch(() => undefined);
    if (!user) {
      log.warn({ event: 'slo_user_missing', sid: session.sid }, 'single logout: the user could not be read; other relying parties not told');
      return { queue: [], partial: true };
    }
    const queue: LogoutChain['queue'] = [];
    for (const rp of targets) {
      try {
        const { subject } = await claimsFor(this.services, rp, user);
        queue.push({ rp: rp.id, nameId: subject.nameId, ...(subject.format ? { format: subject.format } : {}) });
      } catch {
        partial = true;
      }
    }
    return { queue, partial };
  }

  /** Sends the next LogoutRequest of the chain, or, when none is left, the final answer. */
  next(request: FastifyRequest, reply: FastifyReply, chain: LogoutChain) {
    const { config, signingKey: key } = this.services;
    while (chain.queue.length) {
      const item = chain.queue.shift()!;
      const sp = this.sp(item.rp);
      if (!sp) {
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
      this.write(reply, chain);
      request.log.info({ event: 'slo_request_sent', realm: item.rp, id }, 'single logout: LogoutRequest sent');
      return ep.binding === SAML2.bindingRedirect
        ? sendRedirect(reply, ep.location, 'SAMLRequest', xml, undefined, key)
        : sendSignedPost(reply, ep.location, 'SAMLRequest', xml, undefined, key, 'LogoutRequest');
    }
    this.clear(reply);
    const o = chain.origin;
    if (o.kind === 'saml2') {
      const sp = this.sp(o.rp);
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
          ? sendRedirect(reply, to, 'SAMLResponse', xml, o.relayState, key)
          : sendSignedPost(reply, to, 'SAMLResponse', xml, o.relayState, key, 'LogoutResponse');
      }
    } else if (o.wreply) {
      request.log.info({ event: 'slo_done', origin: 'wsfed', partial: chain.partial }, 'single logout finished');
      return reply.header('cache-control', 'no-store').redirect(o.wreply, 302);
    }
    request.log.info({ event: 'slo_done', partial: chain.partial }, 'single logout finished');
    return renderPage(reply, 'signed-out', {});
  }
}
