// The pieces of Windows sign-in that need no KDC: reading the Negotiate header, the keytab, the mapping
// of a principal to an account, and the kerberos section of the configuration.
import { describe, expect, it } from 'vitest';
import { readNegotiateHeader } from '../../src/authn/negotiate-token.js';
import { readKeytab } from '../../src/authn/keytab.js';
import { accountOfPrincipal } from '../../src/authn/windows-user.js';
import { realmOfBaseDn, resolveKerberos } from '../../src/config/kerberos.js';
import { DEFAULT_NEGOTIATE_USER_AGENTS } from '../../src/config/schema/kerberos.js';
import { ConfigError } from '../../src/errors.js';

// A GSS InitialContextToken (tag 0x60) with SPNEGO's OID and the Kerberos 5 mechanism OID in it.
const SPNEGO_KRB5 = Buffer.concat([Buffer.from('6082', 'hex'), Buffer.from('06062b0601050502', 'hex'), Buffer.from('06092a864886f712010202', 'hex'), Buffer.alloc(20, 1)]);
// An NTLM NEGOTIATE_MESSAGE as Windows sends it bare in a Negotiate header.
const NTLM_TYPE1 = 'TlRMTVNTUAABAAAAB4IIogAAAAAAAAAAAAAAAAAAAAAGAbEdAAAADw==';

describe('the Negotiate header', () => {
  const read = (h: string | undefined) => readNegotiateHeader(h, 16384);

  it('is not one without the Negotiate scheme', () => {
    expect(read(undefined)).toBeUndefined();
    expect(read('Basic YWxpY2U6eA==')).toBeUndefined();
    expect(read('NegotiateX abc')).toBeUndefined();
  });

  it('carries a Kerberos token (SPNEGO or bare), the scheme in any case', () => {
    const b64 = SPNEGO_KRB5.toString('base64');
    expect(read(`Negotiate ${b64}`)).toEqual({ kind: 'kerberos', base64: b64 });
    expect(read(`negotiate ${b64}`)).toEqual({ kind: 'kerberos', base64: b64 });
  });

  it('tells NTLM apart, bare or inside SPNEGO', () => {
    expect(read(`Negotiate ${NTLM_TYPE1}`)).toEqual({ kind: 'ntlm' });
    const wrapped = Buffer.concat([Buffer.from('60', 'hex'), Buffer.alloc(10), Buffer.from(NTLM_TYPE1, 'base64')]);
    expect(read(`Negotiate ${wrapped.toString('base64')}`)).toEqual({ kind: 'ntlm' });
  });

  it('refuses empty, non-base64, oversized, continuation and mechanism-less tokens', () => {
    expect(read('Negotiate')).toMatchObject({ kind: 'unusable', why: 'empty token' });
    expect(read('Negotiate !!!!')).toMatchObject({ kind: 'unusable', why: 'token is not base64' });
    expect(read('Negotiate abc')).toMatchObject({ kind: 'unusable', why: 'token is not base64' });
    expect(readNegotiateHeader(`Negotiate ${Buffer.alloc(3000, 0x60).toString('base64')}`, 2048)).toMatchObject({ kind: 'unusable', why: 'token over 2048 bytes' });
    expect(read(`Negotiate ${Buffer.from('a1820102', 'hex').toString('base64')}`)).toMatchObject({ kind: 'unusable' });
    expect(read(`Negotiate ${Buffer.from('60820102aabbcc', 'hex').toString('base64')}`)).toMatchObject({ kind: 'unusable', why: 'no Kerberos mechanism in the token' });
  });
});

/** One keytab entry as MIT and Samba write it (version 0x502), with the 32-bit version number after the key. */
function entry(components: string[], realm: string, kvno: number, enctype: number, key: Buffer): Buffer {
  const text = (s: string) => Buffer.concat([Buffer.from([0, Buffer.byteLength(s)]), Buffer.from(s)]);
  const body = Buffer.concat([
    Buffer.from([0, components.length]),
    text(realm),
    ...components.map(text),
    Buffer.from([0, 0, 0, 1]), // KRB5_NT_PRINCIPAL
    Buffer.from([0x6b, 0, 0, 0]), // timestamp
    Buffer.from([kvno & 0xff]),
    Buffer.from([0, enctype, 0, key.length]),
    key,
    Buffer.from([(kvno >>> 24) & 0xff, (kvno >>> 16) & 0xff, (kvno >>> 8) & 0xff, kvno & 0xff]),
  ]);
  const size = Buffer.alloc(4);
  size.writeInt32BE(body.length);
  return Buffer.concat([size, body]);
}

