// Token issuance: signed WS-Federation responses per second, against (a) the raw rate of one RSA-SHA256
// signature with the same key (node:crypto, the physical limit of one signature per token) and (b) a
// straightforward xml-crypto implementation of the same token (parse a template, fill it, sign, serialize).
import { createPrivateKey, randomBytes, randomUUID, sign } from 'node:crypto';
import { cpus } from 'node:os';
import { DOMParser, XMLSerializer } from '@xmldom/xmldom';
import { SignedXml } from 'xml-crypto';
import { createSelfSignedCertificate } from '../dist/keys/generate.js';
import { ensureDc, load, M365, rate, sessionCookie, startGatehouse, table, xmlsecVerifies } from './lib.mjs';

const TEMPLATE = `<saml:Assertion xmlns:saml="urn:oasis:names:tc:SAML:1.0:assertion" MajorVersion="1" MinorVersion="1" AssertionID="" Issuer="" IssueInstant=""><saml:Conditions NotBefore="" NotOnOrAfter=""><saml:AudienceRestrictionCondition><saml:Audience></saml:Audience></saml:AudienceRestrictionCondition></saml:Conditions><saml:AttributeStatement><saml:Subject><saml:NameIdentifier Format="urn:oasis:names:tc:SAML:2.0:nameid-format:persistent"></saml:NameIdentifier><saml:SubjectConfirmation><saml:ConfirmationMethod>urn:oasis:names:tc:SAML:1.0:cm:bearer</saml:ConfirmationMethod></saml:SubjectConfirmation></saml:Subject><saml:Attribute AttributeName="UPN" AttributeNamespace="http://schemas.xmlsoap.org/claims"><saml:AttributeValue></saml:AttributeValue></saml:Attribute><saml:Attribute AttributeName="ImmutableID" AttributeNamespace="http://schemas.microsoft.com/LiveID/Federation/2008/05"><saml:AttributeValue></saml:AttributeValue></saml:Attribute></saml:AttributeStatement><saml:AuthenticationStatement AuthenticationMethod="urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport" AuthenticationInstant=""><saml:Subject><saml:NameIdentifier Format="urn:oasis:names:tc:SAML:2.0:nameid-format:persistent"></saml:NameIdentifier><saml:SubjectConfirmation><saml:ConfirmationMethod>urn:oasis:names:tc:SAML:1.0:cm:bearer</saml:ConfirmationMethod></saml:SubjectConfirmation></saml:Subject></saml:AuthenticationStatement></saml:Assertion>`;
const SAML = 'urn:oasis:names:tc:SAML:1.0:assertion';

/** Baseline (b): how a straightforward xml-crypto implementation builds and signs the same token. */
function xmlCryptoToken(privateKey, certPem) {
  const doc = new DOMParser().parseFromString(TEMPLATE, 'text/xml');
  const a = doc.documentElement;
  const now = new Date();
  const iso = now.toISOString();
  a.setAttribute('AssertionID', '_' + randomUUID().replace(/-/g, ''));
  a.setAttribute('Issuer', 'http://sts.corp.example.test/adfs/services/trust');
  a.setAttribute('IssueInstant', iso);
  const c = doc.getElementsByTagNameNS(SAML, 'Conditions')[0];
  c.setAttribute('NotBefore', iso);
  c.setAttribute('NotOnOrAfter', new Date(now.getTime() + 3600_000).toISOString());
  doc.getElementsByTagNameNS(SAML, 'Audience')[0].textContent = M365;
  const ids = doc.getElementsByTagNameNS(SAML, 'NameIdentifier');
  for (let i = 0; i < ids.length; i++) ids[i].textContent = 'QNXQg75qIU+Ie0+/Rj7w1A==';
  const values = doc.getElementsByTagNameNS(SAML, 'AttributeValue');
  values[0].textContent = 'alice@corp.example.test';
  values[1].textContent = 'QNXQg75qIU+Ie0+/Rj7w1A==';
  doc.getElementsByTagNameNS(SAML, 'AuthenticationStatement')[0].setAttribute('AuthenticationInstant', iso);
  const xml = new XMLSerializer().serializeToString(doc);
  const sig = new SignedXml({
    privateKey,
    publicCert: certPem,
    signatureAlgorithm: 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256',
    canonicalizationAlgorithm: 'http://www.w3.org/2001/10/xml-exc-c14n#',
    idAttribute: 'AssertionID',
  });
  sig.addReference({
    xpath: "/*[local-name(.)='Assertion']",
    digestAlgorithm: 'http://www.w3.org/2001/04/xmlenc#sha256',
    transforms: ['http://www.w3.org/2000/09/xmldsig#enveloped-signature', 'http://www.w3.org/2001/10/xml-exc-c14n#'],
  });
  sig.computeSignature(xml, { prefix: 'ds', location: { reference: "/*[local-name(.)='Assertion']", action: 'append' } });
  return sig.getSignedXml();
}

