import { NS } from '../../constants.js';
import { escapeAttr as a, escapeText as t } from '../../xml/escape.js';
import { TRUST_13, TRUST_2005, type TrustVersion } from './versions.js';

/** WSDL and policy vocabularies, used only by this document. */
const MEX_NS = {
  wsdl: 'http://schemas.xmlsoap.org/wsdl/',
  soap12: 'http://schemas.xmlsoap.org/wsdl/soap12/',
  wsaw: 'http://www.w3.org/2006/05/addressing/wsdl',
  /** WS-SecurityPolicy 1.2 (WS-Trust 1.3 policies). */
  sp: 'http://docs.oasis-open.org/ws-sx/ws-securitypolicy/200702',
  /** The 2005/07 draft (WS-Trust 2005 policies). */
  sp2005: 'http://schemas.xmlsoap.org/ws/2005/07/securitypolicy',
  tns: 'http://schemas.microsoft.com/ws/2008/06/identity/securitytokenservice',
  /** WCF's HTTP authentication policy assertions: NegotiateAuthentication is what MSAL reads as "integrated auth". */
  http: 'http://schemas.microsoft.com/ws/06/2004/policy/http',
  soapHttp: 'http://schemas.xmlsoap.org/soap/http',
} as const;

interface Endpoint {
  version: TrustVersion;
  /** usernamemixed (a UsernameToken in the message) or windowstransport (HTTP Negotiate). */
  windows: boolean;
  /** ADFS's names, so that tools comparing with an ADFS MEX document find the same ones. */
  binding: string;
  portType: string;
  operation: string;
  securityPolicy: string;
  /** 1.3 uses SignedEncryptedSupportingTokens (WS-SP 1.2), 2005 SignedSupportingTokens (the draft). */
  supportingTokens: string;
}

const ENDPOINTS: Endpoint[] = [
  {
    version: TRUST_13,
    windows: false,
    binding: 'UserNameWSTrustBinding_IWSTrust13Async',
    portType: 'IWSTrust13Async',
    operation: 'Trust13IssueAsync',
    securityPolicy: MEX_NS.sp,
    supportingTokens: 'SignedEncryptedSupportingTokens',
  },
  {
    version: TRUST_2005,
    windows: false,
    binding: 'UserNameWSTrustBinding_IWSTrustFeb2005Async',
    portType: 'IWSTrustFeb2005Async',
    operation: 'TrustFeb2005IssueAsync',
    securityPolicy: MEX_NS.sp2005,
    supportingTokens: 'SignedSupportingTokens',
  },
];

/** windowstransport, under ADFS's binding names; the port types and operations are the usernamemixed ones. */
const WINDOWS_ENDPOINTS: Endpoint[] = ENDPOINTS.map((e) => ({
  ...e,
  windows: true,
  binding: e.version === TRUST_13 ? 'CustomBinding_IWSTrust13Async' : 'CustomBinding_IWSTrustFeb2005Async',
}));

/** "HTTPS transport, and HTTP Negotiate (Kerberos) for the client": MSAL's MexDocument reads it as integrated auth. */
function windowsPolicy(e: Endpoint): string {
  return (
    `<wsp:Policy wsu:Id="${e.binding}_policy">` +
    '<wsp:ExactlyOne><wsp:All>' +
    `<http:NegotiateAuthentication xmlns:http="${MEX_NS.http}"/>` +
    `<sp:TransportBinding xmlns:sp="${e.securityPolicy}"><wsp:Policy>` +
    '<sp:TransportToken><wsp:Policy><sp:HttpsToken RequireClientCertificate="false"/></wsp:Policy></sp:TransportToken>' +
    '<sp:AlgorithmSuite><wsp:Policy><sp:Basic256/></wsp:Policy></sp:AlgorithmSuite>' +
    '<sp:Layout><wsp:Policy><sp:Strict/></wsp:Policy></sp:Layout>' +
    '</wsp:Policy></sp:TransportBinding>' +
    '<wsaw:UsingAddressing/>' +
    '</wsp:All></wsp:ExactlyOne>' +
    '</wsp:Policy>'
  );
}

/**
 * "HTTPS transport, and a UsernameToken (WSS 1.0 profile) in the security header" — the shape MSAL's
 * MexDocument looks for: wsp:Policy[@wsu:Id]/ExactlyOne/All with sp:TransportBinding and the
 * supporting tokens → wsp:Policy → sp:UsernameToken → wsp:Policy → sp:WssUsernameToken10.
 */
