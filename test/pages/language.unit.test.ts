// Which language a page speaks: protocol hints (ui_locales, mkt, lc), then Accept-Language, then the default.
import { describe, expect, it } from 'vitest';
import { chooseLanguage, parseAcceptLanguage } from '../../src/i18n/negotiate.js';

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
