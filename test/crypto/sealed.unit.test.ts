// The one sealed envelope (AES-256-GCM) behind the session cookie and the SAML endpoints' sealed state.
import { X509Certificate } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { SessionCodec, type Session } from '../../src/authn/session.js';
import { certificatePem } from '../../src/crypto/pem.js';
import { SealedBox, Sealer } from '../../src/crypto/sealed.js';
import { testKeys } from '../support/gatehouse.js';

const KEY = Buffer.alloc(32, 7);
const OTHER = Buffer.alloc(32, 9);
const SESSION: Session = { sid: 'sid-1', dn: 'CN=Alice,DC=corp', upn: 'alice@corp', authInstant: 1700000000000, expires: 4102444800000, realms: ['urn:federation:MicrosoftOnline'] };

// Sealed with the key KEY by the codecs as they were before crypto/sealed.ts (SessionCodec in
// authn/session.ts, Sealer in protocols/saml2/sealed.ts): cookies and sign-in URLs in flight during an
// upgrade must still open.
const OLD_COOKIE =
  'ATgoQZu7aDOnhdrnXJG89zVj9gfQxcGRRIHzkj2l2x_mkpJNCpspJgFK4JVBQJOpXkrBjJe_UYmBYx3whicmA3GeVCSbi11ZJxLEFwaY8CAfYhIYlAN9ojrB11l_7Yz3KuCGpGgqklcySqgszNHn456XVzyeS0vGIIBwMpfHMULUbiX-BZkCRwutYjsMbeMdF00p1Sc9Q_a-WSV_kpKNScu8efjLgU6YAmsewaX4NezvAgBgVjNW';
const OLD_AUTHN_REQUEST = 'PIStk0UwOzHP7NW4GOVXYOwc-PSJo9MvD-MDnTtucSOMAvkE7JU72lMgMLq7rNk9rfeICmKqm3yBuC9O_VvBid39Y_IqgjGi8wXGyNNqZaFY';
const OLD_SEALED_AT = 1700000000000; // sealed for 3600 s from then

describe('the session cookie', () => {
  it('opens cookies sealed before the codec moved (same format and key)', () => {
    expect(new SessionCodec([KEY]).open(OLD_COOKIE)).toEqual(SESSION);
  });

  it('seals with the first secret and opens with any listed one', () => {
    const cookie = new SessionCodec([OTHER, KEY]).seal(SESSION);
    expect(Buffer.from(cookie, 'base64url')[0]).toBe(1); // the format byte
    expect(new SessionCodec([OTHER]).open(cookie)).toEqual(SESSION);
    expect(new SessionCodec([KEY, OTHER]).open(cookie)).toEqual(SESSION);
    expect(new SessionCodec([KEY]).open(cookie)).toBeUndefined();
  });

  it('refuses expired, tampered and oversized cookies', () => {
    const codec = new SessionCodec([KEY]);
    expect(codec.open(OLD_COOKIE, SESSION.expires)).toBeUndefined();
    const raw = Buffer.from(codec.seal(SESSION), 'base64url');
    raw[raw.length - 1]! ^= 1;
    expect(codec.open(raw.toString('base64url'))).toBeUndefined();
    expect(codec.open('A'.repeat(8193))).toBeUndefined();
    expect(codec.open(undefined)).toBeUndefined();
  });
});

describe('sealed SAML state', () => {
  it('opens what was sealed before the codec moved, until it expires', () => {
    const sealer = new Sealer([KEY], 'saml2 authn request');
    expect(sealer.open(OLD_AUTHN_REQUEST, OLD_SEALED_AT + 1000)).toEqual({ rp: 'urn:sp', id: '_abc' });
    expect(sealer.open(OLD_AUTHN_REQUEST, OLD_SEALED_AT + 3600_000)).toBeUndefined();
  });

  it('a purpose is a key of its own: one purpose cannot open another, nor a cookie', () => {
    const token = new Sealer([KEY], 'saml2 authn request').seal({ a: 1 }, 60);
    expect(new Sealer([KEY], 'saml2 logout chain').open(token)).toBeUndefined();
    expect(new SessionCodec([KEY]).open(token)).toBeUndefined();
    const box = (maxLength: number) => new SealedBox([KEY], { info: 'gatehouse saml2 authn request v1', maxLength });
    expect(box(token.length).open(token)).toMatchObject({ v: { a: 1 } });
    expect(box(token.length - 1).open(token)).toBeUndefined();
  });
});

describe('certificatePem', () => {
  it('gives back the certificate from its base64 DER, in lines of 64', () => {
    const cert = new X509Certificate(testKeys().certPem);
    const b64 = cert.raw.toString('base64');
    const pem = certificatePem(b64.replace(/.{50}/g, '$&\n '));
    expect(new X509Certificate(pem).fingerprint256).toBe(cert.fingerprint256);
    expect(pem.split('\n').slice(1, -3).every((l) => l.length === 64)).toBe(true);
    expect(pem).toBe(testKeys().certPem.replace(/\r\n/g, '\n'));
  });
});
