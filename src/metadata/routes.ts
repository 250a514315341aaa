import type { FastifyInstance } from 'fastify';
import { buildFederationMetadata } from './federation-metadata.js';

/**
 * Federation metadata at ADFS's path (Microsoft documents it in lower case too). It lists the current
 * token-signing certificate and, during a rollover, the next one; it is signed again only when the keys
 * change (the ring's version moves), so a swap shows in the very next request.
 */
export async function metadataRoutes(app: FastifyInstance): Promise<void> {
  const { config, signingKeys } = app.gatehouse;
  let cached: { version: number; xml: string } | undefined;
  const document = (): string => {
    const version = signingKeys.version;
    if (cached?.version !== version) {
      cached = { version, xml: buildFederationMetadata({ issuer: config.issuer, publicUrl: config.publicUrl, keys: signingKeys.published() }) };
    }
    return cached.xml;
  };
  document();
  for (const url of ['/FederationMetadata/2007-06/FederationMetadata.xml', '/federationmetadata/2007-06/federationmetadata.xml']) {
    app.get(url, { schema: { response: { 200: { type: 'string' } } } }, (_req, reply) =>
      reply.type('application/samlmetadata+xml; charset=utf-8').header('cache-control', 'public, max-age=3600').send(document()),
    );
  }
}
