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
    ['a NUL character reference', '<a>pass&#0;word</a>', 'malformed'],
    ['a hexadecimal control character reference', '<a>&#x1;</a>', 'malformed'],
    ['a reference to a surrogate', '<a>&#xD800;</a>', 'malformed'],
    ['a reference beyond Unicode', '<a>&#x110000;</a>', 'malformed'],
    ['a raw NUL', '<a>x\u0000y</a>', 'malformed'],
    ['a raw form feed', '<a>x\u000Cy</a>', 'malformed'],
    ['a bare ampersand', '<a>x & y</a>', 'malformed'],
    ['an undeclared entity reference', '<a>&nbsp;</a>', 'malformed'],
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

  it('accepts the character references XML allows', () => {
    expect(parseXmlSafely('<a>&#9;&#xA;&#13;&#x20;&#xE9;&#x1F600;</a>').documentElement.textContent).toBe('\t\n\r é😀');
  });

  it.each([
    ['an unescaped < inside text', '<a><p>Hunter2<Zq9Secretfrag</p></a>'],
    ['a bare & inside text', '<a><p>secret&Zq9Secretfrag</p></a>'],
    ['an attribute without quotes', '<a b=Zq9Secretfrag/>'],
    ['a mismatched end tag', '<a><Zq9Secretfrag></a>'],
  ])('does not quote the document when refusing %s', (_name, xml) => {
    expect(() => parseXmlSafely(xml)).toThrow(UnsafeXmlError);
    try {
      parseXmlSafely(xml);
    } catch (err) {
      expect((err as Error).message).not.toContain('Zq9');
      expect((err as UnsafeXmlError).reason).toBe('malformed');
    }
  });

  it('does not put document text in its messages', () => {
    expect(() => parseXmlSafely('<a><p>secret&password</p></a>')).toThrow(UnsafeXmlError);
    try {
      parseXmlSafely('<a><p>secret&password</p></a>');
    } catch (err) {
      expect((err as Error).message).not.toContain('password');
    }
  });

  it('keeps "&" inside CDATA sections and comments', () => {
    expect(parseXmlSafely('<a><![CDATA[x & y]]><!-- a & b --></a>').documentElement.textContent).toBe('x & y');
  });
});
