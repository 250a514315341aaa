// Branding's pictures and colours: only pictures whose first bytes match their type are served, a bad file
// names its key, and the accent colour never makes a button or link unreadable (WCAG AA contrast).
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readServedImage } from '../../src/http/brand-assets.js';
import { brandCss, contrast, createPageKit, pageKitDirs } from '../../src/http/page-kit.js';
import { ConfigError } from '../../src/errors.js';

const dir = mkdtempSync(join(tmpdir(), 'gatehouse-branding-'));
const file = (name: string, body: string | Buffer) => {
  writeFileSync(join(dir, name), body);
  return join(dir, name);
};
const PNG = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.alloc(32)]);
const ROOT = join(import.meta.dirname, '../..');

describe('served pictures', () => {
  it('a PNG or an SVG is served with its type and a content version', () => {
    const png = readServedImage(file('logo.png', PNG), 'branding.logoFile');
    expect(png.type).toBe('image/png');
    expect(png.version).toMatch(/^[\w-]{12}$/);
    expect(readServedImage(file('logo.svg', '<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg"/>'), 'branding.logoFile').type).toBe('image/svg+xml');
  });

  it('anything else is a configuration error naming the key', () => {
    const cases: [string, string | Buffer, RegExp][] = [
      ['logo.html', '<svg/>', /^branding\.logoFile: .*logo\.html: not a picture Gatehouse serves \(use \.png, /],
      ['fake.png', '<svg/>', /^branding\.logoFile: .*fake\.png does not look like a PNG file$/],
      ['page.svg', '<html><svg/></html>', /does not look like a SVG file$/],
      ['big.png', Buffer.concat([PNG, Buffer.alloc(1024 * 1024)]), /is larger than 1 MB$/],
    ];
    for (const [name, body, message] of cases) {
      const f = file(name, body);
      expect(() => readServedImage(f, 'branding.logoFile')).toThrow(ConfigError);
      expect(() => readServedImage(f, 'branding.logoFile')).toThrow(message);
    }
    expect(() => readServedImage(join(dir, 'none.png'), 'branding.illustrationFile')).toThrow(/^branding\.illustrationFile: cannot read .*none\.png \(ENOENT\)$/);
  });
});

describe('the accent colour', () => {
  it('goes into the stylesheet with readable text on it and links in it only when readable on white', () => {
    expect(brandCss('#6b2c91', undefined)).toContain('--accent: #6b2c91; --on-accent: #ffffff; --link: #6b2c91;');
    // Yellow: black text on the button, links keep the default blue.
    expect(brandCss('#ffd400', undefined)).toContain('--accent: #ffd400; --on-accent: #111111; --link: #0b5cad;');
    expect(contrast('#000000', '#ffffff')).toBeCloseTo(21);
  });

  it('the page kit: neutral without branding; a language not shipped names its key', () => {
    const kit = createPageKit({ branding: { accentColor: '#0b5cad' }, languages: { default: 'en', offered: [] } }, pageKitDirs(ROOT));
    expect(kit.brand.logoUrl).toBeUndefined();
    expect(kit.languages[0]).toBe('en');
    expect(kit.cssUrl).toMatch(/^\/adfs\/portal\/gatehouse\.css\?v=[\w-]{12}$/);
    expect(() => createPageKit({ branding: { accentColor: '#0b5cad' }, languages: { default: 'ja', offered: [] } }, pageKitDirs(ROOT))).toThrow(
      /^languages\.default: ja: no such language \(shipped: ar, de, en, es, fr, nl, pt\)$/,
    );
    const de = createPageKit({ branding: { accentColor: '#0b5cad' }, languages: { default: 'de', offered: ['fr', 'de'] } }, pageKitDirs(ROOT));
    expect(de.languages).toEqual(['de', 'fr']);
  });
});
