import type { FastifyInstance, FastifyRequest } from 'fastify';
import { GatehouseError } from '../errors.js';
import { clientAddresses } from '../http/client-address.js';
import { renderChangePassword } from './login-page.js';
import { credentialFormSchema, credentialRateLimits, type CredentialForm } from './forms.js';

/**
 * The stand-alone change-password page at ADFS's /adfs/portal/updatepassword (the passwordchangeurl
 * claim points here): any user can change an expired or still valid password, no token is issued.
 */
export async function portalRoutes(app: FastifyInstance): Promise<void> {
  const { passwords, sessions } = app.gatehouse;
  const path = '/adfs/portal/updatepassword';
  const querySchema = { type: 'object', properties: { username: { type: 'string', maxLength: 256 } } } as const;

  app.get(path, { schema: { querystring: querySchema } }, (request: FastifyRequest<{ Querystring: { username?: string } }>, reply) =>
    renderChangePassword(request, reply, { username: request.query.username }),
  );

  app.post<{ Body: CredentialForm }>(
    path,
    { schema: { body: credentialFormSchema }, preHandler: [...credentialRateLimits(app), app.csrfProtection] },
    async (request, reply) => {
      const b = request.body;
      try {
        if ((b.NewPassword ?? '') !== (b.ConfirmPassword ?? '')) throw new GatehouseError('GH_PASSWORD_MISMATCH');
        if (!b.NewPassword) throw new GatehouseError('GH_PASSWORD_REJECTED', { detail: 'empty new password' });
        const user = await passwords.changePassword(
          { username: b.UserName ?? '', password: b.OldPassword ?? '', addresses: clientAddresses(request), protocol: 'portal' },
          b.NewPassword,
          request.log,
        );
        await sessions.revokeAccount(user.objectGUID.toString('hex'));
        return renderChangePassword(request, reply, { username: b.UserName, done: true });
      } catch (err) {
        if (err instanceof GatehouseError && err.status < 500) {
          return renderChangePassword(request, reply, { username: b.UserName, error: err });
        }
        throw err;
      }
    },
  );
}
