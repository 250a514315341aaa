// A WS-Trust client written from the specs (SOAP 1.2, WS-Addressing 1.0, WSS UsernameToken 1.0,
// WS-Trust 1.3 / 2005), shaped like the message MSAL sends. Independent of src/: it is the oracle.
import { randomUUID } from 'node:crypto';
import { parseXml, xpathReader } from '../support/xml.js';

export const NS = {
  s: 'http://www.w3.org/2003/05/soap-envelope',
  a: 'http://www.w3.org/2005/08/addressing',
  o: 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd',
  u: 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd',
  k: 'http://docs.oasis-open.org/wss/oasis-wss-wssecurity-secext-1.1.xsd',
  wsp: 'http://schemas.xmlsoap.org/ws/2004/09/policy',
  trust: 'http://docs.oasis-open.org/ws-sx/ws-trust/200512',
  t: 'http://schemas.xmlsoap.org/ws/2005/02/trust',
  saml: 'urn:oasis:names:tc:SAML:1.0:assertion',
  ds: 'http://www.w3.org/2000/09/xmldsig#',
} as const;

export interface Version {
  name: '1.3' | '2005';
  path: string;
  trustNs: string;
  action: string;
  responseAction: string;
  requestType: string;
  keyType: string;
}

export const V13: Version = {
  name: '1.3',
  path: '/adfs/services/trust/13/usernamemixed',
  trustNs: NS.trust,
  action: 'http://docs.oasis-open.org/ws-sx/ws-trust/200512/RST/Issue',
  responseAction: 'http://docs.oasis-open.org/ws-sx/ws-trust/200512/RSTRC/IssueFinal',
  requestType: 'http://docs.oasis-open.org/ws-sx/ws-trust/200512/Issue',
  keyType: 'http://docs.oasis-open.org/ws-sx/ws-trust/200512/Bearer',
};

export const V2005: Version = {
  name: '2005',
  path: '/adfs/services/trust/2005/usernamemixed',
  trustNs: NS.t,
  action: 'http://schemas.xmlsoap.org/ws/2005/02/trust/RST/Issue',
  responseAction: 'http://schemas.xmlsoap.org/ws/2005/02/trust/RSTR/Issue',
  requestType: 'http://schemas.xmlsoap.org/ws/2005/02/trust/Issue',
  keyType: 'http://schemas.xmlsoap.org/ws/2005/05/identity/NoProofKey',
};

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

export interface RstOptions {
  baseUrl: string;
  username: string;
  password: string;
  appliesTo?: string;
  messageId?: string;
  /** Default: the endpoint's own URL. */
  to?: string;
  created?: Date;
  expires?: Date;
  /** Leave out the whole wsse:Security header. */
  noSecurity?: boolean;
  /** Leave out wsu:Timestamp (the UsernameToken stays). */
  noTimestamp?: boolean;
  /** Extra header blocks, verbatim. */
  extraHeaders?: string;
}

/** A RequestSecurityToken (Issue, bearer) with a UsernameToken, as MSAL builds it. */
export function buildRst(v: Version, o: RstOptions): string {
  const created = o.created ?? new Date();
  const expires = o.expires ?? new Date(created.getTime() + 10 * 60_000);
  const to = o.to ?? `${o.baseUrl}${v.path}`;
  const tokenId = `UnPwSecTok${v.name === '1.3' ? '13' : '2005'}-${randomUUID()}`;
  const timestamp = o.noTimestamp
    ? ''
    : `<u:Timestamp u:Id="MSATimeStamp"><u:Created>${created.toISOString()}</u:Created><u:Expires>${expires.toISOString()}</u:Expires></u:Timestamp>`;
  const security = o.noSecurity
    ? ''
    : `<o:Security s:mustUnderstand="1" xmlns:o="${NS.o}">${timestamp}` +
      `<o:UsernameToken u:Id="${tokenId}"><o:Username>${esc(o.username)}</o:Username>` +
      `<o:Password Type="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0#PasswordText">${esc(o.password)}</o:Password>` +
      '</o:UsernameToken></o:Security>';
  return (
    `<s:Envelope xmlns:s="${NS.s}" xmlns:a="${NS.a}" xmlns:u="${NS.u}">` +
    '<s:Header>' +
    `<a:Action s:mustUnderstand="1">${v.action}</a:Action>` +
    `<a:MessageID>${esc(o.messageId ?? `urn:uuid:${randomUUID()}`)}</a:MessageID>` +
    `<a:ReplyTo><a:Address>http://www.w3.org/2005/08/addressing/anonymous</a:Address></a:ReplyTo>` +
    `<a:To s:mustUnderstand="1">${esc(to)}</a:To>` +
    security +
    (o.extraHeaders ?? '') +
    '</s:Header>' +
    '<s:Body>' +
    `<trust:RequestSecurityToken xmlns:trust="${v.trustNs}">` +
    `<wsp:AppliesTo xmlns:wsp="${NS.wsp}"><a:EndpointReference><a:Address>${esc(o.appliesTo ?? 'urn:federation:MicrosoftOnline')}</a:Address></a:EndpointReference></wsp:AppliesTo>` +
    `<trust:KeyType>${v.keyType}</trust:KeyType>` +
    `<trust:RequestType>${v.requestType}</trust:RequestType>` +
    '</trust:RequestSecurityToken>' +
    '</s:Body>' +
    '</s:Envelope>'
  );
}

export interface SoapResponse {
  status: number;
  contentType: string | null;
  headers: Headers;
  body: string;
  doc: Document;
}

export async function postSoap(url: string, body: string, contentType = 'application/soap+xml; charset=utf-8'): Promise<SoapResponse> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': contentType }, body });
  const text = await res.text();
  return { status: res.status, contentType: res.headers.get('content-type'), headers: res.headers, body: text, doc: parseXml(text) };
}

const reader = xpathReader({ ...NS, wsa: NS.a, wsu: NS.u });
export const { value, count } = reader;

/** A SOAP 1.2 fault's code, subcode (local part, namespace) and reason. */
export function fault(doc: Document): { code?: string; subcode?: string; subcodeNs?: string; reason?: string } {
  const subEl = reader.nodes<Element>(doc, '/s:Envelope/s:Body/s:Fault/s:Code/s:Subcode/s:Value')[0];
  const qname = subEl?.textContent?.trim();
  const [prefix, local] = qname?.includes(':') ? qname.split(':') : [undefined, qname];
  return {
    code: value(doc, '/s:Envelope/s:Body/s:Fault/s:Code/s:Value')?.trim(),
    subcode: local,
    subcodeNs: subEl && prefix ? (subEl.lookupNamespaceURI(prefix) ?? undefined) : undefined,
    reason: value(doc, '/s:Envelope/s:Body/s:Fault/s:Reason/s:Text')?.trim(),
  };
}
