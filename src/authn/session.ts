import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';

/**
 * The single sign-on session, kept in an encrypted and authenticated cookie (AES-256-GCM), so a farm of
 * servers shares it without a store. It records who signed in, when, and where tokens went (for sign-out).
 */
export interface Session {
  /** Session id, for logs and for single logout. */
  sid: string;
  dn: string;
  /** The account's objectGUID (hex), for revoking every session of an account (absent in older cookies). */
  account?: string;
  upn: string | undefined;
  /** When the password was checked (ms since epoch). */
  authInstant: number;
  /** Hard end of the session (ms since epoch). */
  expires: number;
  /** Relying parties that received a token in this session. */
  realms: string[];
  /** "Keep me signed in": a persistent cookie with the longer lifetime. */
  persistent?: boolean;
}

const VERSION = 1;

function cookieKey(secret: Buffer): Buffer {
  // A key of its own for cookies, so the same secret can later serve other purposes safely.
  return Buffer.from(hkdfSync('sha256', secret, Buffer.alloc(0), 'gatehouse session cookie v1', 32));
}

/**
 * Seals with the first secret; opens with any of them, so a rotated key does not sign everyone out
 * while the previous one is still listed.
 */
export class SessionCodec {
  private readonly keys: Buffer[];

  constructor(secrets: Buffer[]) {
    if (!secrets.length) throw new Error('no session secret');
    this.keys = secrets.map(cookieKey);
  }

  seal(session: Session): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.keys[0]!, iv);
    const body = Buffer.concat([cipher.update(JSON.stringify(session), 'utf8'), cipher.final()]);
    return Buffer.concat([Buffer.from([VERSION]), iv, cipher.getAuthTag(), body]).toString('base64url');
  }

  /** The session, or undefined when the cookie is missing, forged, from another key, or expired. */
  open(cookie: string | undefined, now = Date.now()): Session | undefined {
    if (!cookie || cookie.length > 8192) return undefined;
    const raw = Buffer.from(cookie, 'base64url');
    if (raw.length < 1 + 12 + 16 + 2 || raw[0] !== VERSION) return undefined;
    for (const key of this.keys) {
      try {
        const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(1, 13));
        decipher.setAuthTag(raw.subarray(13, 29));
        const json = Buffer.concat([decipher.update(raw.subarray(29)), decipher.final()]).toString('utf8');
        const s = JSON.parse(json) as Session;
        if (typeof s.expires !== 'number' || s.expires <= now || typeof s.dn !== 'string') return undefined;
        return s;
      } catch {
        // not this key
      }
    }
    return undefined;
  }
}

export function newSessionId(): string {
  return randomBytes(16).toString('base64url');
}
