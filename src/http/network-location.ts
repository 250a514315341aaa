import type { FastifyRequest } from 'fastify';
import type { Config } from '../config/load.js';
import { addressMatcher } from './address-ranges.js';

type NetworkConfig = Config['network'];

const matchers = new WeakMap<NetworkConfig, (addr: string) => boolean>();

/**
 * Whether a request comes from inside the corporate network (`network.corporate`), as ADFS decides it for
 * the insidecorporatenetwork claim: the client address (behind trusted proxies, from X-Forwarded-For) is
 * in a corporate range, and no extranet proxy marked the request. A client can only put itself outside by
 * sending the marker, so the marker needs no proof that a proxy sent it.
 */
export function insideCorporateNetwork(request: FastifyRequest, network: NetworkConfig): boolean {
  if (network.corporate.length === 0) return false;
  if (network.extranetHeader && request.headers[network.extranetHeader.toLowerCase()] !== undefined) return false;
  let inCorporateRange = matchers.get(network);
  if (!inCorporateRange) matchers.set(network, (inCorporateRange = addressMatcher(network.corporate)));
  return inCorporateRange(request.ip);
}
