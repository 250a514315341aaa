import { createServer, type RequestListener, type Server } from 'node:http';
import type { Config } from '../config/load.js';
import { addressMatcher } from './address-ranges.js';

/**
 * The HTTP server with time limits that hold without a buffering proxy in front: a request must arrive
 * whole within `requestTimeoutSeconds` (Node checks every second), so a client trickling a body one byte at
 * a time cannot keep connections open; and each client address may hold at most
 * `maxConnectionsPerAddress` connections, so one host cannot take them all. Addresses in `trustedProxies`
 * are not capped: every user arrives through them.
 */
export function createLimitedServer(cfg: Pick<Config, 'http' | 'trustedProxies'>, handler: RequestListener): Server {
  const { requestTimeoutSeconds, headersTimeoutSeconds, keepAliveTimeoutSeconds, maxConnectionsPerAddress } = cfg.http;
  const server = createServer(
    {
      requestTimeout: requestTimeoutSeconds * 1000,
      headersTimeout: Math.min(headersTimeoutSeconds, requestTimeoutSeconds) * 1000,
      keepAliveTimeout: keepAliveTimeoutSeconds * 1000,
      connectionsCheckingInterval: 1000,
    },
    handler,
  );
  if (maxConnectionsPerAddress > 0) {
    const proxies = addressMatcher(cfg.trustedProxies);
    const open = new Map<string, number>();
    server.on('connection', (socket) => {
      const addr = socket.remoteAddress ?? '';
      if (proxies(addr)) return;
      const n = (open.get(addr) ?? 0) + 1;
      if (n > maxConnectionsPerAddress) {
        socket.destroy();
        return;
      }
      open.set(addr, n);
      socket.once('close', () => {
        const left = (open.get(addr) ?? 1) - 1;
        if (left > 0) open.set(addr, left);
        else open.delete(addr);
      });
    });
  }
  return server;
}
