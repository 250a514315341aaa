import { NS, SAML2 } from '../constants.js';
import { escapeAttr as a } from '../xml/escape.js';
import type { SigningKey } from '../keys/keystore.js';
import { newAssertionId } from '../tokens/assertion.js';
import { METADATA_ENTITY, signEnveloped } from '../tokens/sign.js';

/** NameID formats Gatehouse can issue (relyingParties[].nameId chooses per relying party). */
export const SAML2_NAMEID_FORMATS = [SAML2.nameIdPersistent, SAML2.nameIdEmail, SAML2.nameIdUnspecified] as const;

/**
 * The SAML 2.0 IdP role (saml-metadata 2.4.3): signing keys (every key the caller passes: the current
 * one and, during a rollover, the next), single logout and single sign-on at /adfs/ls/ for the
 * HTTP-Redirect and HTTP-POST bindings (as ADFS), and the NameID formats. Elements in schema order.
 * Written here rather than by samlify's IdentityProvider: this one descriptor is also in
 * FederationMetadata.xml, samlify's EntityDescriptor has no ID for the enveloped signature to reference,
 * and its default IdP element order (SingleSignOnService before SingleLogoutService) is not the schema's.
 */
export function idpSsoDescriptor(m: { publicUrl: string; keys: Pick<SigningKey, 'certBase64'>[] }): string {
  const endpoint = `${m.publicUrl}/adfs/ls/`;
  const bindings = [SAML2.bindingRedirect, SAML2.bindingPost];
  return (
    `<IDPSSODescriptor protocolSupportEnumeration="${SAML2.protocol}" WantAuthnRequestsSigned="false">` +
    m.keys
      .map(
        (k) =>
          `<KeyDescriptor use="signing"><ds:KeyInfo xmlns:ds="${NS.ds}"><ds:X509Data><ds:X509Certificate>${k.certBase64}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></KeyDescriptor>`,
      )
      .join('') +
    bindings.map((b) => `<SingleLogoutService Binding="${b}" Location="${a(endpoint)}"/>`).join('') +
    SAML2_NAMEID_FORMATS.map((f) => `<NameIDFormat>${f}</NameIDFormat>`).join('') +
    bindings.map((b) => `<SingleSignOnService Binding="${b}" Location="${a(endpoint)}"/>`).join('') +
    '</IDPSSODescriptor>'
  );
}

/** The SAML-only metadata document (/saml/metadata): the IdP role alone, signed with the first key. */
export function buildSamlIdpMetadata(m: { issuer: string; publicUrl: string; keys: SigningKey[] }): string {
  const xml = `<EntityDescriptor xmlns="${NS.md}" ID="${newAssertionId()}" entityID="${a(m.issuer)}">${idpSsoDescriptor(m)}</EntityDescriptor>`;
  return signEnveloped(xml, m.keys[0]!, METADATA_ENTITY);
}
