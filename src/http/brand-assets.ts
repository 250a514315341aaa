import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { extname } from 'node:path';
import { ConfigError } from '../errors.js';

/** A picture Gatehouse serves itself (logo, illustration): read once at start, never from a user's address. */
export interface ServedImage {
  body: Buffer;
  /** A content type from the short list below, checked against the file's first bytes. */
  type: string;
  /** Short content hash: the URL's version (?v=), so a new logo is fetched at once despite long caching. */
  version: string;
}

const MAX_BYTES = 1024 * 1024;

/** Extension -> content type, and how the file must start (an SVG is XML text; the rest have magic numbers). */
const IMAGE_TYPES: Record<string, { type: string; looksRight: (b: Buffer) => boolean }> = {
  '.png': { type: 'image/png', looksRight: (b) => b.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) },
  '.jpg': { type: 'image/jpeg', looksRight: (b) => b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff },
  '.jpeg': { type: 'image/jpeg', looksRight: (b) => b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff },
  '.gif': { type: 'image/gif', looksRight: (b) => /^GIF8[79]a/.test(b.subarray(0, 6).toString('latin1')) },
  '.webp': { type: 'image/webp', looksRight: (b) => b.subarray(0, 4).toString('latin1') === 'RIFF' && b.subarray(8, 12).toString('latin1') === 'WEBP' },
  '.svg': { type: 'image/svg+xml', looksRight: (b) => /^\s*(<\?xml[^>]*>\s*)?(<!--[\s\S]*?-->\s*)*<svg[\s>]/.test(b.subarray(0, 4096).toString('utf8').replace(/^\uFEFF/, '')) },
};

/** @throws ConfigError naming `key` when the file cannot be read, is too big, or is not the picture its name says. */
export function readServedImage(file: string, key: string): ServedImage {
  const ext = extname(file).toLowerCase();
  const kind = IMAGE_TYPES[ext];
  if (!kind) throw new ConfigError(`${key}: ${file}: not a picture Gatehouse serves (use ${Object.keys(IMAGE_TYPES).join(', ')})`);
  let body: Buffer;
  try {
    if (statSync(file).size > MAX_BYTES) throw new ConfigError(`${key}: ${file} is larger than 1 MB`);
    body = readFileSync(file);
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    throw new ConfigError(`${key}: cannot read ${file} (${(err as NodeJS.ErrnoException).code})`);
  }
  if (!kind.looksRight(body)) throw new ConfigError(`${key}: ${file} does not look like a ${ext.slice(1).toUpperCase()} file`);
  return { body, type: kind.type, version: createHash('sha256').update(body).digest('base64url').slice(0, 12) };
}

/**
 * Headers for a served picture: cached for a day (the URL carries the version), never sniffed as another
 * type, and an SVG opened on its own gets a CSP that runs nothing in it.
 */
export function imageHeaders(img: ServedImage): Record<string, string> {
  return {
    'content-type': img.type,
    'cache-control': 'public, max-age=86400',
    'x-content-type-options': 'nosniff',
    'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; sandbox",
  };
}
