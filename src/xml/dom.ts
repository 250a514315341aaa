/** Reading a parsed document (from parse.ts) by namespace: the helpers every reader of XML here uses. */

export const ELEMENT_NODE = 1;
export const COMMENT_NODE = 8;

/** Element children of `parent` with this local name in this namespace (or one of these namespaces). */
export function childElements(parent: Element | Document, ns: string | readonly string[], localName: string): Element[] {
  const namespaces = typeof ns === 'string' ? [ns] : ns;
  const out: Element[] = [];
  for (let n = parent.firstChild; n; n = n.nextSibling) {
    if (n.nodeType === ELEMENT_NODE && (n as Element).localName === localName && namespaces.includes((n as Element).namespaceURI ?? '')) out.push(n as Element);
  }
  return out;
}

/** All element children, whatever their name. */
export function elementChildren(parent: Element): Element[] {
  const out: Element[] = [];
  for (let n = parent.firstChild; n; n = n.nextSibling) if (n.nodeType === ELEMENT_NODE) out.push(n as Element);
  return out;
}
