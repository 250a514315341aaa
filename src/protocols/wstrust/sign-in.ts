import type { FastifyReply, FastifyRequest } from 'fastify';
import { GatehouseError } from '../../errors.js';
import { clientAddresses } from '../../http/client-address.js';
import { signInRequest } from '../../pipeline/request.js';
import type { SignInAdapter } from '../../pipeline/sign-in.js';
import { refuseReplayedMessage } from '../../state/replay-guards.js';
import { parseXmlSafely } from '../../xml/parse.js';
import { renderFault, toFault, WsTrustFault } from './faults.js';
import { readIssueRequest } from './request.js';
import { renderIssueResponse } from './response.js';
import { CLOCK_SKEW_MS, MAX_MESSAGE_AGE_MS } from './timestamp.js';
import type { TrustVersion } from './versions.js';

/** An RST from MSAL is about 2 KB; ADFS's own limit is far above anything legitimate too. */
export const BODY_LIMIT = 64 * 1024;
export const SOAP_CONTENT_TYPE = 'application/soap+xml; charset=utf-8';

/** The SOAP body as it arrived, and the MessageID as soon as it is read (a fault refers to it). */
export interface IssueInput {
  version: TrustVersion;
  /** The windowstransport endpoint (HTTP Negotiate), not usernamemixed. */
  windows: boolean;
  body: string;
  seen: { messageId?: string };
}

/** Every failure is a SOAP fault; the log says which check failed, the client only the fault's kind. */
export function sendFault(request: FastifyRequest, reply: FastifyReply, version: TrustVersion, err: unknown, relatesTo?: string, status = 500) {
  const fault = toFault(err);
  const fields = { event: 'wstrust_fault', version: version.name, fault: fault.kind, detail: fault.detail };
  if (fault.kind === 'Internal') request.log.error({ ...fields, err }, 'WS-Trust request failed');
  else request.log.warn(fields, 'WS-Trust request refused');
  if (fault.kind === 'DirectoryUnavailable') reply.header('retry-after', '30');
  if (fault.kind === 'TooManyRequests') reply.header('retry-after', '60');
  // SOAP 1.2's HTTP binding would use 400 for Sender faults; ADFS (WCF) sends 500 for every fault, and
  // that is what the clients written against ADFS expect. Only windowstransport's refusals at the HTTP
  // layer (no ticket: 401; a refused ticket, the extranet: 403) say so in the status too.
  return reply.code(status).type(SOAP_CONTENT_TYPE).header('cache-control', 'no-store').send(renderFault(version, fault, relatesTo));
}

/** The endpoint's own path: usernamemixed or windowstransport of its version. */
export function endpointPath(input: Pick<IssueInput, 'version' | 'windows'>): string {
  return input.windows ? input.version.windowsPath : input.version.path;
}

/**
 * WS-Trust 1.3 and 2005 Issue into the sign-in pipeline: with a UsernameToken ("usernamemixed": Outlook,
 * PowerShell modules, MSAL's username/password flow) or with HTTP Negotiate ("windowstransport": MSAL's
 * integrated Windows authentication, and domain-joined computers getting their hybrid Entra join). The
 * message is parsed safely and checked (envelope, addressing, timestamp) before any password reaches the
 * directory or any ticket GSSAPI, and the SAML 1.1 token goes back in an RSTR. No browser: every error is
 * a SOAP fault.
 */
export const wsTrustIssue: SignInAdapter<IssueInput, { keyType: string }> = {
  name: 'WS-Trust',
  tokenFormat: 'saml11',
  browser: false,

  decode(ctx) {
    const { version, windows, body, seen } = ctx.input;
    const doc = parseXmlSafely(body, { maxBytes: BODY_LIMIT, maxDepth: 32, maxElements: 500 });
    const rst = readIssueRequest(doc, version, { endpointUrl: `${ctx.services.config.publicUrl}${endpointPath(ctx.input)}`, windows }, seen);
    return {
      request: signInRequest(ctx.http.request, {
        protocol: 'ws-trust',
        endpoint: `ws-trust-${version.name}${windows ? '-windowstransport' : ''}`,
        relyingParty: rst.appliesTo,
        messageId: rst.messageId,
        authn: windows ? { negotiate: true } : { password: rst.credentials },
        // Exchange Online relays basic-auth clients and names the real client in X-MS-Forwarded-Client-IP.
        addresses: clientAddresses(ctx.http.request, { msForwarded: true }),
      }),
      message: { keyType: rst.keyType },
    };
  },

  async verify(ctx) {
    // windowstransport: a client sends the message without credentials first, gets 401 Negotiate and sends
    // the same message again with its ticket. The first never gets a token, so only the second counts.
    if (ctx.input.windows && !/^Negotiate\s+\S/i.test(ctx.http.request.headers.authorization ?? '')) return;
    // A MessageID is accepted once (farm-wide) for as long as its timestamp could be: a replayed message
    // never reaches the password check.
    await refuseReplayedMessage(ctx.services.state.replay, ctx.request.messageId!, MAX_MESSAGE_AGE_MS + 2 * CLOCK_SKEW_MS);
  },

  challenge(ctx) {
    // usernamemixed always has its UsernameToken, so the message-password method applied. At
    // windowstransport: without a Negotiate token, 401 (the Negotiate method's WWW-Authenticate asks for
    // one); with a refused one (NTLM, malformed, replayed, for another service), a failed authentication.
    const { request, reply } = ctx.http;
    if (!ctx.input.windows) throw new GatehouseError('GH_AUTHN_FAILED', { detail: 'no credentials in the message' });
    const { version } = ctx.input;
    if (reply.hasHeader('www-authenticate')) {
      return sendFault(request, reply, version, new WsTrustFault('FailedAuthentication', 'no Negotiate token: 401 sent'), ctx.request.messageId, 401);
    }
    // 403, not a new 401: the client must not try again with another mechanism (NTLM).
    return sendFault(request, reply, version, new WsTrustFault('FailedAuthentication', 'Negotiate token refused'), ctx.request.messageId, 403);
  },

  encode(ctx) {
    const { version } = ctx.input;
    return ctx.http.reply
      .type(SOAP_CONTENT_TYPE)
      .header('cache-control', 'no-store')
      .send(renderIssueResponse(version, { signedAssertion: ctx.token, assertion: ctx.assertion, relatesTo: ctx.request.messageId!, keyType: ctx.message.keyType }));
  },

  encodeError(ctx, err) {
    return sendFault(ctx.http.request, ctx.http.reply, ctx.input.version, err, ctx.input.seen.messageId);
  },
};
