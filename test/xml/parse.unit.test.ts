import { describe, expect, it } from 'vitest';
import { parseXmlSafely, UnsafeXmlError } from '../../src/xml/parse.js';

function reason(xml: string, limits?: Parameters<typeof parseXmlSafely>[1]): string {
  try {
    parseXmlSafely(xml, limits);
    return 'accepted';
  } catch (err) {
    expect(err).toBeInstanceOf(UnsafeXmlError);
    return (err as UnsafeXmlError).reason;
  }
}

describe('parseXmlSafely', () => {
  it('parses ordinary, namespaced XML with an XML declaration and comments', () => {
    const doc = parseXmlSafely('<?xml version="1.0" encoding="utf-8"?><a xmlns="urn:x"><!-- c --><b>t&amp;&lt;</b></a>');
    expect(doc.documentElement.namespaceURI).toBe('urn:x');
    expect(doc.documentElement.textContent).toBe('t&<'); // comments are not text
  });

  it.each([
    ['DOCTYPE with an external entity', '<!DOCTYPE a [<!ENTITY x SYSTEM "file:///etc/passwd">]><a>&x;</a>', 'dtd'],
    ['lower-case doctype', '<!doctype a><a/>', 'dtd'],
    ['an ENTITY declaration on its own', '<a><!ENTITY x "y"></a>', 'dtd'],
    ['a processing instruction', '<a><?xml-stylesheet href="x"?></a>', 'processing-instruction'],
    ['a second XML declaration', '<?xml version="1.0"?><a><?xml version="1.0"?></a>', 'processing-instruction'],
    ['an undeclared entity', '<a>&lol;</a>', 'malformed'],
    ['unclosed element', '<a><b></a>', 'malformed'],
    ['two root elements', '<a/><b/>', 'malformed'],
    ['text after the root', '<a/>junk', 'malformed'],
    ['no element at all', 'hello', 'malformed'],
    ['empty', '', 'malformed'],
  ])('refuses %s', (_name, xml, why) => {
    expect(reason(xml)).toBe(why);
  });

  it('bounds size, depth and element count', () => {
    expect(reason(`<a>${'x'.repeat(2000)}</a>`, { maxBytes: 1000 })).toBe('too-large');
    expect(reason(`<a>${'é'.repeat(600)}</a>`, { maxBytes: 1000 })).toBe('too-large'); // bytes, not characters
    expect(reason('<a>'.repeat(20) + '</a>'.repeat(20), { maxDepth: 10 })).toBe('too-deep');
    expect(reason('<a>'.repeat(10) + '</a>'.repeat(10), { maxDepth: 10 })).toBe('accepted');
    expect(reason(`<a>${'<b/>'.repeat(50)}</a>`, { maxElements: 20 })).toBe('too-many-elements');
    // A deeply nested document is refused without overflowing the stack.
    expect(reason('<a>'.repeat(20_000) + '</a>'.repeat(20_000), { maxBytes: 1_000_000 })).toBe('too-deep');
  });

  it('does not put document text in its messages', () => {
    try {
      parseXmlSafely('<a><p>secret&password</p></a>');
      expect.unreachable();
    } catch (err) {
      expect((err as Error).message).not.toContain('password');
    }
  });
});
