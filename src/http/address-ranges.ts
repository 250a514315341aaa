import { BlockList, isIP } from 'node:net';

/**
 * A test for "is this address in one of these ranges" (addresses or CIDR, IPv4 or IPv6; the config
 * validated them). IPv4 clients seen on an IPv6 socket (::ffff:10.1.2.3) match IPv4 ranges.
 */
export function addressMatcher(entries: readonly string[]): (addr: string) => boolean {
  if (entries.length === 0) return () => false;
  const list = new BlockList();
  for (const e of entries) {
    const [ip, bits] = e.split('/');
    const type = isIP(ip ?? '') === 6 ? 'ipv6' : 'ipv4';
    if (!isIP(ip ?? '')) continue;
    if (bits === undefined) list.addAddress(ip!, type);
    else list.addSubnet(ip!, Number(bits), type);
  }
  return (addr) => {
    const plain = addr.startsWith('::ffff:') ? addr.slice(7) : addr;
    const type = isIP(plain) === 6 ? 'ipv6' : 'ipv4';
    return isIP(plain) !== 0 && list.check(plain, type);
  };
}
