import { isIP } from 'node:net';

/** An IPv4/IPv6 address, or a CIDR range of one (10.0.0.0/8, 2001:db8::/32): the ranges the config lists. */
export function isAddressRange(entry: string): boolean {
  const [ip, bits, extra] = entry.split('/');
  const family = isIP(ip ?? '');
  if (!family || extra !== undefined) return false;
  if (bits === undefined) return true;
  if (!/^\d{1,3}$/.test(bits)) return false;
  return Number(bits) <= (family === 6 ? 128 : 32);
}
