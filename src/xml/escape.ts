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
