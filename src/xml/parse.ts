import { DOMParser } from '@xmldom/xmldom';

/**
 * The one way Gatehouse reads XML that arrives from the network (WS-Trust, SAML messages, SP metadata).
 *
 * XML from outside is hostile until proven otherwise: a DTD can pull in local files (XXE) or expand a
 * few hundred bytes into gigabytes ("billion laughs"), and a deep or huge tree can exhaust memory. So
 * the document is refused, before any parsing, when it is too large or mentions a DTD or an entity
 * declaration at all; then it is parsed with every parser complaint treated as fatal; then the tree is
 * walked once to bound its depth and size and to refuse processing instructions. Nothing is expanded,
 * nothing is fetched.
 */

export interface XmlLimits {
  /** UTF-8 bytes of the whole document. */
  maxBytes: number;
  /** Element nesting (the root element is depth 1). */
  maxDepth: number;
  /** Total number of elements. */
  maxElements: number;
}

export const DEFAULT_XML_LIMITS: XmlLimits = { maxBytes: 256 * 1024, maxDepth: 48, maxElements: 10_000 };

/** Why a document was refused. `reason` is for logs and never contains document content. */
export class UnsafeXmlError extends Error {
  override name = 'UnsafeXmlError';
  constructor(readonly reason: 'too-large' | 'dtd' | 'processing-instruction' | 'too-deep' | 'too-many-elements' | 'malformed', detail?: string) {
    super(detail ? `${reason}: ${detail}` : reason);
  }
}

const ELEMENT_NODE = 1;
const TEXT_NODE = 3;
const PROCESSING_INSTRUCTION_NODE = 7;
const DOCUMENT_TYPE_NODE = 10;

// A DTD is the only way to declare entities; refusing the markup outright (wherever it appears, even in
// a comment or CDATA) is simpler to reason about than trusting the parser to ignore it.
const DTD_MARKUP = /<!\s*(DOCTYPE|ENTITY|ELEMENT|ATTLIST|NOTATION)/i;
// A processing instruction is "<?" anywhere except one XML declaration at the very start.
const XML_DECLARATION = /^\uFEFF?<\?xml\s[^?]*\?>/;

// XML 1.0 production [2] Char: what a document may contain, literally or as a character reference.
const ILLEGAL_LITERAL = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const CHAR_REFERENCE = /&#(?:x([0-9A-Fa-f]{1,8})|([0-9]{1,10}));/g;

function isXmlChar(c: number): boolean {
  return c === 0x9 || c === 0xa || c === 0xd || (c >= 0x20 && c <= 0xd7ff) || (c >= 0xe000 && c <= 0xfffd) || (c >= 0x10000 && c <= 0x10ffff);
}

// Without a DTD only the five predefined entities exist; a bare "&" is not well-formed (xmldom keeps it as text).
const BAD_AMPERSAND = /&(?!(?:amp|lt|gt|quot|apos|#[0-9]{1,10}|#x[0-9A-Fa-f]{1,8});)/;
const CDATA_OR_COMMENT = /<!\[CDATA\[[\s\S]*?\]\]>|<!--[\s\S]*?-->/g;

/**
 * What xmldom lets through although XML forbids it: `&#0;` (it becomes a NUL), raw control characters, a
 * bare "&". Checked on the text before parsing.
 */
function checkCharacters(xml: string): void {
  if (ILLEGAL_LITERAL.test(xml)) throw new UnsafeXmlError('malformed', 'a character that XML does not allow');
  const markup = xml.includes('<!') ? xml.replace(CDATA_OR_COMMENT, '') : xml;
  if (BAD_AMPERSAND.test(markup)) throw new UnsafeXmlError('malformed', 'an "&" that starts no character or entity reference');
  for (const m of markup.matchAll(CHAR_REFERENCE)) {
    const code = m[1] !== undefined ? parseInt(m[1], 16) : Number(m[2]);
    if (!isXmlChar(code)) throw new UnsafeXmlError('malformed', 'a character reference to a character that XML does not allow');
  }
}

export function parseXmlSafely(xml: string, limits: Partial<XmlLimits> = {}): Document {
  const { maxBytes, maxDepth, maxElements } = { ...DEFAULT_XML_LIMITS, ...limits };
  // Cheap length check first: a UTF-16 code unit is at least one UTF-8 byte.
  if (xml.length > maxBytes || Buffer.byteLength(xml, 'utf8') > maxBytes) throw new UnsafeXmlError('too-large', `over ${maxBytes} bytes`);
  if (DTD_MARKUP.test(xml)) throw new UnsafeXmlError('dtd');
  if (xml.replace(XML_DECLARATION, '').includes('<?')) throw new UnsafeXmlError('processing-instruction');

  checkCharacters(xml);

  // xmldom's complaints quote the document ("unexpected < in tag name: <text>"), and the text may be a
  // password: only where the parser stopped is kept.
  const fail = (level: string) => (msg: string) => {
    const at = /line:(\d+),col:(\d+)/.exec(String(msg));
    throw new UnsafeXmlError('malformed', `not well-formed (xmldom ${level}${at ? ` at line ${at[1]}, column ${at[2]}` : ''})`);
  };
  let doc: Document;
  try {
    doc = new DOMParser({
      locator: {},
      errorHandler: { warning: fail('warning'), error: fail('error'), fatalError: fail('fatal') },
    }).parseFromString(xml, 'text/xml') as unknown as Document;
  } catch (err) {
    if (err instanceof UnsafeXmlError) throw err;
    throw new UnsafeXmlError('malformed', 'not well-formed');
  }
  if (!doc?.documentElement) throw new UnsafeXmlError('malformed', 'no root element');

  // One iterative walk (no recursion, so a deep document cannot overflow the stack here).
  let elements = 0;
  const stack: Array<{ node: Node; depth: number }> = [{ node: doc as unknown as Node, depth: 0 }];
  while (stack.length > 0) {
    const { node, depth } = stack.pop()!;
    for (let child = node.firstChild; child; child = child.nextSibling) {
      if (child.nodeType === PROCESSING_INSTRUCTION_NODE) {
        // xmldom keeps the XML declaration as a processing instruction "xml" (checked textually above).
        if (depth === 0 && child === node.firstChild && (child as ProcessingInstruction).target === 'xml') continue;
        throw new UnsafeXmlError('processing-instruction');
      }
      if (depth === 0 && child.nodeType === TEXT_NODE && child.nodeValue?.trim()) throw new UnsafeXmlError('malformed', 'text outside the root element');
      if (child.nodeType === DOCUMENT_TYPE_NODE) throw new UnsafeXmlError('dtd');
      if (child.nodeType !== ELEMENT_NODE) continue;
      if (depth + 1 > maxDepth) throw new UnsafeXmlError('too-deep', `deeper than ${maxDepth}`);
      if (++elements > maxElements) throw new UnsafeXmlError('too-many-elements', `more than ${maxElements}`);
      stack.push({ node: child, depth: depth + 1 });
    }
  }
  return doc;
}
