import { NS, SAML11, WSSE } from '../../constants.js';
import { xmlTime, type Assertion } from '../../tokens/assertion.js';
import { escapeText as t } from '../../xml/escape.js';
import type { TrustVersion } from './versions.js';

/** How long our answer's own wsu:Timestamp says it is fresh (ADFS: 5 minutes). */
const RESPONSE_VALIDITY_MS = 5 * 60_000;

function tokenReference(kind: 'Attached' | 'Unattached', assertionId: string): string {
  return (
    `<trust:Requested${kind}Reference>` +
    `<o:SecurityTokenReference xmlns:o="${NS.wsse}" xmlns:k="${NS.wsse11}" k:TokenType="${WSSE.saml11TokenType}">` +
    `<o:KeyIdentifier ValueType="${WSSE.samlAssertionId}">${t(assertionId)}</o:KeyIdentifier>` +
    '</o:SecurityTokenReference>' +
    `</trust:Requested${kind}Reference>`
  );
}

/**
 * The SOAP 1.2 answer carrying the signed assertion, in ADFS's shape: a RequestSecurityTokenResponse
 * (wrapped in a ...Collection for WS-Trust 1.3) with Lifetime, AppliesTo, the token, references to it
 * by AssertionID, TokenType, RequestType and KeyType. Only the assertion is signed, as with ADFS.
 */
export function renderIssueResponse(
  version: TrustVersion,
  x: { signedAssertion: string; assertion: Assertion; relatesTo: string; keyType: string },
  now = new Date(),
): string {
  const rstr =
    '<trust:RequestSecurityTokenResponse>' +
    '<trust:Lifetime>' +
    `<wsu:Created xmlns:wsu="${NS.wsu}">${xmlTime(x.assertion.issueInstant)}</wsu:Created>` +
    `<wsu:Expires xmlns:wsu="${NS.wsu}">${xmlTime(x.assertion.notOnOrAfter)}</wsu:Expires>` +
    '</trust:Lifetime>' +
    `<wsp:AppliesTo xmlns:wsp="${NS.wsp}"><wsa:EndpointReference xmlns:wsa="${NS.wsa}">` +
    `<wsa:Address>${t(x.assertion.audience)}</wsa:Address></wsa:EndpointReference></wsp:AppliesTo>` +
    `<trust:RequestedSecurityToken>${x.signedAssertion}</trust:RequestedSecurityToken>` +
    tokenReference('Attached', x.assertion.id) +
    tokenReference('Unattached', x.assertion.id) +
    `<trust:TokenType>${SAML11.tokenType}</trust:TokenType>` +
    `<trust:RequestType>${version.requestType}</trust:RequestType>` +
    `<trust:KeyType>${t(x.keyType)}</trust:KeyType>` +
    '</trust:RequestSecurityTokenResponse>';
  const body = version.wrapInCollection
    ? `<trust:RequestSecurityTokenResponseCollection xmlns:trust="${version.trustNs}">${rstr}</trust:RequestSecurityTokenResponseCollection>`
    : rstr.replace('<trust:RequestSecurityTokenResponse>', `<trust:RequestSecurityTokenResponse xmlns:trust="${version.trustNs}">`);
  return (
    `<s:Envelope xmlns:s="${NS.soap12}" xmlns:a="${NS.wsa}" xmlns:u="${NS.wsu}">` +
    '<s:Header>' +
    `<a:Action s:mustUnderstand="1">${version.responseAction}</a:Action>` +
    `<a:RelatesTo>${t(x.relatesTo)}</a:RelatesTo>` +
    `<o:Security s:mustUnderstand="1" xmlns:o="${NS.wsse}">` +
    `<u:Timestamp u:Id="_0"><u:Created>${xmlTime(now)}</u:Created><u:Expires>${xmlTime(new Date(now.getTime() + RESPONSE_VALIDITY_MS))}</u:Expires></u:Timestamp>` +
    '</o:Security>' +
    '</s:Header>' +
    `<s:Body>${body}</s:Body>` +
    '</s:Envelope>'
  );
}

