/**
 * Which language a page speaks. A protocol hint wins over the browser's Accept-Language, because the
 * application knows which language its user chose: OpenID Connect's `ui_locales` (space-separated
 * BCP 47 tags), `mkt` (a culture name such as de-DE) and `lc` (a Windows LCID such as 1031), the
 * parameters Microsoft sign-in URLs carry. Anything not offered falls through to the default.
 */

/** Windows locale IDs of the languages Gatehouse ships (and their common regional variants). */
const LCIDS: Record<number, string> = {
  1033: 'en', 2057: 'en', 3081: 'en', 4105: 'en',
  1031: 'de', 2055: 'de', 3079: 'de',
  1036: 'fr', 2060: 'fr', 3084: 'fr', 4108: 'fr',
  1034: 'es', 3082: 'es', 2058: 'es',
  1043: 'nl', 2067: 'nl',
  1046: 'pt', 2070: 'pt',
  1025: 'ar', 14337: 'ar', 5121: 'ar',
  1037: 'he',
};

export interface LanguageHints {
  /** `ui_locales`, `mkt` and `lc` from the query string, as sent. */
  uiLocales?: string | undefined;
  mkt?: string | undefined;
  lc?: string | undefined;
  acceptLanguage?: string | undefined;
}

/** Tags from Accept-Language, best first (q=0 dropped; at most 20 read, as a header can be long). */
export function parseAcceptLanguage(header: string | undefined): string[] {
  if (!header) return [];
  return header
    .split(',')
    .slice(0, 20)
    .map((part, i) => {
      const [tag = '', ...params] = part.trim().split(';');
      const q = params.map((p) => /^\s*q=([0-9.]+)\s*$/.exec(p)).find(Boolean);
      return { tag: tag.trim(), q: q ? Number(q[1]) : 1, i };
    })
    .filter((t) => t.tag && t.tag !== '*' && t.q > 0 && /^[A-Za-z]{1,8}(-[A-Za-z0-9]{1,8})*$/.test(t.tag))
    .sort((a, b) => b.q - a.q || a.i - b.i)
    .map((t) => t.tag);
}

/** The offered language a tag asks for: exact (pt-BR offered as pt-BR), else its primary subtag (de-AT -> de). */
function match(tag: string, offered: readonly string[]): string | undefined {
  const lower = tag.toLowerCase();
  return offered.find((o) => o.toLowerCase() === lower) ?? offered.find((o) => o.toLowerCase() === lower.split('-')[0]);
}

export function chooseLanguage(hints: LanguageHints, offered: readonly string[], fallback: string): string {
  const lcid = hints.lc && /^\d{1,5}$/.test(hints.lc) ? LCIDS[Number(hints.lc)] : undefined;
  const wanted = [
    ...(hints.uiLocales ?? '').split(/\s+/).filter(Boolean).slice(0, 10),
    ...(hints.mkt ? [hints.mkt] : []),
    ...(lcid ? [lcid] : []),
    ...parseAcceptLanguage(hints.acceptLanguage),
  ];
  for (const tag of wanted) {
    const lang = match(tag, offered);
    if (lang) return lang;
  }
  return fallback;
}
