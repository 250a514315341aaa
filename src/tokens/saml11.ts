import { NS, SAML11 } from '../constants.js';
import { escapeAttr as a, escapeText as t } from '../xml/escape.js';
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
 * An unsigned SAML 1.1 assertion in the shape ADFS issues to Microsoft 365. No whitespace between
 * elements, so what is signed is exactly what is sent. The signature is appended later as the last
 * child, where the SAML 1.1 schema puts it.
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
    `<saml:Assertion xmlns:saml="${NS.saml11}" MajorVersion="1" MinorVersion="1" AssertionID="${a(x.id)}" ` +
    `Issuer="${a(x.issuer)}" IssueInstant="${xmlTime(x.issueInstant)}">` +
    `<saml:Conditions NotBefore="${xmlTime(x.notBefore)}" NotOnOrAfter="${xmlTime(x.notOnOrAfter)}">` +
    `<saml:AudienceRestrictionCondition><saml:Audience>${t(x.audience)}</saml:Audience></saml:AudienceRestrictionCondition>` +
    '</saml:Conditions>' +
    `<saml:AttributeStatement>${subjectXml(x.subject)}${attrs}</saml:AttributeStatement>` +
    `<saml:AuthenticationStatement AuthenticationMethod="${a(x.authn.method)}" AuthenticationInstant="${xmlTime(x.authn.instant)}">` +
    subjectXml(x.subject) +
    '</saml:AuthenticationStatement>' +
    '</saml:Assertion>'
  );
}
