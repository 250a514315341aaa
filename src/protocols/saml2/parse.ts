import { inflateRawSync } from 'node:zlib';
import samlify from 'samlify';
import type { Extractor as ExtractorTypes } from 'samlify';
import { SAML2 } from '../../constants.js';
import { GatehouseError } from '../../errors.js';
import { childElements } from '../../xml/dom.js';
import { parseXmlSafely, UnsafeXmlError } from '../../xml/parse.js';
import { validateSamlMessage } from './schema-validate.js';

// samlify is CommonJS: Node's ESM loader cannot see its named exports, so take them from the default.
const { Extractor } = samlify;

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
  /** RequestedAuthnContext's AuthnContextClassRef values (Entra names multipleauthn to ask for MFA). */
  authnContextClassRefs: string[];
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
  const issuer = text(childElements(root, SAML2.assertion, 'Issuer')[0]);
  if (!issuer) throw bad(`${root.localName} without Issuer`);
  return issuer;
}

/**
 * What Gatehouse reads itself, from its own parsed tree, before the message's signature is checked:
 * the Issuer (it chooses the SP, hence the only keys that may have signed), the ID and InResponseTo,
 * and where an AuthnRequest asks the answer to go (a refusal may only go to an ACS the SP's metadata
 * registers, never to one the request names on its own). These are read by us and not by samlify
 * because samlify must never read an unchecked message.
 */
export interface MessageHead {
  id: string;
  issuer: string;
  inResponseTo: string | undefined;
  acsUrl: string | undefined;
  acsIndex: number | undefined;
  protocolBinding: string | undefined;
}

export function readHead(doc: Document): MessageHead {
  const root = doc.documentElement;
  const index = root.getAttribute('AssertionConsumerServiceIndex');
  return {
    id: root.getAttribute('ID')!,
    issuer: issuerOf(root),
    inResponseTo: root.getAttribute('InResponseTo') || undefined,
    acsUrl: root.getAttribute('AssertionConsumerServiceURL') || undefined,
    acsIndex: index ? Number(index) : undefined,
    protocolBinding: root.getAttribute('ProtocolBinding') || undefined,
  };
}

// ---- samlify's extractor ----------------------------------------------------------------------
//
// The fields of a message are read by samlify's Extractor (the project's SAML library), and only
// after Gatehouse has itself refused DTDs, parsed the message with bounds, validated it against the
// OASIS schema and checked its signature strictly (signature.ts): samlify's own signature check of
// AuthnRequest/LogoutRequest can be bypassed by wrapping (its issue #634), so it is never asked to
// check anything. Its absolute XPaths read from the root element, which is exactly what was signed
// (one ds:Signature, a child of the root, referencing the root's unique ID). Every field that
// Gatehouse already read before the check (MessageHead) must come out the same from samlify, or the
// message is refused: two readers disagreeing means a parser differential, not a real message.

const NO_SIGNATURE = (f: ExtractorTypes.ExtractorField) => f.key !== 'signature';

/** samlify's loginRequestFields name only ID, IssueInstant, Destination and the ACS URL of the root. */
const AUTHN_REQUEST_FIELDS: ExtractorTypes.ExtractorField[] = [
  {
    key: 'request',
    localPath: ['AuthnRequest'],
    attributes: ['ID', 'Destination', 'AssertionConsumerServiceURL', 'AssertionConsumerServiceIndex', 'ProtocolBinding', 'ForceAuthn', 'IsPassive'],
  },
  ...Extractor.loginRequestFields.filter((f) => f.key === 'issuer' || f.key === 'nameIDPolicy'),
  { key: 'authnContextClassRef', localPath: ['AuthnRequest', 'RequestedAuthnContext', 'AuthnContextClassRef'], attributes: [] },
];
const LOGOUT_REQUEST_FIELDS = Extractor.logoutRequestFields.filter(NO_SIGNATURE);
const LOGOUT_RESPONSE_FIELDS = [...Extractor.logoutResponseFields.filter(NO_SIGNATURE), ...Extractor.logoutResponseStatusFields];

type Extracted = ExtractorTypes.ExtractorResult[string];

/**
 * One value: an attribute as it is, element text trimmed (as readHead reads them); empty is absent, and
 * a repeated element is refused (the schema allows one).
 */
