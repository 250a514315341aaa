import { randomBytes } from 'node:crypto';
import { SealedBox, type Secrets } from '../crypto/sealed.js';

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
  /** The second factor of this session: when, and which (totp, recovery); absent after the password alone. */
  mfa?: { at: number; methods: string[] };
  /** Signed in with Windows (a Kerberos ticket), not a password: the tokens of the session say so. */
  windows?: true;
}

/**
 * The cookie's envelope (crypto/sealed.ts): format byte 1, a key of its own for cookies (HKDF "gatehouse
 * session cookie v1"). Seals with the first secret; opens with any of them, so a rotated key does not sign
 * everyone out while the previous one is still listed.
 */
export class SessionCodec {
  private readonly box: SealedBox;

  constructor(secrets: Secrets) {
    this.box = new SealedBox(secrets, { info: 'gatehouse session cookie v1', version: 1, maxLength: 8192 });
  }

  seal(session: Session): string {
    return this.box.seal(session);
  }

  /** The session, or undefined when the cookie is missing, forged, from another key, or expired. */
  open(cookie: string | undefined, now = Date.now()): Session | undefined {
    const s = this.box.open<Session>(cookie);
    if (!s || typeof s.expires !== 'number' || s.expires <= now || typeof s.dn !== 'string') return undefined;
    return s;
  }
}

export function newSessionId(): string {
  return randomBytes(16).toString('base64url');
}
