import type { FastifyRequest } from 'fastify';

/**
 * The request's path and query, whatever form the request target had: a client may send the absolute
 * form (`GET http://evil.test/adfs/ls/?… HTTP/1.1`), and Node then hands the whole URL on as `url`.
 */
export function pathAndQuery(request: Pick<FastifyRequest, 'url'>): string {
  const u = new URL(request.url, 'http://gatehouse.invalid');
  return `${u.pathname}${u.search}`;
}

/**
 * The address of this request as users see it, built from `publicUrl` (never from the Host header or the
 * request line): what pages post back to and what redirects name.
 */
export function publicUrlOf(request: Pick<FastifyRequest, 'url'>, publicUrl: string): string {
  return `${publicUrl.replace(/\/+$/, '')}${pathAndQuery(request)}`;
}
