const TEXT: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;' };
const ATTR: Record<string, string> = { ...TEXT, '"': '&quot;', '\r': '&#xD;', '\n': '&#xA;', '\t': '&#x9;' };

/** Characters that XML 1.0 cannot carry at all; dropped rather than emitted as broken XML. */
// eslint-disable-next-line no-control-regex
const INVALID = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g;

export function escapeText(s: string): string {
  return s.replace(INVALID, '').replace(/[&<>]/g, (c) => TEXT[c]!);
}

export function escapeAttr(s: string): string {
  return s.replace(INVALID, '').replace(/[&<>"\r\n\t]/g, (c) => ATTR[c]!);
}

/*
 * Escaping as exclusive canonicalization (C14N 1.0, section 2.3) writes it. Text and attribute values
 * escaped this way come out of a canonicalizer unchanged, which lets a serializer emit canonical XML
 * directly (see src/tokens/canonical-sign.ts).
 */
const C14N_TEXT: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '\r': '&#xD;' };
const C14N_ATTR: Record<string, string> = { '&': '&amp;', '<': '&lt;', '"': '&quot;', '\t': '&#x9;', '\n': '&#xA;', '\r': '&#xD;' };

export function escapeC14nText(s: string): string {
  return s.replace(INVALID, '').replace(/[&<>\r]/g, (c) => C14N_TEXT[c]!);
}

export function escapeC14nAttr(s: string): string {
  return s.replace(INVALID, '').replace(/[&<"\t\n\r]/g, (c) => C14N_ATTR[c]!);
}