describe('the keytab', () => {
  it('lists its principals, key versions and encryption types, skipping holes', () => {
    const hole = Buffer.alloc(4 + 8);
    hole.writeInt32BE(-8);
    const data = Buffer.concat([
      Buffer.from([5, 2]),
      entry(['HTTP', 'sts.corp.example.com'], 'CORP.EXAMPLE.COM', 3, 18, Buffer.alloc(32, 7)),
      hole,
      entry(['HTTP', 'sts.corp.example.com'], 'CORP.EXAMPLE.COM', 300, 23, Buffer.alloc(16, 7)),
    ]);
    expect(readKeytab(data)).toEqual([
      { principal: 'HTTP/sts.corp.example.com@CORP.EXAMPLE.COM', kvno: 3, enctype: 18 },
      { principal: 'HTTP/sts.corp.example.com@CORP.EXAMPLE.COM', kvno: 300, enctype: 23 },
    ]);
  });

  it('is refused when it is not one', () => {
    expect(() => readKeytab(Buffer.from('-----BEGIN CERTIFICATE-----'))).toThrow('not a keytab');
    expect(() => readKeytab(Buffer.from([5, 1, 0, 0]))).toThrow('not a keytab');
  });
});

describe('the account of a principal', () => {
  const realm = 'CORP.EXAMPLE.TEST';
  it('is the sAMAccountName of the same realm, whatever its case', () => {
    expect(accountOfPrincipal('alice@CORP.EXAMPLE.TEST', realm)).toEqual({ sam: 'alice' });
    expect(accountOfPrincipal('Alice@corp.example.test', realm)).toEqual({ sam: 'Alice' });
  });
  it('is a UPN for an enterprise principal', () => {
    expect(accountOfPrincipal('alice\\@example.com@CORP.EXAMPLE.TEST', realm)).toEqual({ upn: 'alice@example.com' });
  });
  it('is none for another realm or a service', () => {
    expect(accountOfPrincipal('alice@OTHER.TEST', realm)).toBeUndefined();
    expect(accountOfPrincipal('HTTP/www@CORP.EXAMPLE.TEST', realm)).toBeUndefined();
    expect(accountOfPrincipal('alice', realm)).toBeUndefined();
    expect(accountOfPrincipal('@CORP.EXAMPLE.TEST', realm)).toBeUndefined();
  });
});

describe('the kerberos configuration', () => {
  const raw = { enabled: true, keytab: 'http.keytab', userAgents: DEFAULT_NEGOTIATE_USER_AGENTS, maxTokenBytes: 16384 };
  it('derives the realm from the base DN and the principal from the public host', () => {
    expect(realmOfBaseDn('DC=corp, dc=Example,DC=com')).toBe('CORP.EXAMPLE.COM');
    const k = resolveKerberos(raw, 'sts.corp.example.com', 'OU=x,DC=corp,DC=example,DC=com', '/etc/gatehouse');
    expect(k.realm).toBe('CORP.EXAMPLE.COM');
    expect(k.servicePrincipal).toBe('HTTP/sts.corp.example.com@CORP.EXAMPLE.COM');
    expect(k.keytab).toBe('/etc/gatehouse/http.keytab');
  });
  it('names the key that is wrong', () => {
    expect(() => resolveKerberos({ ...raw, keytab: undefined }, 'h', 'DC=a', '/')).toThrow(new ConfigError('kerberos.keytab: required when kerberos.enabled is true'));
    expect(() => resolveKerberos({ ...raw, userAgents: ['('] }, 'h', 'DC=a', '/')).toThrow(/^kerberos\.userAgents\[0\]: not a valid regular expression/);
  });
  it('offers Negotiate by default to Edge, Chrome and Firefox on Windows and macOS, not to Linux or phones', () => {
    const k = resolveKerberos(raw, 'h', 'DC=a', '/');
    const known = (ua: string) => k.userAgents.some((re) => re.test(ua));
    expect(known('Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0')).toBe(true);
    expect(known('Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0')).toBe(true);
    expect(known('Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36')).toBe(true);
    expect(known('Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36')).toBe(false);
    expect(known('Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1')).toBe(false);
    expect(known('curl/7.88.1')).toBe(false);
  });
});
