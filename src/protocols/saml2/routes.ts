import type { Secrets } from '../../crypto/sealed.js';
import fp from 'fastify-plugin';
import type { FastifyInstance } from 'fastify';
import { idpInitiatedRoutes } from './idp-initiated.js';
import { samlSealers } from './sealers.js';
import { signInPageRoutes } from './signin-page.js';
import { warmUpSchemaValidator } from './schema-validate.js';

/**
 * SAML 2.0's own pages besides /adfs/ls/ (the front door, protocols/front-door.ts, takes its messages):
 * the sign-in page a validated AuthnRequest waits at for the password, and IdP-initiated sign-on.
 */
async function saml2Plugin(app: FastifyInstance, opts: { sessionKeys: Secrets }): Promise<void> {
  const services = app.gatehouse;
  const { pending } = samlSealers(opts.sessionKeys);
  // The schema validator's workers start (and V8 optimises libxml2) before the first message, not during it.
  void warmUpSchemaValidator().catch((err: Error) => app.log.warn({ event: 'saml2_schema_validator', err: err.message }, 'SAML schema validator warm-up failed'));
  signInPageRoutes(app, services, pending);
  idpInitiatedRoutes(app, services, pending);
}

export const saml2Routes = fp(saml2Plugin, {
  name: 'gatehouse-saml2',
  encapsulate: true,
  decorators: { fastify: ['gatehouse', 'csrfProtection'] },
  dependencies: ['@fastify/formbody', '@fastify/cookie', '@fastify/csrf-protection', '@fastify/view'],
});
