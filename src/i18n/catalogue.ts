import { readdirSync, readFileSync } from 'node:fs';
import { basename, extname, join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { ConfigError } from '../errors.js';

/** One language's texts: a flat map from key (`login.heading`) to text with `{name}` placeholders. */
export type Catalogue = Readonly<Record<string, string>>;

/** The language every other catalogue is checked against, and the last fallback for a missing text. */
export const SOURCE_LANGUAGE = 'en';

/** Languages written right to left (by primary subtag); their pages get dir="rtl". */
const RTL = new Set(['ar', 'he', 'fa', 'ur']);

export const directionOf = (lang: string): 'ltr' | 'rtl' => (RTL.has(lang.split('-')[0]!.toLowerCase()) ? 'rtl' : 'ltr');

/** The placeholder names of a text, sorted: "Hello {name}, {app}" -> ["app", "name"]. */
export function placeholdersOf(text: string): string[] {
  return [...new Set([...text.matchAll(/\{([A-Za-z][A-Za-z0-9]*)\}/g)].map((m) => m[1]!))].sort();
}

/** Fills `{name}` placeholders; an unknown placeholder stays as written (a catalogue test keeps that from happening). */
export function fill(text: string, params: Record<string, string> = {}): string {
  return text.replace(/\{([A-Za-z][A-Za-z0-9]*)\}/g, (whole, name: string) => params[name] ?? whole);
}

/** Reads every `<lang>.json` in a folder (the shipped catalogues under locales/). */
export function readCatalogues(dir: string): Map<string, Catalogue> {
  const out = new Map<string, Catalogue>();
  for (const file of readdirSync(dir).filter((f) => extname(f) === '.json').sort()) {
    const lang = basename(file, '.json');
    const data: unknown = JSON.parse(readFileSync(join(dir, file), 'utf8'));
    if (!isTextMap(data)) throw new Error(`${file}: a catalogue is one JSON object of strings`);
    out.set(lang, data);
  }
  if (!out.has(SOURCE_LANGUAGE)) throw new Error(`${dir}: no ${SOURCE_LANGUAGE}.json`);
  return out;
}

function isTextMap(v: unknown): v is Record<string, string> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && Object.values(v).every((s) => typeof s === 'string');
}

/**
 * What is wrong with a catalogue measured against the source one: missing and unknown keys, and texts
 * whose placeholders differ (a translation that drops `{app}` would show the page without the name).
 */
export function catalogueProblems(source: Catalogue, other: Catalogue): string[] {
  const problems: string[] = [];
  for (const key of Object.keys(source)) if (!(key in other)) problems.push(`${key}: missing`);
  for (const [key, text] of Object.entries(other)) {
    if (!(key in source)) problems.push(`${key}: no such text`);
    else if (placeholdersOf(text).join() !== placeholdersOf(source[key]!).join()) {
      problems.push(`${key}: placeholders ${fmt(placeholdersOf(text))}, expected ${fmt(placeholdersOf(source[key]!))}`);
    }
  }
  return problems;
}

const fmt = (names: string[]) => (names.length ? names.map((n) => `{${n}}`).join(' ') : 'none');

/**
 * An organisation's own texts (`languages.overridesFile`, YAML or JSON): per language, any key of the
 * shipped catalogues with the same placeholders, e.g. `de: { login.heading: Bei Contoso anmelden }`.
 * @throws ConfigError naming the language and key that are wrong.
 */
export function readOverrides(file: string, shipped: ReadonlyMap<string, Catalogue>): Map<string, Catalogue> {
  const where = 'languages.overridesFile';
  let data: unknown;
  try {
    data = parseYaml(readFileSync(file, 'utf8'));
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new ConfigError(`${where}: cannot read ${file} (${e.code ?? e.message})`);
  }
  if (data === null || data === undefined) return new Map();
  if (typeof data !== 'object' || Array.isArray(data)) throw new ConfigError(`${where}: ${file} must map languages (en, de, ...) to texts`);
  const source = shipped.get(SOURCE_LANGUAGE)!;
  const out = new Map<string, Catalogue>();
  for (const [lang, texts] of Object.entries(data)) {
    if (!shipped.has(lang)) throw new ConfigError(`${where}: ${lang}: no such language (shipped: ${[...shipped.keys()].join(', ')})`);
    if (!isTextMap(texts)) throw new ConfigError(`${where}: ${lang}: must map text keys (login.heading, ...) to strings`);
    const wrong = catalogueProblems(source, texts).filter((p) => !p.endsWith(': missing'));
    if (wrong.length) throw new ConfigError(`${where}: ${lang}.${wrong[0]}`);
    out.set(lang, texts);
  }
  return out;
}

/** The shipped catalogues with an organisation's texts laid over them, every language completed from English. */
export function mergeCatalogues(shipped: ReadonlyMap<string, Catalogue>, overrides: ReadonlyMap<string, Catalogue> = new Map()): Map<string, Catalogue> {
  const source = { ...shipped.get(SOURCE_LANGUAGE)!, ...overrides.get(SOURCE_LANGUAGE) };
  const out = new Map<string, Catalogue>();
  for (const [lang, texts] of shipped) out.set(lang, Object.freeze({ ...source, ...texts, ...overrides.get(lang) }));
  return out;
}