function policy(e: Endpoint): string {
  if (e.windows) return windowsPolicy(e);
  const sp = e.securityPolicy;
  return (
    `<wsp:Policy wsu:Id="${e.binding}_policy">` +
    '<wsp:ExactlyOne><wsp:All>' +
    `<sp:TransportBinding xmlns:sp="${sp}"><wsp:Policy>` +
    '<sp:TransportToken><wsp:Policy><sp:HttpsToken RequireClientCertificate="false"/></wsp:Policy></sp:TransportToken>' +
    '<sp:AlgorithmSuite><wsp:Policy><sp:Basic256/></wsp:Policy></sp:AlgorithmSuite>' +
    '<sp:Layout><wsp:Policy><sp:Strict/></wsp:Policy></sp:Layout>' +
    '<sp:IncludeTimestamp/>' +
    '</wsp:Policy></sp:TransportBinding>' +
    `<sp:${e.supportingTokens} xmlns:sp="${sp}"><wsp:Policy>` +
    `<sp:UsernameToken sp:IncludeToken="${sp}/IncludeToken/AlwaysToRecipient"><wsp:Policy><sp:WssUsernameToken10/></wsp:Policy></sp:UsernameToken>` +
    `</wsp:Policy></sp:${e.supportingTokens}>` +
    '<wsaw:UsingAddressing/>' +
    '</wsp:All></wsp:ExactlyOne>' +
    '</wsp:Policy>'
  );
}

function messagesAndPortType(e: Endpoint): string {
  const v = e.version;
  const prefix = v.wrapInCollection ? 'trust' : 't';
  const output = v.wrapInCollection ? 'RequestSecurityTokenResponseCollection' : 'RequestSecurityTokenResponse';
  const msg = `${e.portType}_${e.operation}`;
  return (
    `<wsdl:message name="${msg}_InputMessage"><wsdl:part name="request" element="${prefix}:RequestSecurityToken"/></wsdl:message>` +
    `<wsdl:message name="${msg}_OutputMessage"><wsdl:part name="${e.operation}Result" element="${prefix}:${output}"/></wsdl:message>` +
    `<wsdl:portType name="${e.portType}"><wsdl:operation name="${e.operation}">` +
    `<wsdl:input wsaw:Action="${v.requestAction}" message="tns:${msg}_InputMessage"/>` +
    `<wsdl:output wsaw:Action="${v.responseAction}" message="tns:${msg}_OutputMessage"/>` +
    '</wsdl:operation></wsdl:portType>'
  );
}

function binding(e: Endpoint): string {
  return (
    `<wsdl:binding name="${e.binding}" type="tns:${e.portType}">` +
    `<wsp:PolicyReference URI="#${e.binding}_policy"/>` +
    `<soap12:binding transport="${MEX_NS.soapHttp}"/>` +
    `<wsdl:operation name="${e.operation}">` +
    `<soap12:operation soapAction="${e.version.requestAction}" style="document"/>` +
    '<wsdl:input><soap12:body use="literal"/></wsdl:input>' +
    '<wsdl:output><soap12:body use="literal"/></wsdl:output>' +
    '</wsdl:operation>' +
    '</wsdl:binding>'
  );
}

function port(e: Endpoint, publicUrl: string): string {
  const url = `${publicUrl}${e.windows ? e.version.windowsPath : e.version.path}`;
  return (
    `<wsdl:port name="${e.binding}" binding="tns:${e.binding}">` +
    `<soap12:address location="${a(url)}"/>` +
    `<wsa10:EndpointReference><wsa10:Address>${t(url)}</wsa10:Address></wsa10:EndpointReference>` +
    '</wsdl:port>'
  );
}

/**
 * The WS-MetadataExchange document at /adfs/services/trust/mex: a WSDL naming the two usernamemixed
 * endpoints and, when they are served, the two windowstransport ones, their bindings and security
 * policies. Clients (MSAL, ADAL, Windows's device registration) read it to find where to send the user's
 * name and password, or where to authenticate with Kerberos; WS-Trust 1.3 is listed first, as clients
 * prefer it.
 */
export function buildMexDocument(publicUrl: string, opts: { windowsTransport?: boolean } = {}): string {
  const all = opts.windowsTransport ? [...ENDPOINTS, ...WINDOWS_ENDPOINTS] : ENDPOINTS;
  return (
    `<wsdl:definitions name="SecurityTokenService" targetNamespace="${MEX_NS.tns}"` +
    ` xmlns:wsdl="${MEX_NS.wsdl}" xmlns:tns="${MEX_NS.tns}" xmlns:soap12="${MEX_NS.soap12}"` +
    ` xmlns:wsu="${NS.wsu}" xmlns:wsp="${NS.wsp}" xmlns:wsa10="${NS.wsa}" xmlns:wsaw="${MEX_NS.wsaw}"` +
    ` xmlns:trust="${NS.trust13}" xmlns:t="${NS.trust2005}">` +
    all.map(policy).join('') +
    ENDPOINTS.map(messagesAndPortType).join('') +
    all.map(binding).join('') +
    `<wsdl:service name="SecurityTokenService">${all.map((e) => port(e, publicUrl)).join('')}</wsdl:service>` +
    '</wsdl:definitions>'
  );
}