export default async function run({ duration, connections }) {
  const keys = { ...createSelfSignedCertificate({ commonName: 'bench', bits: 2048, days: 365 }), sessionKey: randomBytes(32).toString('base64') + '\n' };
  const key = createPrivateKey(keys.keyPem);
  const seconds = Math.max(2, duration / 2);

  console.log(`in-process baselines, ${seconds} s each (one thread)...`);
  const data = randomBytes(600);
  const rawSign = rate(() => sign('sha256', data, key), seconds);
  const xmlCryptoPem = rate(() => xmlCryptoToken(keys.keyPem, keys.certPem), seconds);
  const xmlCryptoKeyObject = rate(() => xmlCryptoToken(key, keys.certPem), seconds);
  if (!xmlsecVerifies(xmlCryptoToken(key, keys.certPem), keys.certPem, 'AssertionID', `${SAML}:Assertion`)) {
    throw new Error('baseline (b) produced a token xmlsec1 rejects');
  }

  ensureDc();
  const results = [];
  for (const workers of [1, cpus().length]) {
    const gh = await startGatehouse({ keys, extra: workers > 1 ? { workers } : {} });
    try {
      const cookie = await sessionCookie(gh.url, 'alice@corp.example.test', 'Passw0rd!Alice');
      const path = `/adfs/ls/?wa=wsignin1.0&wtrealm=${encodeURIComponent(M365)}`;
      // A sample token must verify with xmlsec1 (the speed must not come from a broken signature).
      const sample = await (await fetch(gh.url + path, { headers: { cookie } })).text();
      const wresult = /name="wresult" value="([^"]+)"/.exec(sample)?.[1]?.replace(/&quot;/g, '"').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&#39;/g, "'").replace(/&amp;/g, '&');
      if (!wresult || !xmlsecVerifies(wresult, keys.certPem, 'AssertionID', `${SAML}:Assertion`)) throw new Error('Gatehouse token failed xmlsec1');
      console.log(`Gatehouse over HTTP, ${workers} worker(s), ${connections} connections, ${duration} s...`);
      const r = await load({ url: gh.url + path, headers: { cookie }, connections, duration });
      results.push({ workers, ...r });
    } finally {
      await gh.stop();
    }
  }

  const best = results.reduce((a, b) => (b.rps > a.rps ? b : a));
  const rows = [
    { measure: '(a) crypto.sign RSA-SHA256, 1 thread', 'per s': rawSign.toFixed(0), ratio: '1.00 (a)' },
    { measure: '(b) xml-crypto token, PEM key', 'per s': xmlCryptoPem.toFixed(0), ratio: `${(xmlCryptoPem / rawSign).toFixed(2)} (a)` },
    { measure: "(b') xml-crypto token, parsed key", 'per s': xmlCryptoKeyObject.toFixed(0), ratio: `${(xmlCryptoKeyObject / rawSign).toFixed(2)} (a)` },
    ...results.map((r) => ({
      measure: `Gatehouse HTTP, ${r.workers} worker(s), p50 ${r.p50} ms, p99 ${r.p99} ms`,
      'per s': r.rps.toFixed(0),
      ratio: `${(r.rps / rawSign).toFixed(2)} (a), ${(r.rps / xmlCryptoPem).toFixed(2)} (b), ${(r.rps / xmlCryptoKeyObject).toFixed(2)} (b')`,
    })),
  ];
  console.log();
  table(rows);
  return {
    baselines: { rawSignPerSec: rawSign, xmlCryptoPemPerSec: xmlCryptoPem, xmlCryptoKeyObjectPerSec: xmlCryptoKeyObject },
    gatehouse: results,
    targets: {
      'at least 50% of (a)': best.rps / rawSign >= 0.5,
      'at least 2x (b)': best.rps / xmlCryptoPem >= 2,
      "at least 2x (b')": best.rps / xmlCryptoKeyObject >= 2,
    },
  };
}
