import type { FastifyInstance } from 'fastify';

/**
 * ADFS's load-balancer probe. Plain `GET /adfs/probe` answers 200 while the process serves requests;
 * `?verbose=1` also checks the directory and the signing certificate and answers 503 when a DC is unreachable.
 */
export async function healthRoutes(app: FastifyInstance): Promise<void> {
  const { directory, signingKey } = app.gatehouse;
  app.get(
    '/adfs/probe',
    { schema: { querystring: { type: 'object', properties: { verbose: { type: 'string', maxLength: 5 } } } }, logLevel: 'warn' },
    async (request, reply) => {
      reply.header('cache-control', 'no-store');
      const { verbose } = request.query as { verbose?: string };
      if (!verbose || verbose === '0' || verbose === 'false') return reply.type('text/plain').send('OK');
      const daysLeft = Math.floor((signingKey.notAfter.getTime() - Date.now()) / 86_400_000);
      const certificate = { thumbprint: signingKey.thumbprint, notAfter: signingKey.notAfter.toISOString(), daysLeft };
      try {
        await directory.ping();
        return reply.send({ status: 'ok', directory: { status: 'ok' }, certificate });
      } catch {
        return reply.code(503).send({ status: 'degraded', directory: { status: 'unreachable' }, certificate });
      }
    },
  );
}
