import { NS, SAML11, WSTRUST2005 } from '../../constants.js';
import { escapeText as t } from '../../xml/escape.js';
import { xmlTime, type Assertion } from '../../tokens/assertion.js';

/**
 * The WS-Trust 2005/02 RequestSecurityTokenResponse that carries the signed assertion in `wresult`,
 * in the shape ADFS sends Microsoft 365. The RSTR itself is not signed; the assertion inside is.
 */
export function wrapInRstr(signedAssertion: string, a: Assertion): string {
  return (
    `<t:RequestSecurityTokenResponse xmlns:t="${NS.trust2005}">` +
    '<t:Lifetime>' +
    `<wsu:Created xmlns:wsu="${NS.wsu}">${xmlTime(a.issueInstant)}</wsu:Created>` +
    `<wsu:Expires xmlns:wsu="${NS.wsu}">${xmlTime(a.notOnOrAfter)}</wsu:Expires>` +
    '</t:Lifetime>' +
    `<wsp:AppliesTo xmlns:wsp="${NS.wsp}"><wsa:EndpointReference xmlns:wsa="${NS.wsa}">` +
    `<wsa:Address>${t(a.audience)}</wsa:Address></wsa:EndpointReference></wsp:AppliesTo>` +
    `<t:RequestedSecurityToken>${signedAssertion}</t:RequestedSecurityToken>` +
    `<t:TokenType>${SAML11.tokenType}</t:TokenType>` +
    `<t:RequestType>${WSTRUST2005.issue}</t:RequestType>` +
    `<t:KeyType>${WSTRUST2005.noProofKey}</t:KeyType>` +
    '</t:RequestSecurityTokenResponse>'
  );
}
