import { describe, expect, it } from 'vitest';
import { childElements, elementChildren } from '../../src/xml/dom.js';
import { parseXmlSafely } from '../../src/xml/parse.js';

const A = 'urn:test:a';
const B = 'urn:test:b';

describe('childElements', () => {
  const doc = parseXmlSafely(`<r xmlns="${A}" xmlns:b="${B}"><x>1</x><b:x>2</b:x><!-- c --><y><x>deep</x></y>text<x>3</x></r>`);
  const root = doc.documentElement;

  it('gives the direct children with this local name in this namespace, in order', () => {
    expect(childElements(root, A, 'x').map((e) => e.textContent)).toEqual(['1', '3']);
    expect(childElements(root, B, 'x').map((e) => e.textContent)).toEqual(['2']);
    expect(childElements(root, 'urn:other', 'x')).toEqual([]);
  });

  it('takes several namespaces (a message that may come in either version)', () => {
    expect(childElements(root, [A, B], 'x').map((e) => e.textContent)).toEqual(['1', '2', '3']);
  });

  it('starts from a document too, and elementChildren skips text and comments', () => {
    expect(childElements(doc, A, 'r')).toEqual([root]);
    expect(elementChildren(root).map((e) => e.localName)).toEqual(['x', 'x', 'y', 'x']);
  });
});
