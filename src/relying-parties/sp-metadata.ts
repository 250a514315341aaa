import { X509Certificate } from 'node:crypto';
import { NS, SAML2 } from '../constants.js';
import { certificatePem } from '../crypto/pem.js';
import { parseXmlSafely } from '../xml/parse.js';
import { childElements } from '../xml/dom.js';
import { verifyRootSignature } from '../xml/signature.js';

/** An endpoint from the SP's metadata (or from configuration). */
export interface SpEndpoint {
  binding: string;
  location: string;
  /** AssertionConsumerService only. */
  index?: number;
  isDefault?: boolean;
  /** SingleLogoutService only: where LogoutResponses go, when not Location. */
  responseLocation?: string;
}

/** What Gatehouse knows and trusts about a SAML 2.0 service provider. */
export interface SamlServiceProvider {
  entityId: string;
  acs: SpEndpoint[];
  slo: SpEndpoint[];
  /** Pinned from metadata: the only keys that may sign the SP's requests. */
  signingCerts: X509Certificate[];
  encryptionCert: X509Certificate | undefined;
  authnRequestsSigned: boolean;
  wantAssertionsSigned: boolean;
  nameIdFormats: string[];
  /** From the relying party's configuration (acceptSha1Signatures), not the metadata. */
  acceptSha1: boolean;
}

export class MetadataError extends Error {
  override name = 'MetadataError';
}

function pem(b64: string): X509Certificate {
  return new X509Certificate(certificatePem(b64));
}

/**
 * Reads SP metadata. The document first goes through the safe parser (no DTD, bounded size and depth);
 * when `pinned` is given the EntityDescriptor's signature must verify with it. Everything is read here
 * from the one SPSSODescriptor: samlify's SPMetadata was used before, but its
 * getX509Certificate('encryption') returns the only certificate even when its KeyDescriptor says
 * use="signing", which made Gatehouse encrypt to an SP's signing key; and it does not expose the ACS
 * index and isDefault. Its other readers are not used either: its SingleLogoutService has no
 * ResponseLocation, and its paths (`~SSODescriptor`) take endpoints and formats from any role in the
 * entity, not only the one SPSSODescriptor checked here.
 * @throws MetadataError
 */
export function parseSpMetadata(xml: string, opts: { pinned?: X509Certificate | undefined; expectedEntityId: string; acceptSha1?: boolean }): SamlServiceProvider {
  let doc: Document;
  try {
    doc = parseXmlSafely(xml, { maxBytes: 1024 * 1024, maxElements: 50_000 });
  } catch (err) {
    throw new MetadataError(`metadata refused by the XML parser: ${(err as Error).message}`);
  }
  const root = doc.documentElement;
  if (root.namespaceURI !== NS.md || root.localName !== 'EntityDescriptor') {
    throw new MetadataError('metadata root is not an md:EntityDescriptor (an EntitiesDescriptor aggregate is not supported)');
  }
  if (opts.pinned) {
    try {
      verifyRootSignature(xml, doc, [opts.pinned], { sha1: opts.acceptSha1 === true });
    } catch (err) {
      throw new MetadataError(`metadata signature refused: ${(err as Error).message}`);
    }
  }
  const entityId = root.getAttribute('entityID') ?? '';
  if (entityId !== opts.expectedEntityId) {
    throw new MetadataError(`metadata entityID ${JSON.stringify(entityId)} is not the configured id ${JSON.stringify(opts.expectedEntityId)}`);
  }
  const sps = Array.from(root.getElementsByTagNameNS(NS.md, 'SPSSODescriptor'));
  if (sps.length !== 1) throw new MetadataError(`expected one SPSSODescriptor, found ${sps.length}`);
  const sp = sps[0]!;

  // KeyDescriptor/@use (saml-metadata 2.4.1.1): "signing", "encryption", or absent for both purposes.
  const signingCerts: X509Certificate[] = [];
  const encryptionCerts: X509Certificate[] = [];
  for (const kd of childElements(sp, NS.md, 'KeyDescriptor')) {
    const use = kd.getAttribute('use') ?? '';
    if (use !== '' && use !== 'signing' && use !== 'encryption') throw new MetadataError(`KeyDescriptor use="${use}" is not signing or encryption`);
    const certs = Array.from(kd.getElementsByTagNameNS(NS.ds, 'X509Certificate')).map((c) => {
      try {
        return pem(c.textContent ?? '');
      } catch (err) {
        throw new MetadataError(`a KeyDescriptor holds a certificate that cannot be read (${(err as Error).message})`);
      }
    });
    if (use !== 'encryption') signingCerts.push(...certs);
    if (use !== 'signing') encryptionCerts.push(...certs);
  }

  const acs: SpEndpoint[] = Array.from(sp.getElementsByTagNameNS(NS.md, 'AssertionConsumerService')).map((e, i) => ({
    binding: e.getAttribute('Binding') ?? '',
    location: e.getAttribute('Location') ?? '',
    index: e.hasAttribute('index') ? Number(e.getAttribute('index')) : i,
    isDefault: e.getAttribute('isDefault') === 'true',
  }));
  const slo: SpEndpoint[] = Array.from(sp.getElementsByTagNameNS(NS.md, 'SingleLogoutService')).map((e) => ({
    binding: e.getAttribute('Binding') ?? '',
    location: e.getAttribute('Location') ?? '',
    ...(e.getAttribute('ResponseLocation') ? { responseLocation: e.getAttribute('ResponseLocation')! } : {}),
  }));
  for (const ep of [...acs, ...slo]) {
    if (!/^https?:\/\//.test(ep.location)) throw new MetadataError(`endpoint location ${JSON.stringify(ep.location)} is not an http(s) URL`);
  }
  if (!acs.some((a) => a.binding === SAML2.bindingPost)) throw new MetadataError('no AssertionConsumerService with the HTTP-POST binding');

  return {
    entityId,
    acs,
    slo,
    signingCerts,
    encryptionCert: encryptionCerts[0],
    authnRequestsSigned: sp.getAttribute('AuthnRequestsSigned') === 'true',
    wantAssertionsSigned: sp.getAttribute('WantAssertionsSigned') === 'true',
    nameIdFormats: Array.from(sp.getElementsByTagNameNS(NS.md, 'NameIDFormat')).map((n) => (n.textContent ?? '').trim()),
    acceptSha1: opts.acceptSha1 === true,
  };
}
