import { ExclusiveCanonicalization, SignedXml } from 'xml-crypto';
import { describe, expect, it } from 'vitest';
import { serializeSaml11 } from '../../src/tokens/saml11.js';
import { signCanonical } from '../../src/tokens/canonical-sign.js';
import { signEnveloped } from '../../src/tokens/sign.js';
import { loadSigningKey } from '../../src/keys/keystore.js';
import { newAssertionId, type Assertion } from '../../src/tokens/assertion.js';
import { testKeys } from '../support/gatehouse.js';
import { parseXml, SAML11_ID, xmlsecVerify } from '../support/xml.js';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';

const HOSTILE = ['a&b<c>d"e\'f', 'tab\there', 'line\nbreak', 'cr\rreturn', 'crlf\r\nend', 'ünïcødé ✓ 𝄞', ']]> <!-- x -->', '   spaced   '];

function assertionWith(value: string): Assertion {
  const now = new Date('2026-11-26T08:00:00.123Z');
  return {
    id: newAssertionId(),
    issuer: `http://sts.example/${value}`,
    issueInstant: now,
    notBefore: now,
    notOnOrAfter: new Date(now.getTime() + 3600_000),
    audience: `urn:rp:${value}`,
    subject: { nameId: value, format: 'urn:oasis:names:tc:SAML:2.0:nameid-format:persistent' },
    authn: { method: 'urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport', instant: now },
    attributes: [
      { type: 'http://schemas.xmlsoap.org/claims/UPN', values: [value] },
      { type: 'http://schemas.example/claims/multi', values: [value, 'second'] },
    ],
  } as Assertion;
}

function key() {
  const dir = mkdtempSync(join(tmpdir(), 'gh-c14n-'));
  writeFileSync(join(dir, 'c.pem'), testKeys().certPem);
  writeFileSync(join(dir, 'k.pem'), testKeys().keyPem);
  return loadSigningKey(join(dir, 'c.pem'), join(dir, 'k.pem'));
}

describe('SAML 1.1 tokens written in canonical form and signed without a DOM', () => {
  const signingKey = key();

  it.each(HOSTILE)('serializeSaml11 output is its own exclusive canonical form (%j)', (value) => {
    const xml = serializeSaml11(assertionWith(value));
    const doc = parseXml(xml);
    const canonical = new ExclusiveCanonicalization().process(doc.documentElement as unknown as Element, {}).toString();
    expect(canonical).toBe(xml);
  });

  it.each(HOSTILE)('the signature verifies with xmlsec1 and xml-crypto, and matches xml-crypto\'s digest (%j)', (value) => {
    const a = assertionWith(value);
    const xml = serializeSaml11(a);
    const fast = signCanonical(xml, a.id, '</saml:Assertion>', signingKey);
    const v = xmlsecVerify(fast, signingKey.certPem, SAML11_ID);
    expect(v.ok, v.output).toBe(true);

    const doc = parseXml(fast);
    const sig = new SignedXml({ publicCert: signingKey.certPem, idAttribute: 'AssertionID' });
    sig.loadSignature(doc.getElementsByTagNameNS('http://www.w3.org/2000/09/xmldsig#', 'Signature')[0] as unknown as Node);
    expect(sig.checkSignature(fast)).toBe(true);

    const slow = signEnveloped(xml, signingKey, {
      xpath: "/*[local-name(.)='Assertion']",
      idAttribute: 'AssertionID',
    });
    const field = (s: string, name: string) => new RegExp(`<ds:${name}>([^<]+)<`).exec(s)?.[1];
    expect(field(fast, 'DigestValue')).toBe(field(slow, 'DigestValue'));
    // Same key and the same canonical SignedInfo: RSA PKCS#1 v1.5 is deterministic, so the values match.
    expect(field(fast, 'SignatureValue')).toBe(field(slow, 'SignatureValue'));
  });

  it('refuses an element that does not end with the given closing tag', () => {
    expect(() => signCanonical('<a></a>', 'x', '</b>', signingKey)).toThrow(/does not end with/);
  });
});
