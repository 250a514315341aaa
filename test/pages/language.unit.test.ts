// Which language a page speaks: protocol hints (ui_locales, mkt, lc or lcid, also inside wctx), then Accept-Language, then the default.
import { describe, expect, it } from 'vitest';
import { chooseLanguage, formatLocale, hintQuery, hintsFromQuery, parseAcceptLanguage } from '../../src/i18n/negotiate.js';

const OFFERED = ['en', 'de', 'fr', 'es', 'nl', 'pt', 'ar'];

describe('Accept-Language', () => {
  it('is read best first, by q then by order; q=0, * and junk are dropped', () => {
    expect(parseAcceptLanguage('fr-CH, fr;q=0.9, en;q=0.8, de;q=0.95, *;q=0.5')).toEqual(['fr-CH', 'de', 'fr', 'en']);
    expect(parseAcceptLanguage('de;q=0, nl')).toEqual(['nl']);
    expect(parseAcceptLanguage('<script>, en')).toEqual(['en']);
    expect(parseAcceptLanguage(undefined)).toEqual([]);
  });

  it('picks the first offered language, a regional tag matching its language', () => {
    expect(chooseLanguage({ acceptLanguage: 'de-AT,de;q=0.9,en;q=0.5' }, OFFERED, 'en')).toBe('de');
    expect(chooseLanguage({ acceptLanguage: 'ja, pt-BR;q=0.8' }, OFFERED, 'en')).toBe('pt');
    expect(chooseLanguage({ acceptLanguage: 'ja, zh' }, OFFERED, 'en')).toBe('en');
    expect(chooseLanguage({}, OFFERED, 'fr')).toBe('fr');
  });
});

describe('protocol hints win over the browser', () => {
  it('ui_locales: space-separated, first offered one', () => {
    expect(chooseLanguage({ uiLocales: 'ja es-MX', acceptLanguage: 'de' }, OFFERED, 'en')).toBe('es');
  });

  it('mkt (culture name) and lc (Windows LCID)', () => {
    expect(chooseLanguage({ mkt: 'nl-NL', acceptLanguage: 'de' }, OFFERED, 'en')).toBe('nl');
    expect(chooseLanguage({ lc: '1031', acceptLanguage: 'fr' }, OFFERED, 'en')).toBe('de');
    expect(chooseLanguage({ lc: '1025' }, OFFERED, 'en')).toBe('ar');
    expect(chooseLanguage({ lc: 'x1031', acceptLanguage: 'fr' }, OFFERED, 'en')).toBe('fr');
  });

  it('a hint for a language not offered falls through to the browser', () => {
    expect(chooseLanguage({ uiLocales: 'ja', lc: '1041', acceptLanguage: 'nl' }, OFFERED, 'en')).toBe('nl');
    expect(chooseLanguage({ uiLocales: 'de' }, ['en', 'fr'], 'en')).toBe('en');
  });
});

describe('hints read from the request', () => {
  const q = (s: string) => new URLSearchParams(s);

  it('ui_locales, mkt, lc, and lcid as another name of lc; junk and over-long values are ignored', () => {
    expect(hintsFromQuery(q('ui_locales=fr%20de&mkt=de-DE&lc=1031'))).toEqual({ uiLocales: 'fr de', mkt: 'de-DE', lc: '1031' });
    expect(hintsFromQuery(q('lcid=1043')).lc).toBe('1043');
    expect(hintsFromQuery(q('lc=1031&lcid=1043')).lc).toBe('1031');
    expect(hintsFromQuery(q(`mkt=${'x'.repeat(101)}&ui_locales=%3Cscript%3E`))).toEqual({ uiLocales: undefined, mkt: undefined, lc: undefined });
    expect(hintsFromQuery(undefined)).toEqual({});
  });

  it('Entra\'s empty mkt= and lc= say nothing; hints inside wctx count only without top-level ones', () => {
    expect(hintsFromQuery(q('wa=wsignin1.0&wctx=LoginOptions%3D3%26lc%3D1036&mkt=&lc='))).toEqual({ uiLocales: undefined, mkt: undefined, lc: '1036' });
    expect(hintsFromQuery(q('wctx=lc%3D1036&mkt=es-ES')).mkt).toBe('es-ES');
    expect(hintsFromQuery(q('wctx=lc%3D1036&mkt=es-ES')).lc).toBeUndefined();
    expect(hintsFromQuery(q('wctx=opaque-state'))).toEqual({ uiLocales: undefined, mkt: undefined, lc: undefined });
  });

  it('hintQuery carries the hints on (lcid as lc), and nothing else', () => {
    expect(hintQuery(q('SAMLRequest=abc&RelayState=r&lcid=1031&mkt=de-AT'))).toBe('mkt=de-AT&lc=1031');
    expect(hintQuery(q('SAMLRequest=abc'))).toBe('');
  });

  it('LCIDs of regional variants (Egypt, Mexico, Switzerland) pick their language; unknown ones fall through', () => {
    expect(chooseLanguage({ lc: '3073' }, OFFERED, 'en')).toBe('ar');
    expect(chooseLanguage({ lc: '2058' }, OFFERED, 'en')).toBe('es');
    expect(chooseLanguage({ lc: '4108' }, OFFERED, 'en')).toBe('fr');
    expect(chooseLanguage({ lc: '9999', acceptLanguage: 'pt-BR' }, OFFERED, 'en')).toBe('pt');
    expect(chooseLanguage({ lc: '9999', mkt: 'xx-YY', uiLocales: 'zz' }, OFFERED, 'en')).toBe('en');
  });
});

describe('the locale dates are formatted in', () => {
  it('a regional tag of the page\'s language the request names, else the language', () => {
    expect(formatLocale('en', { acceptLanguage: 'en-GB,en;q=0.9' })).toBe('en-GB');
    expect(formatLocale('de', { mkt: 'de-CH', acceptLanguage: 'de-DE' })).toBe('de-CH');
    expect(formatLocale('de', { acceptLanguage: 'fr-FR, de' })).toBe('de');
    expect(formatLocale('en', {})).toBe('en');
  });
});
