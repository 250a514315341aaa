import type { FastifyInstance } from 'fastify';

/** WS-Trust 1.3 and 2005 usernamemixed endpoints and the metadata exchange document. */
export async function wsTrustRoutes(_app: FastifyInstance): Promise<void> {}
