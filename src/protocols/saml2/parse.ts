import { inflateRawSync } from 'node:zlib';
import { SAML2 } from '../../constants.js';
import { GatehouseError } from '../../errors.js';
import { parseXmlSafely, UnsafeXmlError } from '../../xml/parse.js';
import { validateSamlMessage } from './schema-validate.js';

/** The SAML parameters, from the query (HTTP-Redirect) or the form body (HTTP-POST). */
export interface SamlParams {
  SAMLRequest?: string;
  SAMLResponse?: string;
  RelayState?: string;
  SigAlg?: string;
  Signature?: string;
}

export type Binding = 'redirect' | 'post';

export const MAX_MESSAGE_BYTES = 128 * 1024;

export interface InboundMessage {
  binding: Binding;
  param: 'SAMLRequest' | 'SAMLResponse';
  kind: 'AuthnRequest' | 'LogoutRequest' | 'LogoutResponse';
  xml: string;
  doc: Document;
  relayState: string | undefined;
}

export interface AuthnRequest {
  id: string;
  issuer: string;
  destination: string | undefined;
  acsUrl: string | undefined;
  acsIndex: number | undefined;
  protocolBinding: string | undefined;
  forceAuthn: boolean;
  isPassive: boolean;
  nameIdFormat: string | undefined;
}

export interface LogoutRequest {
  id: string;
  issuer: string;
  nameId: string | undefined;
  sessionIndexes: string[];
}

export interface LogoutResponse {
  id: string;
  issuer: string;
  inResponseTo: string | undefined;
  status: string | undefined;
}

const ELEMENT = 1;

function children(el: Element, ns: string, local: string): Element[] {
  const out: Element[] = [];
  for (let c = el.firstChild; c; c = c.nextSibling) {
    if (c.nodeType === ELEMENT && (c as Element).namespaceURI === ns && (c as Element).localName === local) out.push(c as Element);
  }
  return out;
}

function text(el: Element | undefined): string | undefined {
  const v = el?.textContent?.trim();
  return v ? v : undefined;
}

const bad = (detail: string) => new GatehouseError('GH_BAD_REQUEST', { detail });

/**
 * Decodes a SAML message from its binding (saml-bindings 3.4 Redirect: base64 of raw DEFLATE; 3.5 POST:
 * base64), parses it with the safe parser (no DTD, bounded size and depth), checks it is a SAML 2.0
 * protocol message we serve, and validates it against the OASIS schema.
 * @throws GH_BAD_REQUEST
 */
export async function decodeMessage(params: SamlParams, binding: Binding): Promise<InboundMessage> {
  const param = params.SAMLRequest !== undefined ? 'SAMLRequest' : 'SAMLResponse';
  const encoded = params[param];
  if (!encoded) throw bad('empty SAML message');
  if (params.SAMLRequest !== undefined && params.SAMLResponse !== undefined) throw bad('both SAMLRequest and SAMLResponse');
  const raw = Buffer.from(encoded.replace(/\s+/g, ''), 'base64');
  let xml: string;
  // Some SPs (node-saml among them) DEFLATE for the POST binding too, against saml-bindings 3.5.4: a
  // POST body that is not XML is inflated the same way (the result goes through the same checks).
  const deflated = binding === 'redirect' || raw.subarray(0, 64).toString('utf8').trimStart()[0] !== '<';
  if (deflated) {
    try {
      xml = inflateRawSync(raw, { maxOutputLength: MAX_MESSAGE_BYTES }).toString('utf8');
    } catch (err) {
      throw bad(`SAML message does not inflate: ${(err as Error).message}`);
    }
  } else {
    xml = raw.toString('utf8');
  }
  let doc: Document;
  try {
    doc = parseXmlSafely(xml, { maxBytes: MAX_MESSAGE_BYTES, maxDepth: 24, maxElements: 2000 });
  } catch (err) {
    if (err instanceof UnsafeXmlError) throw bad(`SAML message refused: ${err.message}`);
    throw err;
  }
  const root = doc.documentElement;
  const kinds = param === 'SAMLRequest' ? ['AuthnRequest', 'LogoutRequest'] : ['LogoutResponse'];
  if (root.namespaceURI !== SAML2.protocol || !kinds.includes(root.localName)) {
    throw bad(`${param} holds {${root.namespaceURI}}${root.localName}`);
  }
  const errors = await validateSamlMessage(xml);
  if (errors.length) throw bad(`SAML message is not schema-valid: ${errors.slice(0, 3).join('; ')}`);
  if (root.getAttribute('Version') !== '2.0') throw bad(`SAML Version ${root.getAttribute('Version')}`);
  return { binding, param, kind: root.localName as InboundMessage['kind'], xml, doc, relayState: params.RelayState };
}

function issuerOf(root: Element): string {
  const issuer = text(children(root, SAML2.assertion, 'Issuer')[0]);
  if (!issuer) throw bad(`${root.localName} without Issuer`);
  return issuer;
}

/** The fields of a schema-valid AuthnRequest that the IdP acts on (saml-core 3.4.1). */
export function readAuthnRequest(doc: Document): AuthnRequest {
  const root = doc.documentElement;
  const policy = children(root, SAML2.protocol, 'NameIDPolicy')[0];
  const index = root.getAttribute('AssertionConsumerServiceIndex');
  return {
    id: root.getAttribute('ID')!,
    issuer: issuerOf(root),
    destination: root.getAttribute('Destination') || undefined,
    acsUrl: root.getAttribute('AssertionConsumerServiceURL') || undefined,
    acsIndex: index ? Number(index) : undefined,
    protocolBinding: root.getAttribute('ProtocolBinding') || undefined,
    forceAuthn: ['true', '1'].includes(root.getAttribute('ForceAuthn') ?? ''),
    isPassive: ['true', '1'].includes(root.getAttribute('IsPassive') ?? ''),
    nameIdFormat: policy?.getAttribute('Format') || undefined,
  };
}

export function readLogoutRequest(doc: Document): LogoutRequest {
  const root = doc.documentElement;
  return {
    id: root.getAttribute('ID')!,
    issuer: issuerOf(root),
    nameId: text(children(root, SAML2.assertion, 'NameID')[0]),
    sessionIndexes: children(root, SAML2.protocol, 'SessionIndex').map((e) => text(e) ?? ''),
  };
}

export function readLogoutResponse(doc: Document): LogoutResponse {
  const root = doc.documentElement;
  const status = children(root, SAML2.protocol, 'Status')[0];
  const code = status && children(status, SAML2.protocol, 'StatusCode')[0];
  return {
    id: root.getAttribute('ID')!,
    issuer: issuerOf(root),
    inResponseTo: root.getAttribute('InResponseTo') || undefined,
    status: code?.getAttribute('Value') ?? undefined,
  };
}
