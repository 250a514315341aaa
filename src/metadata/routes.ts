import type { FastifyInstance } from 'fastify';
import { buildFederationMetadata } from './federation-metadata.js';

/** Federation metadata at ADFS's path (Microsoft documents it in lower case too). Signed once, at start-up. */
export async function metadataRoutes(app: FastifyInstance): Promise<void> {
  const { config, signingKey } = app.gatehouse;
  const xml = buildFederationMetadata({ issuer: config.issuer, publicUrl: config.publicUrl, keys: [signingKey] });
  for (const url of ['/FederationMetadata/2007-06/FederationMetadata.xml', '/federationmetadata/2007-06/federationmetadata.xml']) {
    app.get(url, { schema: { response: { 200: { type: 'string' } } } }, (_req, reply) =>
      reply.type('application/samlmetadata+xml; charset=utf-8').header('cache-control', 'public, max-age=3600').send(xml),
    );
  }
}
