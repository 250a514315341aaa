import type { FastifyInstance } from 'fastify';
import type { SigningKey } from '../keys/keystore.js';

/**
 * ADFS's load-balancer probe. Plain `GET /adfs/probe` answers 200 while the process serves requests;
 * `?verbose=1` also checks the directory and the signing certificates and answers 503 when a DC is unreachable.
 */
export async function healthRoutes(app: FastifyInstance): Promise<void> {
  const { directory, signingKeys, config } = app.gatehouse;
  const describe = (k: SigningKey, now: number) => {
    const daysLeft = Math.floor((k.notAfter.getTime() - now) / 86_400_000);
    return { thumbprint: k.thumbprint, notBefore: k.notBefore.toISOString(), notAfter: k.notAfter.toISOString(), daysLeft };
  };
  app.get(
    '/adfs/probe',
    { schema: { querystring: { type: 'object', properties: { verbose: { type: 'string', maxLength: 5 } } } }, logLevel: 'warn' },
    async (request, reply) => {
      reply.header('cache-control', 'no-store');
      const { verbose } = request.query as { verbose?: string };
      if (app.gatehouse.lifecycle.draining) return reply.code(503).type('text/plain').send('draining: this server is stopping');
      if (!verbose || verbose === '0' || verbose === 'false') return reply.type('text/plain').send('OK');
      const now = Date.now();
      // One read of the ring: current and next always belong together.
      const [current, next] = signingKeys.published();
      const certificate = { ...describe(current!, now), expiresSoon: describe(current!, now).daysLeft < config.signing.warnDaysBefore };
      const certificates = {
        current: certificate,
        next: next ? describe(next, now) : null,
        autoRollover: config.signing.autoRollover.enabled,
      };
      try {
        await directory.ping();
        return reply.send({ status: 'ok', directory: { status: 'ok' }, certificate, certificates, state: app.gatehouse.state.describe() });
      } catch {
        return reply.code(503).send({ status: 'degraded', directory: { status: 'unreachable' }, certificate, certificates, state: app.gatehouse.state.describe() });
      }
    },
  );
}
