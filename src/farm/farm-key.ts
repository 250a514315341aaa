import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { ConfigError } from '../errors.js';
import { writeSecretFile } from '../keys/generate.js';

/** A secret sealed with the farm key: AES-256-GCM, base64 fields. `aad` binds it to what it belongs to. */
export interface Sealed {
  iv: string;
  tag: string;
  data: string;
}

/** The farm key: 32 random bytes in base64 on one line, the same file on every server. */
export function loadFarmKey(file: string): Buffer {
  let text: string;
  try {
    text = readFileSync(file, 'utf8').trim();
  } catch (err) {
    throw new ConfigError(
      `state.farmKeyFile: cannot read ${file} (${(err as NodeJS.ErrnoException).code}); farm mode needs the same farm key on every server: make it once with "gatehouse farm init-key", copy it to the others`,
    );
  }
  const key = Buffer.from(text, 'base64');
  if (key.length !== 32) throw new ConfigError(`state.farmKeyFile: ${file} must hold 32 bytes in base64`);
  return key;
}

/** Writes a new farm key (refuses to replace one unless `force`). */
export function createFarmKey(file: string, force = false): void {
  writeSecretFile(file, randomBytes(32).toString('base64') + '\n', force);
}

export function seal(key: Buffer, plaintext: string, aad: string): Sealed {
  const iv = randomBytes(12);
  const c = createCipheriv('aes-256-gcm', key, iv);
  c.setAAD(Buffer.from(aad, 'utf8'));
  const data = Buffer.concat([c.update(plaintext, 'utf8'), c.final()]);
  return { iv: iv.toString('base64'), tag: c.getAuthTag().toString('base64'), data: data.toString('base64') };
}

/** @throws Error when the farm key is not the one that sealed it, or the data or `aad` was changed. */
export function unseal(key: Buffer, s: Sealed, aad: string): string {
  const d = createDecipheriv('aes-256-gcm', key, Buffer.from(s.iv, 'base64'));
  d.setAAD(Buffer.from(aad, 'utf8'));
  d.setAuthTag(Buffer.from(s.tag, 'base64'));
  try {
    return Buffer.concat([d.update(Buffer.from(s.data, 'base64')), d.final()]).toString('utf8');
  } catch {
    throw new Error('a key shared through Redis cannot be opened with this server\'s farm key (state.farmKeyFile differs between servers?)');
  }
}
