import { NS, SAML11 } from '../constants.js';
import { escapeC14nAttr as a, escapeC14nText as t } from '../xml/escape.js';
import { saml11AttributeName, xmlTime, type Assertion, type AssertionSubject } from './assertion.js';

function subjectXml(s: AssertionSubject): string {
  return (
    '<saml:Subject>' +
    `<saml:NameIdentifier${s.format ? ` Format="${a(s.format)}"` : ''}>${t(s.nameId)}</saml:NameIdentifier>` +
    `<saml:SubjectConfirmation><saml:ConfirmationMethod>${SAML11.bearer}</saml:ConfirmationMethod></saml:SubjectConfirmation>` +
    '</saml:Subject>'
  );
}

/**
 * An unsigned SAML 1.1 assertion in the shape ADFS issues to Microsoft 365, written directly in exclusive
 * canonical form: no whitespace between elements, attributes in canonical order, C14N escaping, no empty
 * elements. What is digested is therefore exactly the string, with no DOM and no canonicalizer on the hot
 * path (test/tokens checks the string against xml-crypto's canonicalizer). The signature is appended
 * later as the last child, where the SAML 1.1 schema puts it.
 */
export function serializeSaml11(x: Assertion): string {
  const attrs = x.attributes
    .filter((at) => at.values.length > 0)
    .map((at) => {
      const { namespace, name } = saml11AttributeName(at.type);
      return (
        `<saml:Attribute AttributeName="${a(name)}" AttributeNamespace="${a(namespace)}">` +
        at.values.map((v) => `<saml:AttributeValue>${t(v)}</saml:AttributeValue>`).join('') +
        '</saml:Attribute>'
      );
    })
    .join('');
  return (
    `<saml:Assertion xmlns:saml="${NS.saml11}" AssertionID="${a(x.id)}" IssueInstant="${xmlTime(x.issueInstant)}" ` +
    `Issuer="${a(x.issuer)}" MajorVersion="1" MinorVersion="1">` +
    `<saml:Conditions NotBefore="${xmlTime(x.notBefore)}" NotOnOrAfter="${xmlTime(x.notOnOrAfter)}">` +
    `<saml:AudienceRestrictionCondition><saml:Audience>${t(x.audience)}</saml:Audience></saml:AudienceRestrictionCondition>` +
    '</saml:Conditions>' +
    `<saml:AttributeStatement>${subjectXml(x.subject)}${attrs}</saml:AttributeStatement>` +
    `<saml:AuthenticationStatement AuthenticationInstant="${xmlTime(x.authn.instant)}" AuthenticationMethod="${a(x.authn.method)}">` +
    subjectXml(x.subject) +
    '</saml:AuthenticationStatement>' +
    '</saml:Assertion>'
  );
}
