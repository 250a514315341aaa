// The pages' message catalogues (locales/*.json): every language has every text with the same
// placeholders, the error texts are those of src/errors.ts in English, and the organisation's override file
// is checked the way the catalogues are.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ERRORS } from '../../src/errors.js';
import { catalogueProblems, directionOf, fill, mergeCatalogues, placeholdersOf, readCatalogues, readOverrides, SOURCE_LANGUAGE } from '../../src/i18n/catalogue.js';
import { ConfigError } from '../../src/errors.js';

const LOCALES = join(import.meta.dirname, '../../locales');
const shipped = readCatalogues(LOCALES);
const en = shipped.get(SOURCE_LANGUAGE)!;

describe('shipped catalogues', () => {
  it('are English, German, French, Spanish, Dutch, Portuguese and Arabic', () => {
    expect([...shipped.keys()].sort()).toEqual(['ar', 'de', 'en', 'es', 'fr', 'nl', 'pt']);
  });

  for (const [lang, catalogue] of shipped) {
    it(`${lang} has every key of en with the same placeholders, and no other`, () => {
      expect(catalogueProblems(en, catalogue)).toEqual([]);
      for (const [key, text] of Object.entries(catalogue)) expect(text.trim(), `${lang} ${key}`).not.toBe('');
    });
  }

  it('have a text for every error code, in English the one src/errors.ts gives (logs and SOAP faults keep it)', () => {
    for (const [code, [, message]] of Object.entries(ERRORS)) expect(en[`errors.${code}`]).toBe(message);
    const codes = Object.keys(en).filter((k) => k.startsWith('errors.')).map((k) => k.slice('errors.'.length));
    expect(codes.sort()).toEqual(Object.keys(ERRORS).sort());
  });

  it('right-to-left languages are told apart by their primary subtag', () => {
    expect(directionOf('ar')).toBe('rtl');
    expect(directionOf('he-IL')).toBe('rtl');
    expect(directionOf('de')).toBe('ltr');
  });
});

describe('placeholders', () => {
  it('are found and filled by name', () => {
    expect(placeholdersOf('to {app} via {x} and {app}')).toEqual(['app', 'x']);
    expect(fill('to continue to {app}', { app: 'Payroll' })).toBe('to continue to Payroll');
    expect(fill('{unknown} stays', {})).toBe('{unknown} stays');
  });

  it('a translation that drops or renames one is a problem, named by key', () => {
    expect(catalogueProblems({ a: 'to {app}', b: 'x' }, { a: 'zu {anwendung}', c: 'y' })).toEqual([
      'b: missing',
      'a: placeholders {anwendung}, expected {app}',
      'c: no such text',
    ]);
  });
});

describe('the override file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-overrides-'));
  const write = (name: string, text: string) => {
    const file = join(dir, name);
    writeFileSync(file, text);
    return file;
  };

  it('changes the texts it names, per language; the rest stay as shipped', () => {
    const file = write('ok.yaml', "de:\n  login.heading: Bei Contoso anmelden\nen:\n  login.continueTo: 'to go on to {app}'\n");
    const merged = mergeCatalogues(shipped, readOverrides(file, shipped));
    expect(merged.get('de')!['login.heading']).toBe('Bei Contoso anmelden');
    expect(merged.get('de')!['login.password']).toBe(shipped.get('de')!['login.password']);
    expect(merged.get('en')!['login.continueTo']).toBe('to go on to {app}');
    // An English override is English only: German keeps its own translation.
    expect(merged.get('de')!['login.continueTo']).toBe(shipped.get('de')!['login.continueTo']);
  });

  it('names the language and key that are wrong', () => {
    const cases: [string, RegExp][] = [
      ['xx:\n  login.heading: x\n', /^languages\.overridesFile: xx: no such language \(shipped: ar, de, en/],
      ['de:\n  login.headline: x\n', /^languages\.overridesFile: de\.login\.headline: no such text$/],
      ['fr:\n  login.continueTo: pour continuer\n', /^languages\.overridesFile: fr\.login\.continueTo: placeholders none, expected \{app\}$/],
      ['de: [1, 2]\n', /^languages\.overridesFile: de: must map text keys/],
    ];
    for (const [text, message] of cases) {
      const file = write('bad.yaml', text);
      expect(() => readOverrides(file, shipped)).toThrow(ConfigError);
      expect(() => readOverrides(file, shipped)).toThrow(message);
    }
    expect(() => readOverrides(join(dir, 'missing.yaml'), shipped)).toThrow(/^languages\.overridesFile: cannot read .*missing\.yaml \(ENOENT\)$/);
  });
});
