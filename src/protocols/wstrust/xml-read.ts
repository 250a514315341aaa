import { childElements } from '../../xml/dom.js';
import { WsTrustFault } from './faults.js';

/**
 * Exactly one such child, or an InvalidRequest fault. Duplicates are refused rather than "first wins":
 * two readers picking different copies of the same element is how signature-wrapping attacks start.
 */
export function one(parent: Element, ns: string | readonly string[], localName: string, what = localName): Element {
  const found = childElements(parent, ns, localName);
  if (found.length === 0) throw new WsTrustFault('InvalidRequest', `missing ${what}`);
  if (found.length > 1) throw new WsTrustFault('InvalidRequest', `more than one ${what}`);
  return found[0]!;
}

/** At most one such child. */
export function optional(parent: Element, ns: string | readonly string[], localName: string, what = localName): Element | undefined {
  const found = childElements(parent, ns, localName);
  if (found.length > 1) throw new WsTrustFault('InvalidRequest', `more than one ${what}`);
  return found[0];
}

/** Text content, trimmed (for URIs, IDs and times; never for passwords). */
export function text(el: Element): string {
  return (el.textContent ?? '').trim();
}
