// Microsoft identity platform v2.0 endpoints for the client-credentials grant: OpenID configuration
// (MSAL reads it before the first token) and /{tenant}/oauth2/v2.0/token with a client secret or a
// client_assertion JWT signed with the app's certificate (RS256 or PS256).
import { constants, createHash, randomUUID, verify, X509Certificate } from 'node:crypto';
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { EmulatorContext } from './context.js';

const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

function oauthError(reply: FastifyReply, status: number, error: string, aadsts: number, description: string): FastifyReply {
  return reply.code(status).send({
    error,
    error_description: `AADSTS${aadsts}: ${description} Trace ID: ${randomUUID()} Correlation ID: ${randomUUID()} Timestamp: ${new Date().toISOString()}`,
    error_codes: [aadsts],
    timestamp: new Date().toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z'),
    trace_id: randomUUID(),
    correlation_id: randomUUID(),
  });
}

/** Checks a client_assertion against the registered certificate; returns an error text or undefined. */
function checkAssertion(jwt: string, certPem: string, clientId: string, tokenUrl: string): string | undefined {
  const [h, p, s] = jwt.split('.');
  if (!h || !p || !s) return 'client_assertion is not a JWT.';
  const header = JSON.parse(Buffer.from(h, 'base64url').toString()) as { alg?: string; x5t?: string; 'x5t#S256'?: string };
  const claims = JSON.parse(Buffer.from(p, 'base64url').toString()) as { aud?: string; iss?: string; sub?: string; exp?: number; jti?: string };
  const cert = new X509Certificate(certPem);
  const der = cert.raw;
  const x5t = createHash('sha1').update(der).digest('base64url');
  const x5t256 = createHash('sha256').update(der).digest('base64url');
  if (header.x5t !== x5t && header['x5t#S256'] !== x5t256) return 'The certificate with identifier used to sign the client assertion is not registered on application.';
  const data = Buffer.from(`${h}.${p}`);
  const sig = Buffer.from(s, 'base64url');
  const ok =
    header.alg === 'RS256'
      ? verify('sha256', data, cert.publicKey, sig)
      : header.alg === 'PS256'
        ? verify('sha256', data, { key: cert.publicKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 }, sig)
        : false;
  if (!ok) return 'Client assertion contains an invalid signature.';
  if (claims.aud !== tokenUrl) return `The audience claim value is invalid '${claims.aud}'.`;
  if (claims.iss !== clientId || claims.sub !== clientId) return 'Client assertion issuer or subject is not the client id.';
  if (!claims.exp || claims.exp * 1000 < Date.now()) return 'Client assertion is expired.';
  return undefined;
}

export function registerOAuthRoutes(app: FastifyInstance, ctx: EmulatorContext): void {
  const tenantOk = (t: string) => t === ctx.options.tenantId;

  app.get<{ Params: { tenant: string } }>('/:tenant/v2.0/.well-known/openid-configuration', (req, reply) => {
    const t = req.params.tenant;
    if (!tenantOk(t)) return oauthError(reply, 400, 'invalid_tenant', 90002, `Tenant '${t}' not found.`);
    const base = `${ctx.baseUrl}/${t}`;
    return reply.send({
      token_endpoint: `${base}/oauth2/v2.0/token`,
      token_endpoint_auth_methods_supported: ['client_secret_post', 'private_key_jwt', 'client_secret_basic'],
      jwks_uri: `${ctx.baseUrl}/${t}/discovery/v2.0/keys`,
      response_modes_supported: ['query', 'fragment', 'form_post'],
      subject_types_supported: ['pairwise'],
      id_token_signing_alg_values_supported: ['RS256'],
      response_types_supported: ['code', 'id_token', 'code id_token', 'id_token token'],
      scopes_supported: ['openid', 'profile', 'email', 'offline_access'],
      issuer: `${ctx.baseUrl}/${ctx.options.tenantId}/v2.0`,
      authorization_endpoint: `${base}/oauth2/v2.0/authorize`,
      device_authorization_endpoint: `${base}/oauth2/v2.0/devicecode`,
      end_session_endpoint: `${base}/oauth2/v2.0/logout`,
      tenant_region_scope: 'EU',
      cloud_instance_name: 'microsoftonline.com',
      cloud_graph_host_name: 'graph.windows.net',
      msgraph_host: 'graph.microsoft.com',
    });
  });

  app.post<{ Params: { tenant: string } }>('/:tenant/oauth2/v2.0/token', (req, reply) => {
    const t = req.params.tenant;
    if (!tenantOk(t)) return oauthError(reply, 400, 'invalid_tenant', 90002, `Tenant '${t}' not found.`);
    const form = (req.body ?? {}) as Record<string, string>;
    if (form.grant_type !== 'client_credentials') return oauthError(reply, 400, 'unsupported_grant_type', 70003, 'The app requested an unsupported grant type.');
    const client = ctx.options.clients.find((c) => c.clientId === form.client_id);
    if (!client) return oauthError(reply, 400, 'unauthorized_client', 700016, `Application with identifier '${form.client_id}' was not found in the directory.`);
    if (!form.scope || !/\/\.default$/.test(form.scope.split(' ')[0]!)) {
      return oauthError(reply, 400, 'invalid_scope', 1002012, 'The provided value for scope is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier.');
    }
    if (form.client_secret !== undefined) {
      if (!client.secret || form.client_secret !== client.secret) return oauthError(reply, 401, 'invalid_client', 7000215, 'Invalid client secret provided.');
    } else if (form.client_assertion_type === ASSERTION_TYPE && form.client_assertion) {
      if (!client.certificatePem) return oauthError(reply, 401, 'invalid_client', 700027, 'No certificate is registered on the application.');
      const why = checkAssertion(form.client_assertion, client.certificatePem, client.clientId, `${ctx.baseUrl}/${t}/oauth2/v2.0/token`);
      if (why) return oauthError(reply, 401, 'invalid_client', 700027, why);
    } else {
      return oauthError(reply, 401, 'invalid_client', 7000218, "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.");
    }
    return reply.send({ token_type: 'Bearer', expires_in: 3599, ext_expires_in: 3599, access_token: ctx.issueToken(client.clientId) });
  });
}
