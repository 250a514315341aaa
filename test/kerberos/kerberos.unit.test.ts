// The pieces of Windows sign-in that need no KDC: reading the Negotiate header, the keytab, the mapping
// of a principal to an account, the kerberos section of the configuration, and a computer's token
// claims (the hybrid join).
import { describe, expect, it } from 'vitest';
import { readNegotiateHeader } from '../../src/authn/negotiate-token.js';
import { readKeytab } from '../../src/authn/keytab.js';
import { accountOfPrincipal } from '../../src/authn/windows-user.js';
import { realmOfBaseDn, resolveKerberos } from '../../src/config/kerberos.js';
import { DEFAULT_NEGOTIATE_USER_AGENTS } from '../../src/config/schema/kerberos.js';
import { ConfigError } from '../../src/errors.js';
import { isComputerAccount } from '../../src/authn/windows-user.js';
import { sidToString } from '../../src/directory/sid.js';
import { computerIssuer } from '../../src/claims/federated-issuer.js';
import { releaseClaims } from '../../src/claims/release.js';
import { resolveClaims } from '../../src/claims/resolve.js';
import { MICROSOFT_365, checkRelyingParty } from '../../src/config/relying-parties.js';

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
  const raw = { enabled: true, keytab: 'http.keytab', userAgents: DEFAULT_NEGOTIATE_USER_AGENTS, maxTokenBytes: 16384, windowsTransport: 'intranet' as const };
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

describe('windowstransport and the computers\' domain in the configuration', () => {
  const raw = { enabled: true, keytab: 'k', userAgents: [], maxTokenBytes: 16384, windowsTransport: 'intranet' as const };
  it('serves windowstransport only with kerberos on; computers take the first federated domain unless told', () => {
    expect(resolveKerberos(raw, 'h', 'DC=a', '/').windowsTransport).toBe('intranet');
    expect(resolveKerberos({ ...raw, enabled: false }, 'h', 'DC=a', '/').windowsTransport).toBe('off');
    expect(resolveKerberos({ ...raw, windowsTransport: 'off' }, 'h', 'DC=a', '/').windowsTransport).toBe('off');
    expect(resolveKerberos(raw, 'h', 'DC=a', '/', ['a.example', 'b.example']).computerDomain).toBe('a.example');
    expect(resolveKerberos({ ...raw, computerDomain: 'B.example.' }, 'h', 'DC=a', '/', ['a.example', 'b.example']).computerDomain).toBe('b.example');
    expect(resolveKerberos(raw, 'h', 'DC=a', '/').computerDomain).toBeUndefined();
  });
  it('names the key when the computers\' domain is not federated', () => {
    expect(() => resolveKerberos({ ...raw, computerDomain: 'c.example' }, 'h', 'DC=a', '/', ['a.example'])).toThrow(/^kerberos\.computerDomain: c\.example is not one of federatedDomains \(a\.example\)/);
  });
});

describe('a computer account (the hybrid join)', () => {
  it('is a principal whose account name ends in $', () => {
    expect(isComputerAccount({ sam: 'WS01$' })).toBe(true);
    expect(isComputerAccount({ sam: 'alice' })).toBe(false);
    expect(isComputerAccount({ sam: '$' })).toBe(false);
    expect(isComputerAccount({ upn: 'ws01$@x' })).toBe(false);
  });

  it('has its objectSid written as Windows writes it', () => {
    // S-1-5-21-1004336348-1177238915-682003330-1105, built byte by byte.
    const sid = Buffer.alloc(28);
    sid[0] = 1;
    sid[1] = 5;
    sid.writeUIntBE(5, 2, 6);
    [21, 1004336348, 1177238915, 682003330, 1105].forEach((n, i) => sid.writeUInt32LE(n, 8 + 4 * i));
    expect(sidToString(sid)).toBe('S-1-5-21-1004336348-1177238915-682003330-1105');
    expect(() => sidToString(Buffer.alloc(3))).toThrow(/not a SID/);
    expect(() => sidToString(sid.subarray(0, 20))).toThrow(/not a SID/);
  });

  const issuer = 'http://sts.corp.example.com/adfs/services/trust';
  it('gets issuerid http://<domain>/adfs/services/trust/ always, and that as Issuer only with several domains', () => {
    const id = (v: string) => ({ type: 'http://schemas.microsoft.com/ws/2008/06/identity/claims/issuerid', values: [v] });
    expect(computerIssuer({ issuer, federatedDomains: ['a.example'] })).toEqual({ issuer, issuerId: id('http://a.example/adfs/services/trust/') });
    expect(computerIssuer({ issuer, federatedDomains: ['a.example', 'b.example'], computerDomain: 'b.example' })).toEqual({
      issuer: 'http://b.example/adfs/services/trust/',
      issuerId: id('http://b.example/adfs/services/trust/'),
    });
    expect(computerIssuer({ issuer, federatedDomains: [] })).toEqual({ issuer });
  });

  it("gets Microsoft 365's device claims and no UPN; with several domains the token's Issuer is the computers' domain", () => {
    const guid = Buffer.from('00112233445566778899aabbccddeeff', 'hex');
    const computer = {
      dn: 'CN=WS01,CN=Computers,DC=corp,DC=example,DC=com', sAMAccountName: 'WS01$', userPrincipalName: undefined, objectGUID: guid, consistencyGuid: undefined,
      displayName: undefined, givenName: undefined, surname: undefined, mail: undefined, userAccountControl: 4096, passwordExpires: undefined,
      computer: { sid: 'S-1-5-21-1-2-3-1105' },
    };
    const m365 = checkRelyingParty(MICROSOFT_365, 'built-in');
    const out = releaseClaims(m365, resolveClaims(computer), {
      expiryNotifyDays: 14, passwordChangeUrl: 'x', domains: { issuer, federatedDomains: ['a.example', 'b.example'] },
    });
    expect(out.issuer).toBe('http://a.example/adfs/services/trust/');
    expect(out.subject.nameId).toBe(guid.toString('base64'));
    expect(Object.fromEntries(out.attributes.map((a) => [a.type, a.values]))).toEqual({
      'http://schemas.microsoft.com/LiveID/Federation/2008/05/ImmutableID': [guid.toString('base64')],
      'http://schemas.microsoft.com/ws/2012/01/accounttype': ['DJ'],
      'http://schemas.microsoft.com/identity/claims/onpremobjectguid': [guid.toString('base64')],
      'http://schemas.microsoft.com/ws/2008/06/identity/claims/primarysid': ['S-1-5-21-1-2-3-1105'],
      'http://schemas.microsoft.com/ws/2008/06/identity/claims/issuerid': ['http://a.example/adfs/services/trust/'],
    });
  });
});
