import { verify as cryptoVerify, type X509Certificate } from 'node:crypto';
import { SignedXml } from 'xml-crypto';
import { ALG, ALG_SAML2, NS } from '../constants.js';
import { childElements, COMMENT_NODE, ELEMENT_NODE } from './dom.js';

/**
 * Strict checks of signatures that a relying party (or a metadata publisher) puts on what it sends us.
 *
 * samlify's own check of signed AuthnRequest/LogoutRequest can be bypassed by signature wrapping (its
 * issue #634, GHSA-63ch-w8pw-4mf2), and XML signature wrapping in general comes from verifying one node
 * and reading another. So the rules here are narrow on purpose:
 * - exactly one ds:Signature in the whole document, a direct child of the root element;
 * - exactly one Reference, whose URI is "#" + the root element's ID, and that ID appears nowhere else;
 * - only the enveloped-signature and exclusive (or inclusive 1.0) canonicalization transforms, never
 *   the #WithComments variants or XPath/XSLT; and no comments anywhere in the document;
 * - the key is only ever a certificate pinned from configuration or the SP's metadata: KeyInfo is never
 *   read (xml-crypto is handed a no-op getCertFromKeyInfo).
 * The caller then reads the very document (root element) that was verified.
 */

export class SignatureError extends Error {
  override name = 'SignatureError';
}

const ALLOWED_C14N = new Set<string>([ALG.excC14n, ALG_SAML2.c14n]);
const ALLOWED_TRANSFORMS = new Set<string>([ALG.enveloped, ALG.excC14n, ALG_SAML2.c14n]);
const ALLOWED_SIG = new Set<string>([ALG.rsaSha256, ALG_SAML2.rsaSha512]);
const ALLOWED_DIGEST = new Set<string>([ALG.sha256, ALG_SAML2.sha512]);
/** SHA-1 only where the relying party's configuration says so (acceptSha1Signatures), as ADFS's per-trust setting. */
const SHA1 = new Set<string>([ALG_SAML2.rsaSha1, ALG_SAML2.sha1]);

export interface VerifyOptions {
  /** Also accept RSA-SHA1 / SHA-1 (relyingParties[].acceptSha1Signatures); default SHA-256 and SHA-512 only. */
  sha1?: boolean;
}

function algorithmAllowed(alg: string, allowed: Set<string>, opts: VerifyOptions, what: string): void {
  if (allowed.has(alg) || (opts.sha1 && SHA1.has(alg))) return;
  if (SHA1.has(alg)) throw new SignatureError(`${what} ${alg} (SHA-1) not accepted from this relying party: have it sign with SHA-256, or set acceptSha1Signatures: true on its relyingParties entry`);
  throw new SignatureError(`${what} ${alg} not allowed`);
}

function only(el: Element, ns: string, local: string): Element {
  const list = childElements(el, ns, local);
  if (list.length !== 1) throw new SignatureError(`expected exactly one ${local}, found ${list.length}`);
  return list[0]!;
}

/** True when the document carries an XML signature anywhere (a signed message, or an attempt at one). */
export function hasXmlSignature(doc: Document): boolean {
  return doc.getElementsByTagNameNS(NS.ds, 'Signature').length > 0;
}

/**
 * Verifies the enveloped signature over the root element of `doc` (already parsed by parseXmlSafely)
 * with one of `certs`.
 * @throws SignatureError with a reason for the log (never shown to the sender).
 */
