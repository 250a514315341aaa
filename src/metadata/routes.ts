import type { FastifyInstance } from 'fastify';
import type { SigningKeyRing } from '../keys/keyring.js';
import { buildFederationMetadata } from './federation-metadata.js';
import { buildSamlIdpMetadata } from './saml-idp.js';

/**
 * A signed metadata document that lists every published signing key (the current one and, during a
 * rollover, the next): built again only when the key ring changes (its version moves), so a swap shows in
 * the very next request.
 */
function published(signingKeys: SigningKeyRing, build: (keys: ReturnType<SigningKeyRing['published']>) => string): () => string {
  let cached: { version: number; xml: string } | undefined;
  return () => {
    const version = signingKeys.version;
    if (cached?.version !== version) cached = { version, xml: build(signingKeys.published()) };
    return cached.xml;
  };
}

/**
 * The metadata documents: federation metadata at ADFS's path (Microsoft documents it in lower case too),
 * for WS-Federation and SAML 2.0 alike, and the SAML 2.0 IdP metadata alone at /saml/metadata.
 */
export async function metadataRoutes(app: FastifyInstance): Promise<void> {
  const { config, signingKeys } = app.gatehouse;
  const { issuer, publicUrl } = config;
  const documents = [
    {
      urls: ['/FederationMetadata/2007-06/FederationMetadata.xml', '/federationmetadata/2007-06/federationmetadata.xml'],
      xml: published(signingKeys, (keys) => buildFederationMetadata({ issuer, publicUrl, keys })),
    },
    { urls: ['/saml/metadata'], xml: published(signingKeys, (keys) => buildSamlIdpMetadata({ issuer, publicUrl, keys })) },
  ];
  for (const doc of documents) {
    doc.xml();
    for (const url of doc.urls) {
      app.get(url, { schema: { response: { 200: { type: 'string' } } } }, (_req, reply) =>
        reply.type('application/samlmetadata+xml; charset=utf-8').header('cache-control', 'public, max-age=3600').send(doc.xml()),
      );
    }
  }
}
