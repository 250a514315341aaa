import { DOMParser } from '@xmldom/xmldom';

/**
 * The one way Gatehouse reads XML that arrives from the network (WS-Trust now, SAML later).
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

export function parseXmlSafely(xml: string, limits: Partial<XmlLimits> = {}): Document {
  const { maxBytes, maxDepth, maxElements } = { ...DEFAULT_XML_LIMITS, ...limits };
  // Cheap length check first: a UTF-16 code unit is at least one UTF-8 byte.
  if (xml.length > maxBytes || Buffer.byteLength(xml, 'utf8') > maxBytes) throw new UnsafeXmlError('too-large', `over ${maxBytes} bytes`);
  if (DTD_MARKUP.test(xml)) throw new UnsafeXmlError('dtd');
  if (xml.replace(XML_DECLARATION, '').includes('<?')) throw new UnsafeXmlError('processing-instruction');

  const fail = (level: string) => (msg: string) => {
    // xmldom's messages carry the parser's complaint, not the document's text. It catches some of our
    // throws and reports them again, wrapped: keep the innermost complaint.
    const complaint = String(msg)
      .split('\n')[0]!
      .replace(/^.*UnsafeXmlError: malformed: /, '')
      // Quoted values and entity names may be fragments of text (a password with a bare "&"): not logged.
      .replace(/"[^"]*"/g, '"…"')
      .replace(/&[^\s;]*;?/g, '&…')
      .slice(0, 200);
    throw new UnsafeXmlError('malformed', complaint.startsWith('[xmldom') ? complaint : `[xmldom ${level}] ${complaint}`);
  };
  let doc: Document;
  try {
    doc = new DOMParser({
      locator: {},
      errorHandler: { warning: fail('warning'), error: fail('error'), fatalError: fail('fatal') },
    }).parseFromString(xml, 'text/xml') as unknown as Document;
  } catch (err) {
    if (err instanceof UnsafeXmlError) throw err;
    throw new UnsafeXmlError('malformed', (err as Error).message?.split('\n')[0]?.slice(0, 200));
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
