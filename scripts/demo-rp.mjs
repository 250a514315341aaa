// The demo's relying party: starts WS-Federation sign-in and shows the token it gets back, after
// checking the signature against the certificate in Gatehouse's metadata. Demo only.
//
//   node scripts/demo-rp.mjs [PORT (8081)] [GATEHOUSE URL (http://localhost:8080)] [LISTEN ADDRESS (127.0.0.1)]
//
// The listen address is 0.0.0.0 in the Docker trial, where published ports reach the container's own
// interface, not its loopback.
import { createServer } from 'node:http';
import { DOMParser } from '@xmldom/xmldom';
import { SignedXml } from 'xml-crypto';

const [port, idp, host] = [Number(process.argv[2] ?? 8081), process.argv[3] ?? 'http://localhost:8080', process.argv[4] ?? '127.0.0.1'];
const realm = 'urn:gatehouse:demo';
const esc = (s) => String(s).replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]);
const page = (body) => `<!doctype html><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Demo application</title>
<body style="font:16px system-ui;max-width:50rem;margin:2rem auto;padding:0 1rem;overflow-wrap:anywhere">${body}</body>`;

async function signingCert() {
  const md = await (await fetch(`${idp}/FederationMetadata/2007-06/FederationMetadata.xml`)).text();
  const b64 = /<ds:X509Certificate>([^<]+)<\/ds:X509Certificate>/.exec(md)[1];
  return `-----BEGIN CERTIFICATE-----\n${b64.match(/.{1,64}/g).join('\n')}\n-----END CERTIFICATE-----\n`;
}

createServer((req, res) => {
  if (req.method !== 'POST') {
    const url = `${idp}/adfs/ls/?wa=wsignin1.0&wtrealm=${encodeURIComponent(realm)}&wctx=demo`;
    res.writeHead(200, { 'content-type': 'text/html' });
    return res.end(page(`<h1>Demo application</h1><p><a href="${esc(url)}">Sign in with Gatehouse</a></p>`));
  }
  let body = '';
  req.on('data', (c) => (body += c));
  req.on('end', async () => {
    const wresult = new URLSearchParams(body).get('wresult') ?? '';
    const doc = wresult && new DOMParser({ onError: () => {} }).parseFromString(wresult, 'text/xml');
    const assertion = doc?.getElementsByTagNameNS?.('urn:oasis:names:tc:SAML:1.0:assertion', 'Assertion')[0];
    if (!assertion) {
      res.writeHead(400, { 'content-type': 'text/html' });
      return res.end(page('<h1>No token</h1><p>This page expects a WS-Federation POST with a wresult.</p>'));
    }
    let cert;
    try {
      cert = await signingCert();
    } catch (err) {
      res.writeHead(502, { 'content-type': 'text/html' });
      return res.end(page(`<h1>Cannot check the token</h1><p>Gatehouse's metadata at ${esc(idp)} could not be read: ${esc(err.message)}</p>`));
    }
    const sig = new SignedXml({ publicCert: cert, idAttribute: 'AssertionID' });
    let valid = false;
    try {
      sig.loadSignature(assertion.getElementsByTagNameNS('http://www.w3.org/2000/09/xmldsig#', 'Signature')[0]);
      valid = sig.checkSignature(assertion.toString());
    } catch { /* shown below */ }
    const list = assertion.getElementsByTagNameNS('urn:oasis:names:tc:SAML:1.0:assertion', 'Attribute');
    const rows = Array.from({ length: list.length }, (_, i) => list.item(i)).map(
      (a) => `<tr><td>${esc(a.getAttribute('AttributeNamespace'))}/<b>${esc(a.getAttribute('AttributeName'))}</b></td><td>${esc(a.textContent)}</td></tr>`,
    );
    res.writeHead(200, { 'content-type': 'text/html' });
    res.end(page(`<h1>Signed in</h1><p>Signature: <b>${valid ? 'valid' : 'INVALID'}</b>; issuer ${esc(assertion.getAttribute('Issuer'))}</p>
<table border=1 cellpadding=6>${rows.join('')}</table>
<p><a href="${esc(idp)}/adfs/ls/?wa=wsignout1.0&amp;wreply=${encodeURIComponent(`http://localhost:${port}/`)}">Sign out</a></p>
<details><summary>Token</summary><pre style="white-space:pre-wrap">${esc(wresult)}</pre></details>`));
  });
}).listen(port, host, () => console.error(`[demo-rp] http://localhost:${port}/`));

// As a container's process 1, Node would ignore SIGTERM without a handler (docker stop would wait 10 s).
for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => process.exit(0));
