/**
 * Which language a page speaks. A protocol hint wins over the browser's Accept-Language, because the
 * application knows which language its user chose: OpenID Connect's `ui_locales` (space-separated
 * BCP 47 tags), `mkt` (a culture name such as de-DE) and `lc` or `lcid` (a Windows LCID such as 1031),
 * the parameters Microsoft sign-in URLs carry (Entra ID adds `mkt` and `lc` beside `wctx` when it sends
 * a user to a federated IdP; older redirects carried `lc` inside `wctx`). Anything not offered falls
 * through to the default.
 */

/** Windows locale IDs of the languages Gatehouse ships (and their regional variants). */
const LCIDS: Record<number, string> = {
  1033: 'en', 2057: 'en', 3081: 'en', 4105: 'en', 5129: 'en', 6153: 'en', 7177: 'en', 16393: 'en',
  1031: 'de', 2055: 'de', 3079: 'de', 4103: 'de', 5127: 'de',
  1036: 'fr', 2060: 'fr', 3084: 'fr', 4108: 'fr', 5132: 'fr', 6156: 'fr',
  1034: 'es', 3082: 'es', 2058: 'es', 8202: 'es', 9226: 'es', 10250: 'es', 11274: 'es', 13322: 'es', 58378: 'es',
  1043: 'nl', 2067: 'nl',
  1046: 'pt', 2070: 'pt',
  1025: 'ar', 2049: 'ar', 3073: 'ar', 4097: 'ar', 5121: 'ar', 6145: 'ar', 7169: 'ar', 8193: 'ar', 9217: 'ar',
  10241: 'ar', 11265: 'ar', 12289: 'ar', 13313: 'ar', 14337: 'ar', 15361: 'ar', 16385: 'ar',
  1037: 'he',
};

export interface LanguageHints {
  /** `ui_locales`, `mkt` and `lc` (or `lcid`) from the query string, as sent. */
  uiLocales?: string | undefined;
  mkt?: string | undefined;
  lc?: string | undefined;
  acceptLanguage?: string | undefined;
}

/** The query parameters that hint at a language; the sign-in pages carry them along (hintQuery). */
export const HINT_PARAMS = ['ui_locales', 'mkt', 'lc', 'lcid'] as const;
/** What a hint may look like: language tags, spaces, digits; anything else (or longer) is ignored. */
const HINT_VALUE = /^[A-Za-z0-9_ -]{1,100}$/;

/**
 * The hints of a request's query. Without any, the ones inside `wctx`, which some Microsoft redirects
 * fill with their own query (`…&lc=1033&…`); the context itself stays opaque and is echoed unchanged.
 */
export function hintsFromQuery(query: URLSearchParams | undefined): Omit<LanguageHints, 'acceptLanguage'> {
  const read = (q: URLSearchParams) => {
    const get = (name: string) => {
      const v = q.get(name)?.trim();
      return v && HINT_VALUE.test(v) ? v : undefined;
    };
    return { uiLocales: get('ui_locales'), mkt: get('mkt'), lc: get('lc') ?? get('lcid') };
  };
  if (!query) return {};
  const hints = read(query);
  if (hints.uiLocales || hints.mkt || hints.lc) return hints;
  const wctx = query.get('wctx');
  return wctx && wctx.length <= 8192 && wctx.includes('=') ? read(new URLSearchParams(wctx)) : hints;
}

/**
 * A query string (without `?`) that carries a request's language hints to the next page, for a redirect
 * that would otherwise lose them (the SAML 2.0 sign-in page); empty when there are none.
 */
export function hintQuery(query: URLSearchParams | undefined): string {
  const h = hintsFromQuery(query);
  const out = new URLSearchParams();
  if (h.uiLocales) out.set('ui_locales', h.uiLocales);
  if (h.mkt) out.set('mkt', h.mkt);
  if (h.lc) out.set('lc', h.lc);
  return out.toString();
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

/**
 * The locale to format dates and numbers with on a page in `lang`: the first regional tag of the same
 * language the request names (mkt=de-CH, ui_locales, Accept-Language: en-GB), so a British admin reads
 * 30/11/2026 on the English page; else the language itself.
 */
export function formatLocale(lang: string, hints: LanguageHints): string {
  const primary = lang.split('-')[0]!.toLowerCase();
  const tags = [...(hints.uiLocales ?? '').split(/\s+/).filter(Boolean).slice(0, 10), ...(hints.mkt ? [hints.mkt] : []), ...parseAcceptLanguage(hints.acceptLanguage)];
  for (const tag of tags) {
    if (tag.split('-')[0]!.toLowerCase() !== primary || !tag.includes('-')) continue;
    try {
      if (Intl.DateTimeFormat.supportedLocalesOf([tag]).length) return tag;
    } catch {
      // not a well-formed tag: next
    }
  }
  return lang;
}
