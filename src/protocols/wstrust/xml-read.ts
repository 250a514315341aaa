import { WsTrustFault } from './faults.js';

/** Element children of `parent` with this namespace and local name. */
export function children(parent: Element, ns: string | readonly string[], localName: string): Element[] {
  const namespaces = typeof ns === 'string' ? [ns] : ns;
  const out: Element[] = [];
  for (let n = parent.firstChild; n; n = n.nextSibling) {
    if (n.nodeType === 1 && (n as Element).localName === localName && namespaces.includes((n as Element).namespaceURI ?? '')) out.push(n as Element);
  }
  return out;
}

/** All element children, whatever their name. */
export function elementChildren(parent: Element): Element[] {
  const out: Element[] = [];
  for (let n = parent.firstChild; n; n = n.nextSibling) if (n.nodeType === 1) out.push(n as Element);
  return out;
}

/**
 * Exactly one such child, or an InvalidRequest fault. Duplicates are refused rather than "first wins":
 * two readers picking different copies of the same element is how signature-wrapping attacks start.
 */
export function one(parent: Element, ns: string | readonly string[], localName: string, what = localName): Element {
  const found = children(parent, ns, localName);
  if (found.length === 0) throw new WsTrustFault('InvalidRequest', `missing ${what}`);
  if (found.length > 1) throw new WsTrustFault('InvalidRequest', `more than one ${what}`);
  return found[0]!;
}

/** At most one such child. */
export function optional(parent: Element, ns: string | readonly string[], localName: string, what = localName): Element | undefined {
  const found = children(parent, ns, localName);
  if (found.length > 1) throw new WsTrustFault('InvalidRequest', `more than one ${what}`);
  return found[0];
}

/** Text content, trimmed (for URIs, IDs and times; never for passwords). */
export function text(el: Element): string {
  return (el.textContent ?? '').trim();
}
