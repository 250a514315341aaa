import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SAML, type SamlConfig } from '@node-saml/node-saml';
import { createSelfSignedCertificate } from '../../src/keys/generate.js';

/** An SP written by others (@node-saml/node-saml) in-process, with its metadata written for Gatehouse. */
export interface TestSp {
  saml: SAML;
  entityId: string;
  acs: string;
  /** The SP's SingleLogoutService (HTTP-POST in node-saml's metadata, unless `editMetadata` changes it). */
  slo: string;
  keys: { certPem: string; keyPem: string };
  metadataFile: string;
}

let spKeys: { certPem: string; keyPem: string } | undefined;
export function spKeyPair() {
  spKeys ??= createSelfSignedCertificate({ commonName: 'test-sp', bits: 2048, days: 30 });
  return spKeys;
}

export function makeSp(
  dir: string,
  name: string,
  idpCertPem: string,
  idpSsoUrl: string,
  opts: Partial<SamlConfig> & {
    signRequests?: boolean;
    encrypt?: boolean;
    /** Changes the metadata node-saml generates before Gatehouse reads it (another ACS, a Redirect SLO). */
    editMetadata?: (xml: string) => string;
  } = {},
): TestSp {
  const entityId = `https://${name}.test.invalid/sp`;
  const acs = `https://${name}.test.invalid/acs`;
  const keys = spKeyPair();
  const slo = `https://${name}.test.invalid/slo`;
  const { signRequests, encrypt, editMetadata, ...rest } = opts;
  const saml = new SAML({
    entryPoint: idpSsoUrl,
    logoutUrl: idpSsoUrl,
    issuer: entityId,
    audience: entityId,
    callbackUrl: acs,
    logoutCallbackUrl: slo,
    idpCert: idpCertPem,
    wantAssertionsSigned: true,
    wantAuthnResponseSigned: false,
    identifierFormat: null,
    validateInResponseTo: 'always' as never,
    // node-saml's defaults are SHA-1 for both, which Gatehouse refuses unless acceptSha1Signatures.
    signatureAlgorithm: 'sha256',
    digestAlgorithm: 'sha256',
    ...(signRequests ? { privateKey: keys.keyPem, publicCert: keys.certPem } : {}),
    ...(encrypt ? { decryptionPvk: keys.keyPem } : {}),
    ...rest,
  } as SamlConfig);
  const metadataFile = join(dir, `${name}-metadata.xml`);
  const metadata = saml.generateServiceProviderMetadata(encrypt ? keys.certPem : null, signRequests ? keys.certPem : null);
  writeFileSync(metadataFile, editMetadata ? editMetadata(metadata) : metadata);
  return { saml, entityId, acs, slo, keys, metadataFile };
}