function one(v: Extracted, what: string, trim = false): string | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') {
    if (Array.isArray(v) && v.length === 0) return undefined;
    throw bad(`${what} is not a single value`);
  }
  return (trim ? v.trim() : v) || undefined;
}

/** The attributes of one element (samlify: an object per element, an empty array when there is none). */
function attrs(v: Extracted, what: string): Record<string, string | string[]> {
  if (v === undefined || v === null || (Array.isArray(v) && v.length === 0)) return {};
  if (typeof v !== 'object' || Array.isArray(v)) throw bad(`${what} is not a single element`);
  return v;
}

const flag = (v: string | undefined) => v === 'true' || v === '1';

/** @throws GH_BAD_REQUEST when samlify reads a field otherwise than Gatehouse did before the check. */
function agree(kind: string, head: MessageHead, read: Partial<MessageHead>): void {
  for (const [name, value] of Object.entries(read) as [keyof MessageHead, unknown][]) {
    if (value !== head[name]) throw bad(`${kind} ${name} reads ${JSON.stringify(value)} after the signature check, ${JSON.stringify(head[name])} before`);
  }
}

/** The fields of an AuthnRequest that the IdP acts on (saml-core 3.4.1); samlify reads them. */
export function readAuthnRequest(msg: InboundMessage, head: MessageHead): AuthnRequest {
  const x = Extractor.extract(msg.xml, AUTHN_REQUEST_FIELDS);
  const r = attrs(x.request, 'AuthnRequest');
  const policy = attrs(x.nameIDPolicy, 'NameIDPolicy');
  const index = one(r.assertionConsumerServiceIndex, 'AssertionConsumerServiceIndex');
  const req: AuthnRequest = {
    id: one(r.id, 'ID') ?? '',
    issuer: one(x.issuer, 'Issuer', true) ?? '',
    destination: one(r.destination, 'Destination'),
    acsUrl: one(r.assertionConsumerServiceUrl, 'AssertionConsumerServiceURL'),
    acsIndex: index ? Number(index) : undefined,
    protocolBinding: one(r.protocolBinding, 'ProtocolBinding'),
    forceAuthn: flag(one(r.forceAuthn, 'ForceAuthn')),
    isPassive: flag(one(r.isPassive, 'IsPassive')),
    nameIdFormat: one(policy.format, 'NameIDPolicy Format'),
    authnContextClassRefs: [x.authnContextClassRef ?? []].flat().map((v) => String(v).trim()),
  };
  agree('AuthnRequest', head, { id: req.id, issuer: req.issuer, acsUrl: req.acsUrl, acsIndex: req.acsIndex, protocolBinding: req.protocolBinding });
  return req;
}

/** A LogoutRequest's ID, Issuer, NameID and SessionIndexes (saml-core 3.7.1); samlify reads them. */
export function readLogoutRequest(msg: InboundMessage, head: MessageHead): LogoutRequest {
  const x = Extractor.extract(msg.xml, LOGOUT_REQUEST_FIELDS);
  const r = attrs(x.request, 'LogoutRequest');
  const indexes = x.sessionIndex;
  const req: LogoutRequest = {
    id: one(r.id, 'ID') ?? '',
    issuer: one(x.issuer, 'Issuer', true) ?? '',
    nameId: one(x.nameID, 'NameID', true),
    sessionIndexes: (Array.isArray(indexes) ? indexes : typeof indexes === 'string' ? [indexes] : []).map((s) => String(s).trim()),
  };
  agree('LogoutRequest', head, { id: req.id, issuer: req.issuer });
  return req;
}

/** A LogoutResponse's ID, Issuer, InResponseTo and top-level status code (saml-core 3.7.2); samlify reads them. */
export function readLogoutResponse(msg: InboundMessage, head: MessageHead): LogoutResponse {
  const x = Extractor.extract(msg.xml, LOGOUT_RESPONSE_FIELDS);
  const r = attrs(x.response, 'LogoutResponse');
  const res: LogoutResponse = {
    id: one(r.id, 'ID') ?? '',
    issuer: one(x.issuer, 'Issuer', true) ?? '',
    inResponseTo: one(r.inResponseTo, 'InResponseTo'),
    status: one(x.top, 'StatusCode'),
  };
  agree('LogoutResponse', head, { id: res.id, issuer: res.issuer, inResponseTo: res.inResponseTo });
  return res;
}
