import { NS, SAML11, WSA, WSSE } from '../../constants.js';
import { WsTrustFault } from './faults.js';
import { checkTimestamp, parseDateTime } from './timestamp.js';
import { BEARER_KEY_TYPES, type TrustVersion } from './versions.js';
import { elementChildren } from '../../xml/dom.js';
import { one, optional, text } from './xml-read.js';

/**
 * A WS-Trust Issue request for a bearer token, fully checked: with the user's name and password
 * (usernamemixed), or with none (windowstransport: the client is authenticated by HTTP Negotiate).
 */
export interface IssueRequest {
  /** wsa:MessageID, echoed as wsa:RelatesTo. */
  messageId: string;
  /** Absent at windowstransport. */
  credentials: { username: string; password: string } | undefined;
  /** The relying party the token is for (AppliesTo/EndpointReference/Address). */
  appliesTo: string;
  keyType: string;
}

// AppliesTo is WS-Policy's and its EndpointReference WS-Addressing's; older clients use the drafts.
const WSP_ANY = [NS.wsp, 'http://www.w3.org/ns/ws-policy'] as const;
const WSA_ANY = [NS.wsa, 'http://schemas.xmlsoap.org/ws/2004/08/addressing'] as const;
const TOKEN_TYPES: readonly string[] = [SAML11.tokenType, WSSE.saml11TokenType];

/** The SOAP header blocks we process; any other one marked mustUnderstand is a fault (SOAP 1.2 §2.4). */
const UNDERSTOOD_HEADERS = [
  [NS.wsa, 'Action'],
  [NS.wsa, 'MessageID'],
  [NS.wsa, 'To'],
  [NS.wsa, 'ReplyTo'],
  [NS.wsse, 'Security'],
] as const;

const MAX = { messageId: 1024, username: 256, password: 512 };

/** The same URL written two ways (case of scheme and host, default port) compares equal. */
function sameUrl(a: string, b: string): boolean {
  try {
    return new URL(a).href === new URL(b).href;
  } catch {
    return false;
  }
}

function mustUnderstand(el: Element): boolean {
  const v = el.getAttributeNS(NS.soap12, 'mustUnderstand');
  return v === '1' || v === 'true';
}

/**
 * Reads and checks a SOAP 1.2 RequestSecurityToken message. Everything about the message is checked
 * here, before any password reaches the directory, so a malformed or replayed message never costs a
 * bind (nor a bad-password count).
 * @param seen receives the MessageID as soon as it is known, so that a fault can refer to it.
 * @throws WsTrustFault InvalidRequest or MustUnderstand.
 */
