import type { FastifyInstance } from 'fastify';
import { CONTENT_TYPE, metricsAccess, scrape } from '../metrics/serve.js';

/**
 * GET /metrics on the main port, when `metrics.enabled` and no listener of its own (`metrics.listen`):
 * only for the bearer token and/or the allowed addresses (the TCP peer: a proxy in front must not be
 * allowed itself). In a cluster the worker asks the primary for every worker's figures.
 */
export async function metricsRoutes(app: FastifyInstance): Promise<void> {
  const { config } = app.gatehouse;
  if (!config.metrics.enabled || config.metrics.listen) return;
  const access = metricsAccess(config.metrics);
  app.get('/metrics', { logLevel: 'warn' }, async (request, reply) => {
    reply.header('cache-control', 'no-store');
    const allowed = access.allow(request.socket.remoteAddress, request.headers.authorization);
    if (allowed === 401) return reply.code(401).header('www-authenticate', 'Bearer').type('text/plain').send('a bearer token is required (metrics.bearerTokenFile)\n');
    if (allowed === 403) return reply.code(403).type('text/plain').send('this address may not read metrics (metrics.allowFrom)\n');
    return reply.type(CONTENT_TYPE).send(await scrape());
  });
}
