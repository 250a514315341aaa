import type { FastifyInstance, FastifyRequest } from 'fastify';
import { GatehouseError } from '../errors.js';
import { clientAddresses } from '../http/client-address.js';
import { renderChangePassword } from './login-page.js';
import { changePasswordFromForm } from './change-password.js';
import { credentialFormSchema, credentialRateLimits, type CredentialForm } from './forms.js';

/**
 * The stand-alone change-password page at ADFS's /adfs/portal/updatepassword (the passwordchangeurl
 * claim points here): any user can change an expired or still valid password, no token is issued.
 */
export async function portalRoutes(app: FastifyInstance): Promise<void> {
  const { passwords, sessions, config } = app.gatehouse;
  const path = '/adfs/portal/updatepassword';
  const querySchema = { type: 'object', properties: { username: { type: 'string', maxLength: 256 } } } as const;

  app.get(path, { schema: { querystring: querySchema } }, (request: FastifyRequest<{ Querystring: { username?: string } }>, reply) =>
    renderChangePassword(request, reply, config, { username: request.query.username }),
  );

  app.post<{ Body: CredentialForm }>(
    path,
    { schema: { body: credentialFormSchema }, preHandler: [...credentialRateLimits(app), app.csrfProtection] },
    async (request, reply) => {
      const b = request.body;
      try {
        const attempt = { username: b.UserName ?? '', addresses: clientAddresses(request), protocol: 'portal', correlationId: request.id };
        await changePasswordFromForm({ passwords, sessions }, attempt, b, request.log);
        return renderChangePassword(request, reply, config, { username: b.UserName, done: true });
      } catch (err) {
        if (err instanceof GatehouseError && err.status < 500) {
          return renderChangePassword(request, reply, config, { username: b.UserName, error: err });
        }
        throw err;
      }
    },
  );
}
