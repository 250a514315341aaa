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
  return inCorporateRange(network)(request.ip);
}

/**
 * Where the client itself is, for the access policy's clientNetwork (ADFS's rules on x-ms-forwarded-client-ip):
 * a rich client that Exchange Online relays over WS-Trust reaches Gatehouse from Microsoft's addresses,
 * always outside, with its own address in X-MS-Forwarded-Client-IP (`forwarded`, believed only through
 * trusted proxies). It is inside when every forwarded address is in network.corporate; the extranet marker
 * does not count here, since the reverse proxy adds it to every Exchange Online call. Without forwarded
 * addresses the request's own location (`requestInside`) decides.
 */
export function clientInsideCorporateNetwork(forwarded: readonly string[], requestInside: boolean, network: NetworkConfig): boolean {
  if (forwarded.length === 0) return requestInside;
  const inside = inCorporateRange(network);
  return forwarded.every((addr) => inside(addr));
}

function inCorporateRange(network: NetworkConfig): (addr: string) => boolean {
  let matcher = matchers.get(network);
  if (!matcher) matchers.set(network, (matcher = addressMatcher(network.corporate)));
  return matcher;
}
