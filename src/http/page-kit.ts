import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Config } from '../config/load.js';
import { ConfigError } from '../errors.js';
import { mergeCatalogues, readCatalogues, readOverrides, type Catalogue } from '../i18n/catalogue.js';
import { readServedImage, type ServedImage } from './brand-assets.js';

/** Where the served pictures and the stylesheet live (one address each, versioned by content). */
export const PORTAL_PATHS = {
  css: '/adfs/portal/gatehouse.css',
  logo: '/adfs/portal/logo',
  illustration: '/adfs/portal/illustration',
} as const;

/** What the layout shows of the branding: config texts and links as written, pictures by their served URL. */
export interface LayoutBrand {
  organisationName: string | undefined;
  helpDesk: string | undefined;
  helpUrl: string | undefined;
  privacyUrl: string | undefined;
  forgotPasswordUrl: string | undefined;
  logoUrl: string | undefined;
  illustrated: boolean;
}

/** Everything every page needs besides its own data, built once at start from the configuration. */
export interface PageKit {
  /** Offered languages, the default first. */
  languages: string[];
  defaultLanguage: string;
  catalogues: Map<string, Catalogue>;
  brand: LayoutBrand;
  logo: ServedImage | undefined;
  illustration: ServedImage | undefined;
  /** gatehouse.css with the branding's colours and illustration appended, and its URL with ?v=. */
  css: Buffer;
  cssUrl: string;
}

/**
 * @param dirs where the shipped catalogues (locales/) and the base stylesheet are.
 * @throws ConfigError for a language not shipped, a bad override file or an unusable picture.
 */
export function createPageKit(config: Pick<Config, 'branding' | 'languages'>, dirs: { locales: string; css: string }): PageKit {
  const shipped = readCatalogues(dirs.locales);
  const { branding: b, languages: l } = config;
  const unknown = [l.default, ...l.offered].find((lang) => !shipped.has(lang));
  if (unknown) {
    const key = unknown === l.default ? 'languages.default' : 'languages.offered';
    throw new ConfigError(`${key}: ${unknown}: no such language (shipped: ${[...shipped.keys()].join(', ')})`);
  }
  const offered = l.offered.length ? l.offered : [...shipped.keys()];
  const languages = [l.default, ...offered.filter((x) => x !== l.default)];
  const catalogues = mergeCatalogues(shipped, l.overridesFile ? readOverrides(l.overridesFile, shipped) : undefined);

  const logo = b.logoFile ? readServedImage(b.logoFile, 'branding.logoFile') : undefined;
  const illustration = b.illustrationFile ? readServedImage(b.illustrationFile, 'branding.illustrationFile') : undefined;
  const css = Buffer.concat([readFileSync(dirs.css), Buffer.from(brandCss(b.accentColor, illustration))]);
  const version = createHash('sha256').update(css).digest('base64url').slice(0, 12);
  return {
    languages,
    defaultLanguage: l.default,
    catalogues,
    brand: {
      organisationName: b.organisationName,
      helpDesk: b.helpDesk,
      helpUrl: b.helpUrl,
      privacyUrl: b.privacyUrl,
      forgotPasswordUrl: b.forgotPasswordUrl,
      logoUrl: logo ? `${PORTAL_PATHS.logo}?v=${logo.version}` : undefined,
      illustrated: illustration !== undefined,
    },
    logo,
    illustration,
    css,
    cssUrl: `${PORTAL_PATHS.css}?v=${version}`,
  };
}

/** Where the pages read their locales and stylesheet from, under the package's root (default: this package's). */
export const pageKitDirs = (root = fileURLToPath(new URL('../..', import.meta.url))) => ({
  locales: join(root, 'locales'),
  css: join(root, 'views', 'static', 'gatehouse.css'),
});

// Colours: the accent goes into the served stylesheet as custom properties (the CSP allows no inline style).
// Text on it and links in it must stay readable (WCAG AA, 4.5:1), so each gets the accent only when it is.
const DEFAULT_LINK = '#0b5cad';

function luminance(hex: string): number {
  const [r, g, b] = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16) / 255).map((c) => (c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4));
  return 0.2126 * r! + 0.7152 * g! + 0.0722 * b!;
}

export function contrast(a: string, b: string): number {
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x);
  return (hi! + 0.05) / (lo! + 0.05);
}

export function brandCss(accent: string, illustration: ServedImage | undefined): string {
  const onAccent = contrast(accent, '#ffffff') >= 4.5 ? '#ffffff' : '#111111';
  const link = contrast(accent, '#ffffff') >= 4.5 ? accent : DEFAULT_LINK;
  let css = `\n/* branding (generated from the configuration) */\n:root { --accent: ${accent}; --on-accent: ${onAccent}; --link: ${link}; }\n`;
  if (illustration) {
    css += `body.illustrated { background-image: url("${PORTAL_PATHS.illustration}?v=${illustration.version}"); background-size: cover; background-position: center; background-attachment: fixed; }\n`;
  }
  return css;
}
