import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';

/**
 * Small encrypted and authenticated envelopes (AES-256-GCM) for state the SAML endpoints hand to the
 * browser and get back: a validated AuthnRequest waiting for the password, and the progress of a
 * single-logout chain. Keys come from the session secrets (HKDF, a purpose of their own), so a farm of
 * servers needs no shared store, and the first secret seals while all of them open (rotation).
 */
export class Sealer {
  private readonly keys: Buffer[];

  constructor(secrets: Buffer[], purpose: string) {
    if (!secrets.length) throw new Error('no session secret');
    this.keys = secrets.map((s) => Buffer.from(hkdfSync('sha256', s, Buffer.alloc(0), `gatehouse ${purpose} v1`, 32)));
  }

  seal(value: object, ttlSeconds: number, now = Date.now()): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.keys[0]!, iv);
    const body = Buffer.concat([cipher.update(JSON.stringify({ v: value, exp: now + ttlSeconds * 1000 }), 'utf8'), cipher.final()]);
    return Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64url');
  }

  /** The value, or undefined when missing, forged, sealed with an unknown key, or expired. */
  open<T>(token: string | undefined, now = Date.now()): T | undefined {
    if (!token || token.length > 16_384) return undefined;
    const raw = Buffer.from(token, 'base64url');
    if (raw.length < 12 + 16 + 2) return undefined;
    for (const key of this.keys) {
      try {
        const d = createDecipheriv('aes-256-gcm', key, raw.subarray(0, 12));
        d.setAuthTag(raw.subarray(12, 28));
        const out = JSON.parse(Buffer.concat([d.update(raw.subarray(28)), d.final()]).toString('utf8')) as { v: T; exp: number };
        return out.exp > now ? out.v : undefined;
      } catch {
        // not this key
      }
    }
    return undefined;
  }
}
