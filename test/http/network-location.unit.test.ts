import type { FastifyRequest } from 'fastify';
import { describe, expect, it } from 'vitest';
import { isAddressRange } from '../../src/config/address-range.js';
import { clientInsideCorporateNetwork, insideCorporateNetwork } from '../../src/http/network-location.js';

// The request as Fastify hands it over after trustProxy: only the resolved client address and the headers.
const from = (ip: string, headers: Record<string, string> = {}) => ({ ip, headers }) as unknown as FastifyRequest;
const network = { corporate: ['10.0.0.0/8', '192.168.7.12', '2001:db8::/32'], extranetHeader: 'x-ms-proxy' };

describe('inside the corporate network', () => {
  it('follows the configured ranges, IPv4 on IPv6 sockets too', () => {
    expect(insideCorporateNetwork(from('10.20.30.40'), network)).toBe(true);
    expect(insideCorporateNetwork(from('::ffff:10.1.1.1'), network)).toBe(true);
    expect(insideCorporateNetwork(from('192.168.7.12'), network)).toBe(true);
    expect(insideCorporateNetwork(from('2001:db8:1::5'), network)).toBe(true);
    expect(insideCorporateNetwork(from('192.168.7.13'), network)).toBe(false);
    expect(insideCorporateNetwork(from('203.0.113.9'), network)).toBe(false);
  });

  it('an extranet proxy marker puts the request outside whatever its address', () => {
    expect(insideCorporateNetwork(from('10.20.30.40', { 'x-ms-proxy': 'wap01' }), network)).toBe(false);
    expect(insideCorporateNetwork(from('10.20.30.40', { 'x-ms-proxy': 'wap01' }), { ...network, extranetHeader: '' })).toBe(true);
  });

  it('no corporate ranges: every client is outside', () => {
    expect(insideCorporateNetwork(from('127.0.0.1'), { corporate: [], extranetHeader: 'x-ms-proxy' })).toBe(false);
  });

  it('accepts addresses and CIDR ranges only', () => {
    for (const ok of ['10.0.0.0/8', '127.0.0.1', '::1', '2001:db8::/32', '0.0.0.0/0']) expect(isAddressRange(ok), ok).toBe(true);
    for (const bad of ['10.0.0.0/33', '10.0.0/8', 'corp.example.com', '10.0.0.0/8/1', '::/129', '10.0.0.0/']) {
      expect(isAddressRange(bad), bad).toBe(false);
    }
  });
});

describe("where the client itself is (X-MS-Forwarded-Client-IP, the access policy's clientNetwork)", () => {
  it('a client Exchange Online relays: inside when every forwarded address is corporate, whatever the call itself', () => {
    expect(clientInsideCorporateNetwork(['192.168.7.12'], false, network)).toBe(true);
    expect(clientInsideCorporateNetwork(['10.1.2.3', '203.0.113.9'], false, network)).toBe(false);
    expect(clientInsideCorporateNetwork(['203.0.113.9'], true, network)).toBe(false);
  });

  it('without forwarded addresses, the request decides; no corporate ranges, always outside', () => {
    expect(clientInsideCorporateNetwork([], true, network)).toBe(true);
    expect(clientInsideCorporateNetwork([], false, network)).toBe(false);
    expect(clientInsideCorporateNetwork(['10.1.2.3'], false, { corporate: [], extranetHeader: '' })).toBe(false);
  });
});