export function verifyRootSignature(xml: string, doc: Document, certs: X509Certificate[], opts: VerifyOptions = {}): void {
  if (!certs.length) throw new SignatureError('no certificate to verify with');
  const root = doc.documentElement;
  const all = doc.getElementsByTagNameNS(NS.ds, 'Signature');
  if (all.length !== 1) throw new SignatureError(`expected exactly one ds:Signature, found ${all.length}`);
  const sig = all[0]!;
  if (sig.parentNode !== root) throw new SignatureError('the signature is not a child of the root element');

  // Comments change nothing for exc-c14n but are how several bypasses smuggled text past digests.
  const walk: Node[] = [doc as unknown as Node];
  while (walk.length) {
    const n = walk.pop()!;
    for (let c = n.firstChild; c; c = c.nextSibling) {
      if (c.nodeType === COMMENT_NODE) throw new SignatureError('comment in a signed document');
      if (c.nodeType === ELEMENT_NODE) walk.push(c);
    }
  }

  const id = root.getAttribute('ID');
  if (!id) throw new SignatureError('the root element has no ID');
  let seen = 0;
  const elements = doc.getElementsByTagName('*');
  for (let i = 0; i < elements.length; i++) {
    const e = elements[i]!;
    for (const name of ['ID', 'Id', 'id']) if (e.getAttribute(name) === id) seen++;
  }
  if (seen !== 1) throw new SignatureError('the root ID is not unique in the document');

  const signedInfo = only(sig, NS.ds, 'SignedInfo');
  const c14n = only(signedInfo, NS.ds, 'CanonicalizationMethod').getAttribute('Algorithm') ?? '';
  if (!ALLOWED_C14N.has(c14n)) throw new SignatureError(`canonicalization ${c14n} not allowed`);
  const method = only(signedInfo, NS.ds, 'SignatureMethod').getAttribute('Algorithm') ?? '';
  algorithmAllowed(method, ALLOWED_SIG, opts, 'signature method');
  const ref = only(signedInfo, NS.ds, 'Reference');
  if (ref.getAttribute('URI') !== `#${id}`) throw new SignatureError('the reference is not to the root element');
  const digest = only(ref, NS.ds, 'DigestMethod').getAttribute('Algorithm') ?? '';
  algorithmAllowed(digest, ALLOWED_DIGEST, opts, 'digest');
  const transforms = childElements(ref, NS.ds, 'Transforms');
  if (transforms.length > 1) throw new SignatureError('more than one Transforms');
  for (const t of transforms.length ? childElements(transforms[0]!, NS.ds, 'Transform') : []) {
    const alg = t.getAttribute('Algorithm') ?? '';
    if (!ALLOWED_TRANSFORMS.has(alg)) throw new SignatureError(`transform ${alg} not allowed`);
  }

  let lastError = 'no certificate matched';
  for (const cert of certs) {
    const sx = new SignedXml({
      publicCert: cert.toString(),
      // No idAttribute: xml-crypto already looks for ID (and Id, id), and naming it again counted the
      // root twice, so every XML-signed request failed with its "multiple elements with the same ID".
      // Never trust a key carried in the message (CVE-2024-32962).
      getCertFromKeyInfo: () => null,
    });
    sx.loadSignature(sig);
    try {
      if (sx.checkSignature(xml)) {
        const refs = sx.getSignedReferences();
        if (refs.length !== 1) throw new SignatureError('unexpected number of signed references');
        return;
      }
    } catch (err) {
      if (err instanceof SignatureError) throw err;
      lastError = (err as Error).message.split('\n')[0]!.slice(0, 200);
    }
  }
  throw new SignatureError(`signature does not verify: ${lastError}`);
}

const REDIRECT_SIG_ALGS: Record<string, string> = {
  [ALG.rsaSha256]: 'sha256',
  [ALG_SAML2.rsaSha512]: 'sha512',
  [ALG_SAML2.rsaSha1]: 'sha1',
};

/**
 * HTTP-Redirect binding signature (saml-bindings 3.4.4.1): over the octets
 * `SAMLRequest=…&RelayState=…&SigAlg=…` exactly as they were URL-encoded in the query string received,
 * so the raw query is taken apart rather than decoded and re-encoded.
 * @throws SignatureError
 */
export function verifyRedirectSignature(rawQuery: string, messageParam: 'SAMLRequest' | 'SAMLResponse', certs: X509Certificate[], opts: VerifyOptions = {}): void {
  const raw = new Map<string, string>();
  for (const part of rawQuery.split('&')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    const k = part.slice(0, eq);
    if (raw.has(k)) throw new SignatureError(`parameter ${k} repeated`);
    raw.set(k, part.slice(eq + 1));
  }
  const sigAlgRaw = raw.get('SigAlg');
  const sigRaw = raw.get('Signature');
  const msg = raw.get(messageParam);
  if (!sigAlgRaw || !sigRaw || !msg) throw new SignatureError('SigAlg, Signature or the message is missing');
  const sigAlg = decodeURIComponent(sigAlgRaw.replace(/\+/g, ' '));
  algorithmAllowed(sigAlg, ALLOWED_SIG, opts, 'SigAlg');
  const hash = REDIRECT_SIG_ALGS[sigAlg];
  if (!hash) throw new SignatureError(`SigAlg ${sigAlg} not allowed`);
  let signed = `${messageParam}=${msg}`;
  if (raw.has('RelayState')) signed += `&RelayState=${raw.get('RelayState')}`;
  signed += `&SigAlg=${sigAlgRaw}`;
  const signature = Buffer.from(decodeURIComponent(sigRaw.replace(/\+/g, ' ')), 'base64');
  for (const cert of certs) {
    if (cryptoVerify(hash, Buffer.from(signed, 'utf8'), cert.publicKey, signature)) return;
  }
  throw new SignatureError('query-string signature does not verify');
}
