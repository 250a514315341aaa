import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';

export interface SealedBoxOptions {
  /** HKDF info: a key of its own for each purpose, so one secret can serve several safely. */
  info: string;
  /** A format byte in front of the envelope, checked on opening (the session cookie has one). */
  version?: number;
  /** Longer tokens are refused unopened. */
  maxLength: number;
}

const IV_BYTES = 12;
const TAG_BYTES = 16;

/**
 * The session secrets, first one sealing: one object every sealed box reads, so a rotated secret (SIGHUP,
 * or a farm's shared record) takes effect in all of them at once without a restart.
 */
export class SecretRing {
  private current: Buffer[];
  private changes = 0;

  constructor(secrets: Buffer[]) {
    if (!secrets.length) throw new Error('no session secret');
    this.current = secrets;
  }

  get secrets(): readonly Buffer[] {
    return this.current;
  }

  /** Counts replacements, so the boxes know when to derive their keys again. */
  get version(): number {
    return this.changes;
  }

  /** True when the secrets differ from the ones in use (and were put in use). */
  replace(secrets: Buffer[]): boolean {
    if (!secrets.length) throw new Error('no session secret');
    if (secrets.length === this.current.length && secrets.every((s, i) => s.equals(this.current[i]!))) return false;
    this.current = secrets;
    this.changes++;
    return true;
  }
}

/** Secrets as the boxes take them: fixed, or a ring that can be rotated while the server runs. */
export type Secrets = Buffer[] | SecretRing;

/**
 * The one sealed envelope: a JSON value encrypted and authenticated with AES-256-GCM, as base64url of
 * [version byte] + IV + tag + ciphertext. Keys come from the secrets by HKDF-SHA256 (no salt, `info`).
 * The first secret seals; every one of them opens, so a rotated secret does not void what is in flight.
 * The session cookie and the SAML endpoints' sealed state are both made with it.
 */
export class SealedBox {
  private readonly ring: SecretRing;
  private derived: { version: number; keys: Buffer[] } | undefined;
  private readonly header: Buffer;

  constructor(
    secrets: Secrets,
    private readonly opts: SealedBoxOptions,
  ) {
    this.ring = secrets instanceof SecretRing ? secrets : new SecretRing(secrets);
    this.header = opts.version === undefined ? Buffer.alloc(0) : Buffer.from([opts.version]);
  }

  private get keys(): Buffer[] {
    if (this.derived?.version !== this.ring.version) {
      const keys = this.ring.secrets.map((s) => Buffer.from(hkdfSync('sha256', s, Buffer.alloc(0), this.opts.info, 32)));
      this.derived = { version: this.ring.version, keys };
    }
    return this.derived.keys;
  }

  seal(value: unknown): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.keys[0]!, iv);
    const body = Buffer.concat([cipher.update(JSON.stringify(value), 'utf8'), cipher.final()]);
    return Buffer.concat([this.header, iv, cipher.getAuthTag(), body]).toString('base64url');
  }

  /** The value, or undefined when the token is missing, too long, forged or sealed with an unknown key. */
  open<T>(token: string | undefined): T | undefined {
    if (!token || token.length > this.opts.maxLength) return undefined;
    const raw = Buffer.from(token, 'base64url');
    const h = this.header.length;
    if (raw.length < h + IV_BYTES + TAG_BYTES + 2 || !raw.subarray(0, h).equals(this.header)) return undefined;
    const iv = raw.subarray(h, h + IV_BYTES);
    const tag = raw.subarray(h + IV_BYTES, h + IV_BYTES + TAG_BYTES);
    const body = raw.subarray(h + IV_BYTES + TAG_BYTES);
    for (const key of this.keys) {
      try {
        const decipher = createDecipheriv('aes-256-gcm', key, iv);
        decipher.setAuthTag(tag);
        return JSON.parse(Buffer.concat([decipher.update(body), decipher.final()]).toString('utf8')) as T;
      } catch {
        // not this key
      }
    }
    return undefined;
  }
}

/**
 * Small sealed envelopes that expire, for state the SAML endpoints hand to the browser and get back: a
 * validated AuthnRequest waiting for the password, and the progress of a single-logout chain. Keys come
 * from the session secrets with a purpose of their own, so a farm of servers needs no shared store.
 */
export class Sealer {
  private readonly box: SealedBox;

  constructor(secrets: Secrets, purpose: string) {
    this.box = new SealedBox(secrets, { info: `gatehouse ${purpose} v1`, maxLength: 16_384 });
  }

  seal(value: object, ttlSeconds: number, now = Date.now()): string {
    return this.box.seal({ v: value, exp: now + ttlSeconds * 1000 });
  }

  /** The value, or undefined when missing, forged, sealed with an unknown key, or expired. */
  open<T>(token: string | undefined, now = Date.now()): T | undefined {
    const out = this.box.open<{ v: T; exp: number }>(token);
    return out && out.exp > now ? out.v : undefined;
  }
}
