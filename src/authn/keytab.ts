/** One key of a keytab: whose, which version, which encryption type (no key material leaves this module). */
export interface KeytabEntry {
  /** HTTP/sts.corp.example.com@CORP.EXAMPLE.COM */
  principal: string;
  kvno: number;
  enctype: number;
}

/** The encryption types a keytab made by ktpass or samba-tool holds, by number (RFC 3961, RFC 4757). */
export const ENCTYPE_NAMES: Record<number, string> = {
  17: 'aes128-cts-hmac-sha1-96',
  18: 'aes256-cts-hmac-sha1-96',
  19: 'aes128-cts-hmac-sha256-128',
  20: 'aes256-cts-hmac-sha384-192',
  23: 'arcfour-hmac (RC4, deprecated)',
};

/**
 * The entries of an MIT keytab file (version 0x502, the format ktpass and samba-tool write), read for
 * check-config: which principals it holds. Kerberos itself reads the keytab in the GSSAPI library.
 * @throws Error with what is wrong when the file is not a keytab
 */
export function readKeytab(data: Buffer): KeytabEntry[] {
  if (data.length < 2 || data[0] !== 0x05 || data[1] !== 0x02) throw new Error('not a keytab (version 0x502 expected)');
  const entries: KeytabEntry[] = [];
  let pos = 2;
  while (pos + 4 <= data.length) {
    const size = data.readInt32BE(pos);
    pos += 4;
    if (size < 0) {
      pos += -size; // a hole left by a removed entry
      continue;
    }
    if (size === 0 || pos + size > data.length) break;
    const end = pos + size;
    let p = pos;
    const u16 = () => {
      const v = data.readUInt16BE(p);
      p += 2;
      return v;
    };
    const text = () => {
      const n = u16();
      if (p + n > end) throw new Error('keytab entry runs past its end');
      const s = data.toString('utf8', p, p + n);
      p += n;
      return s;
    };
    const components = u16();
    const realm = text();
    const names: string[] = [];
    for (let i = 0; i < components; i++) names.push(text());
    p += 4 + 4; // name type, timestamp
    let kvno = data[p]!;
    p += 1;
    const enctype = u16();
    const keyLength = u16();
    p += keyLength; // the key itself
    // A 32-bit version number follows when the 8-bit one overflowed.
    if (end - p >= 4) {
      const kvno32 = data.readUInt32BE(p);
      if (kvno32 !== 0) kvno = kvno32;
    }
    entries.push({ principal: `${names.join('/')}@${realm}`, kvno, enctype });
    pos = end;
  }
  return entries;
}
