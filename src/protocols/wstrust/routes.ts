import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { SAML11 } from '../../constants.js';
import { credentialRateLimits } from '../../authn/forms.js';
import { clientAddresses } from '../../http/client-address.js';
import { issueSaml11 } from '../../tokens/issue-saml11.js';
import { parseXmlSafely } from '../../xml/parse.js';
import { renderFault, toFault } from './faults.js';
import { buildMexDocument } from './mex.js';
import { readIssueRequest } from './request.js';
import { renderIssueResponse } from './response.js';
import { refuseReplayedMessage } from '../../state/replay-guards.js';
import { CLOCK_SKEW_MS, MAX_MESSAGE_AGE_MS } from './timestamp.js';
import { MEX_PATH, TRUST_13, TRUST_2005, type TrustVersion } from './versions.js';

/** An RST from MSAL is about 2 KB; ADFS's own limit is far above anything legitimate too. */
const BODY_LIMIT = 64 * 1024;
const SOAP_CONTENT_TYPE = 'application/soap+xml; charset=utf-8';

const routeSchema = {
  headers: { type: 'object', properties: { 'content-type': { type: 'string', maxLength: 512 } } },
  body: { type: 'string', maxLength: BODY_LIMIT },
} as const;

function versionOf(request: FastifyRequest): TrustVersion {
  return request.routeOptions.url === TRUST_2005.path ? TRUST_2005 : TRUST_13;
}

function sendFault(request: FastifyRequest, reply: FastifyReply, version: TrustVersion, err: unknown, relatesTo?: string) {
  const fault = toFault(err);
  const fields = { event: 'wstrust_fault', version: version.name, fault: fault.kind, detail: fault.detail };
  if (fault.kind === 'Internal') request.log.error({ ...fields, err }, 'WS-Trust request failed');
  else request.log.warn(fields, 'WS-Trust request refused');
  if (fault.kind === 'DirectoryUnavailable') reply.header('retry-after', '30');
  if (fault.kind === 'TooManyRequests') reply.header('retry-after', '60');
  // SOAP 1.2's HTTP binding would use 400 for Sender faults; ADFS (WCF) sends 500 for every fault, and
  // that is what the clients written against ADFS expect.
  return reply.code(500).type(SOAP_CONTENT_TYPE).header('cache-control', 'no-store').send(renderFault(version, fault, relatesTo));
}

/**
 * WS-Trust 1.3 and 2005 "usernamemixed" endpoints (rich clients: Outlook, ActiveSync via Exchange
 * Online, PowerShell modules, MSAL's username/password flow) and the metadata exchange document that
 * lists them. A request runs: parse safely → check envelope, addressing, timestamp → find the relying
 * party → authenticate (the same call and account checks as the browser) → the same claims, assertion
 * and signature as WS-Federation → RSTR. Any failure is a SOAP fault.
 *
 * Registered as an encapsulated plugin: the SOAP content types and the fault-writing error handler
 * apply to these routes only.
 */
export async function wsTrustRoutes(app: FastifyInstance): Promise<void> {
  const { relyingParties, passwords, config } = app.gatehouse;

  app.addContentTypeParser(['application/soap+xml', 'text/xml'], { parseAs: 'string', bodyLimit: BODY_LIMIT }, (_req, body, done) =>
    done(null, body),
  );
  // Fastify's own refusals (content type, size, schema) still answer in SOAP.
  app.setErrorHandler((err, request, reply) => sendFault(request, reply, versionOf(request), err));

  async function issue(version: TrustVersion, request: FastifyRequest<{ Body: string }>, reply: FastifyReply) {
    const seen: { messageId?: string } = {};
    try {
      const doc = parseXmlSafely(request.body, { maxBytes: BODY_LIMIT, maxDepth: 32, maxElements: 500 });
      const rst = readIssueRequest(doc, version, { endpointUrl: `${config.publicUrl}${version.path}` }, seen);
      const rp = relyingParties.wsFederation(rst.appliesTo, 'ws-trust');
      await refuseReplayedMessage(app.gatehouse.state.replay, rst.messageId, MAX_MESSAGE_AGE_MS + 2 * CLOCK_SKEW_MS);
      // Exchange Online relays basic-auth clients and names the real client in X-MS-Forwarded-Client-IP.
      const addresses = clientAddresses(request, { msForwarded: true });
      const user = await passwords.verify(
        { username: rst.username, password: rst.password, addresses, protocol: `ws-trust-${version.name}`, realm: rp.id },
        request.log,
      );
      // A password sent in the message: SAML's "password" method, as ADFS writes for usernamemixed.
      const { assertion, signed } = await issueSaml11(app.gatehouse, rp, user, new Date(), SAML11.password);
      request.log.info(
        {
          event: 'token_issued', protocol: 'ws-trust', version: version.name, realm: rp.id, user: user.userPrincipalName,
          addresses, assertionId: assertion.id,
        },
        'WS-Trust token issued',
      );
      return reply
        .type(SOAP_CONTENT_TYPE)
        .header('cache-control', 'no-store')
        .send(renderIssueResponse(version, { signedAssertion: signed, assertion, relatesTo: rst.messageId, keyType: rst.keyType }));
    } catch (err) {
      return sendFault(request, reply, version, err, seen.messageId);
    }
  }

  for (const version of [TRUST_13, TRUST_2005]) {
    app.post<{ Body: string }>(
      version.path,
      { schema: routeSchema, bodyLimit: BODY_LIMIT, preHandler: credentialRateLimits(app) },
      (request, reply) => issue(version, request, reply),
    );
  }

  // The document only depends on configuration: built once.
  const mex = buildMexDocument(config.publicUrl);
  app.get(MEX_PATH, (_req, reply) => reply.type('text/xml; charset=utf-8').header('cache-control', 'public, max-age=3600').send(mex));
}