export function readIssueRequest(
  doc: Document,
  version: TrustVersion,
  opts: { endpointUrl: string; now?: number; windows?: boolean },
  seen: { messageId?: string } = {},
): IssueRequest {
  const envelope = doc.documentElement;
  if (envelope.namespaceURI !== NS.soap12 || envelope.localName !== 'Envelope') {
    throw new WsTrustFault('InvalidRequest', 'not a SOAP 1.2 envelope');
  }
  for (const el of elementChildren(envelope)) {
    if (el.namespaceURI !== NS.soap12 || (el.localName !== 'Header' && el.localName !== 'Body')) {
      throw new WsTrustFault('InvalidRequest', `unexpected ${el.localName} in the envelope`);
    }
  }
  const header = one(envelope, NS.soap12, 'Header', 's:Header');
  const body = one(envelope, NS.soap12, 'Body', 's:Body');

  // WS-Addressing
  const messageId = text(one(header, NS.wsa, 'MessageID', 'wsa:MessageID'));
  if (!messageId || messageId.length > MAX.messageId) throw new WsTrustFault('InvalidRequest', 'empty or overlong wsa:MessageID');
  seen.messageId = messageId;

  for (const block of elementChildren(header)) {
    if (!mustUnderstand(block)) continue;
    if (!UNDERSTOOD_HEADERS.some(([ns, name]) => block.namespaceURI === ns && block.localName === name)) {
      throw new WsTrustFault('MustUnderstand', `header ${block.namespaceURI ?? ''}:${block.localName}`, {
        ns: block.namespaceURI ?? '',
        localName: block.localName,
      });
    }
  }

  const action = text(one(header, NS.wsa, 'Action', 'wsa:Action'));
  if (action !== version.requestAction) throw new WsTrustFault('InvalidRequest', `wsa:Action ${action} on the WS-Trust ${version.name} endpoint`);
  const to = text(one(header, NS.wsa, 'To', 'wsa:To'));
  // A message addressed elsewhere (another STS, or ours under another name) was not meant for us.
  if (!sameUrl(to, opts.endpointUrl)) throw new WsTrustFault('InvalidRequest', `wsa:To ${to} is not ${opts.endpointUrl}`);
  const replyTo = optional(header, NS.wsa, 'ReplyTo', 'wsa:ReplyTo');
  if (replyTo) {
    // The answer can only go back on this HTTP connection; absent ReplyTo means the same (WS-Addressing 1.0).
    const address = text(one(replyTo, NS.wsa, 'Address', 'wsa:ReplyTo/wsa:Address'));
    if (address !== WSA.anonymous) throw new WsTrustFault('InvalidRequest', 'wsa:ReplyTo is not anonymous');
  }

  // WS-Security: timestamp, then the username token. At windowstransport the security header is
  // optional (MSAL sends none), its timestamp checked when there is one, and a password refused: the
  // client is authenticated at the HTTP layer, and a password there would skip the lockout checks.
  let credentials: IssueRequest['credentials'];
  const security = opts.windows ? optional(header, NS.wsse, 'Security', 'wsse:Security') : one(header, NS.wsse, 'Security', 'wsse:Security');
  const timestamp = security && (opts.windows ? optional(security, NS.wsu, 'Timestamp', 'wsu:Timestamp') : one(security, NS.wsu, 'Timestamp', 'wsu:Timestamp'));
  if (timestamp) {
    const created = parseDateTime(text(one(timestamp, NS.wsu, 'Created', 'wsu:Created')), 'wsu:Created');
    const expires = parseDateTime(text(one(timestamp, NS.wsu, 'Expires', 'wsu:Expires')), 'wsu:Expires');
    checkTimestamp(created, expires, opts.now);
  }
  if (opts.windows) {
    if (security && optional(security, NS.wsse, 'UsernameToken', 'wsse:UsernameToken')) {
      throw new WsTrustFault('InvalidRequest', 'a UsernameToken at windowstransport (its credentials are HTTP Negotiate; passwords go to usernamemixed)');
    }
  } else {
    const token = one(security!, NS.wsse, 'UsernameToken', 'wsse:UsernameToken');
    const username = text(one(token, NS.wsse, 'Username', 'wsse:Username'));
    const passwordEl = one(token, NS.wsse, 'Password', 'wsse:Password');
    const passwordType = passwordEl.getAttribute('Type');
    // A digest cannot be checked against AD (it needs the clear password on our side).
    if (passwordType && passwordType !== WSSE.passwordText) throw new WsTrustFault('InvalidRequest', 'password type is not PasswordText');
    const password = passwordEl.textContent ?? '';
    if (username.length > MAX.username || password.length > MAX.password) throw new WsTrustFault('InvalidRequest', 'overlong user name or password');
    credentials = { username, password };
  }

  // The body: one RequestSecurityToken in this endpoint's WS-Trust version
  const bodyParts = elementChildren(body);
  if (bodyParts.length !== 1) throw new WsTrustFault('InvalidRequest', 's:Body must hold exactly one element');
  const rst = one(body, version.trustNs, 'RequestSecurityToken', `RequestSecurityToken (WS-Trust ${version.name})`);

  const requestType = text(one(rst, version.trustNs, 'RequestType'));
  if (requestType !== version.requestType) throw new WsTrustFault('InvalidRequest', `RequestType ${requestType}`);
  const keyType = text(one(rst, version.trustNs, 'KeyType'));
  if (!BEARER_KEY_TYPES.includes(keyType)) throw new WsTrustFault('InvalidRequest', `KeyType ${keyType} (only bearer tokens are issued)`);
  const tokenType = optional(rst, version.trustNs, 'TokenType');
  if (tokenType && !TOKEN_TYPES.includes(text(tokenType))) throw new WsTrustFault('InvalidRequest', `TokenType ${text(tokenType)}`);

  const appliesTo = one(rst, WSP_ANY, 'AppliesTo', 'wsp:AppliesTo');
  const epr = one(appliesTo, WSA_ANY, 'EndpointReference', 'AppliesTo/EndpointReference');
  const address = text(one(epr, WSA_ANY, 'Address', 'AppliesTo/EndpointReference/Address'));
  if (!address) throw new WsTrustFault('InvalidRequest', 'empty AppliesTo address');

  return { messageId, credentials, appliesTo: address, keyType };
}
