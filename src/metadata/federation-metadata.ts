import { NS, SAML11 } from '../constants.js';
import { escapeAttr as a, escapeText as t } from '../xml/escape.js';
import type { SigningKey } from '../keys/keystore.js';
import { newAssertionId } from '../tokens/assertion.js';
import { METADATA_ENTITY, signEnveloped } from '../tokens/sign.js';
import { idpSsoDescriptor } from './saml-idp.js';

/** Claim types offered, in the form ADFS lists them (auth:ClaimType). */
const CLAIMS_OFFERED = [
  { uri: 'http://schemas.xmlsoap.org/claims/UPN', name: 'UPN', description: 'User principal name' },
  { uri: 'http://schemas.microsoft.com/LiveID/Federation/2008/05/ImmutableID', name: 'ImmutableID', description: 'Anchor of the user in Microsoft Entra ID' },
  { uri: 'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/nameidentifier', name: 'Name ID', description: 'The ImmutableID as the subject name identifier' },
];

export interface MetadataInput {
  issuer: string;
  publicUrl: string;
  keys: SigningKey[];
}

/**
 * Signed federation metadata: an EntityDescriptor with the WS-Federation SecurityTokenServiceType role,
 * the document a Microsoft 365 admin (or Entra ID's certificate poller) reads.
 */
export function buildFederationMetadata(m: MetadataInput): string {
  const keyDescriptors = m.keys
    .map(
      (k) =>
        `<KeyDescriptor use="signing"><ds:KeyInfo xmlns:ds="${NS.ds}"><ds:X509Data><ds:X509Certificate>${k.certBase64}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></KeyDescriptor>`,
    )
    .join('');
  const passive = `${m.publicUrl}/adfs/ls/`;
  // The active (WS-Trust 1.3 username/password) endpoint; the schema puts it before the passive one.
  const active = `${m.publicUrl}/adfs/services/trust/13/usernamemixed`;
  const claims = CLAIMS_OFFERED.map(
    (c) =>
      `<auth:ClaimType Uri="${a(c.uri)}" Optional="true" xmlns:auth="${NS.auth}"><auth:DisplayName>${t(c.name)}</auth:DisplayName><auth:Description>${t(c.description)}</auth:Description></auth:ClaimType>`,
  ).join('');
  const xml =
    `<EntityDescriptor xmlns="${NS.md}" ID="${newAssertionId()}" entityID="${a(m.issuer)}">` +
    `<RoleDescriptor xmlns:xsi="${NS.xsi}" xmlns:fed="${NS.fed}" xsi:type="fed:SecurityTokenServiceType" protocolSupportEnumeration="${NS.fed}">` +
    keyDescriptors +
    `<fed:TokenTypesOffered><fed:TokenType Uri="${SAML11.tokenType}"/></fed:TokenTypesOffered>` +
    `<fed:ClaimTypesOffered>${claims}</fed:ClaimTypesOffered>` +
    `<fed:SecurityTokenServiceEndpoint><wsa:EndpointReference xmlns:wsa="${NS.wsa}"><wsa:Address>${t(active)}</wsa:Address></wsa:EndpointReference></fed:SecurityTokenServiceEndpoint>` +
    `<fed:PassiveRequestorEndpoint><wsa:EndpointReference xmlns:wsa="${NS.wsa}"><wsa:Address>${t(passive)}</wsa:Address></wsa:EndpointReference></fed:PassiveRequestorEndpoint>` +
    '</RoleDescriptor>' +
    // The SAML 2.0 IdP role beside the WS-Federation one, as ADFS publishes both.
    idpSsoDescriptor(m) +
    '</EntityDescriptor>';
  return signEnveloped(xml, m.keys[0]!, METADATA_ENTITY);
}
