import fp from 'fastify-plugin';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { credentialRateLimits } from '../../authn/forms.js';
import { insideCorporateNetwork } from '../../http/network-location.js';
import { runSignIn } from '../../pipeline/run.js';
import { WsTrustFault } from './faults.js';
import { buildMexDocument } from './mex.js';
import { BODY_LIMIT, sendFault, wsTrustIssue } from './sign-in.js';
import { MEX_PATH, TRUST_13, TRUST_2005, type TrustVersion } from './versions.js';

const routeSchema = {
  headers: { type: 'object', properties: { 'content-type': { type: 'string', maxLength: 512 } } },
  body: { type: 'string', maxLength: BODY_LIMIT },
} as const;

function versionOf(request: FastifyRequest): TrustVersion {
  const url = request.routeOptions.url;
  return url === TRUST_2005.path || url === TRUST_2005.windowsPath ? TRUST_2005 : TRUST_13;
}

/**
 * WS-Trust 1.3 and 2005 "usernamemixed" endpoints (rich clients: Outlook, ActiveSync via Exchange
 * Online, PowerShell modules, MSAL's username/password flow) and, with kerberos.windowsTransport, the
 * "windowstransport" ones (HTTP Negotiate: MSAL's Windows authentication, the hybrid join of
 * domain-joined computers), each a run of the sign-in pipeline (sign-in.ts), and the metadata exchange
 * document that lists them.
 *
 * Encapsulated: the SOAP content types and the fault-writing error handler apply to these routes only.
 */
async function wsTrustPlugin(app: FastifyInstance): Promise<void> {
  const services = app.gatehouse;

  app.addContentTypeParser(['application/soap+xml', 'text/xml'], { parseAs: 'string', bodyLimit: BODY_LIMIT }, (_req, body, done) =>
    done(null, body),
  );
  // Fastify's own refusals (content type, size, schema) still answer in SOAP.
  app.setErrorHandler((err, request, reply) => sendFault(request, reply, versionOf(request), err));

  for (const version of [TRUST_13, TRUST_2005]) {
    app.post<{ Body: string }>(
      version.path,
      { schema: routeSchema, bodyLimit: BODY_LIMIT, preHandler: credentialRateLimits(app, { defer: true }) },
      (request, reply) => runSignIn(wsTrustIssue, services, { request, reply }, { version, windows: false, body: request.body, seen: {} }),
    );
  }

  // windowstransport: intranet only. ADFS warns that publishing it on the extranet bypasses lockout (a
  // Kerberos or NTLM attempt there never counts as a bad password for extranet lockout).
  const windows = services.config.kerberos.windowsTransport === 'intranet';
  for (const version of windows ? [TRUST_13, TRUST_2005] : []) {
    app.post<{ Body: string }>(version.windowsPath, { schema: routeSchema, bodyLimit: BODY_LIMIT, preHandler: credentialRateLimits(app) }, (request, reply) => {
      if (!insideCorporateNetwork(request, services.config.network)) {
        return sendFault(request, reply, version, new WsTrustFault('IntranetOnly', `windowstransport from ${request.ip}, outside the corporate network`), undefined, 403);
      }
      return runSignIn(wsTrustIssue, services, { request, reply }, { version, windows: true, body: request.body, seen: {} });
    });
  }

  // The document only depends on configuration: built once.
  const mex = buildMexDocument(services.config.publicUrl, { windowsTransport: windows });
  app.get(MEX_PATH, (_req, reply) => reply.type('text/xml; charset=utf-8').header('cache-control', 'public, max-age=3600').send(mex));
}

export const wsTrustRoutes = fp(wsTrustPlugin, {
  name: 'gatehouse-ws-trust',
  encapsulate: true,
  decorators: { fastify: ['gatehouse'] },
});
