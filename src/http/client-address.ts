import { isIP } from 'node:net';
import type { FastifyRequest } from 'fastify';

/**
 * The addresses a sign-in attempt presents, for smart lockout and the audit log: the client address
 * (from X-Forwarded-For only when the peer is a trusted proxy, which Fastify's trustProxy decides), plus
 * Microsoft's X-MS-Forwarded-Client-IP on the WS-Trust path when it came through a trusted proxy.
 */
export function clientAddresses(request: FastifyRequest, opts: { msForwarded?: boolean } = {}): string[] {
  const out = [request.ip];
  const viaTrustedProxy = request.ips !== undefined && request.ips.length > 1;
  if (opts.msForwarded && viaTrustedProxy) {
    const header = request.headers['x-ms-forwarded-client-ip'];
    for (const v of (Array.isArray(header) ? header.join(',') : header ?? '').split(',')) {
      const ip = v.trim();
      if (isIP(ip) && !out.includes(ip)) out.push(ip);
    }
  }
  return out;
}
