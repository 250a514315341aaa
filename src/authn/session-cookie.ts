import type { Secrets } from '../crypto/sealed.js';
import type {} from '@fastify/cookie';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Config } from '../config/load.js';
import { SessionCodec, newSessionId, type Session } from './session.js';
import type { DirectoryUser } from '../directory/directory.js';
import { revokeAccountSessions, type SessionRevocations } from './session-revocations.js';

/**
 * Reads and writes the session cookie with the attributes the deployment needs, and keeps the
 * server-side list of revoked sessions that every read consults.
 */
export class SessionStore {
  private readonly codec: SessionCodec;
  private readonly secure: boolean;

  constructor(
    secrets: Secrets,
    private readonly cfg: Config['session'],
    publicUrl: string,
    private readonly revocations: SessionRevocations,
  ) {
    this.codec = new SessionCodec(secrets);
    this.secure = publicUrl.startsWith('https:');
  }

  /**
   * Over https the cookie is SameSite=None (with Secure) so that SAML's cross-site POST binding still
   * finds the session; the forms are protected by CSRF tokens instead. Browsers refuse None without
   * Secure, so plain-http trials fall back to Lax (enough for WS-Federation's GET redirects).
   */
  private get sameSite(): 'none' | 'lax' {
    return this.secure ? 'none' : 'lax';
  }

  /** The session of the request, unless it is missing, forged, expired or revoked. */
  async read(request: FastifyRequest): Promise<Session | undefined> {
    const session = this.codec.open(request.cookies[this.cfg.cookieName]);
    if (!session) return undefined;
    if (await this.revocations.isRevoked(session)) {
      request.log.info({ event: 'session_revoked_used', sid: session.sid }, 'a revoked session cookie was presented');
      return undefined;
    }
    return session;
  }

  /** Sign-out: the cookie is cleared, and a copy of it kept elsewhere no longer works either. */
  async revoke(session: Session): Promise<void> {
    await this.revocations.revokeSession(session.sid, session.expires);
  }

  /** Voids every session of an account that started before now (admin command, password change, disabled account). */
  async revokeAccount(account: string, now = Date.now()): Promise<void> {
    await revokeAccountSessions(this.revocations, account, this.cfg, now);
  }

  start(user: DirectoryUser, keepMeSignedIn = false, now = Date.now()): Session {
    const persistent = keepMeSignedIn && this.cfg.keepMeSignedIn;
    const minutes = persistent ? this.cfg.keepMeSignedInMinutes : this.cfg.lifetimeMinutes;
    return {
      sid: newSessionId(),
      dn: user.dn,
      account: user.objectGUID.toString('hex'),
      upn: user.userPrincipalName,
      authInstant: now,
      expires: now + minutes * 60_000,
      realms: [],
      ...(persistent ? { persistent: true } : {}),
    };
  }

  write(reply: FastifyReply, session: Session): void {
    reply.setCookie(this.cfg.cookieName, this.codec.seal(session), {
      path: '/',
      httpOnly: true,
      secure: this.secure,
      sameSite: this.sameSite,
      // Without "keep me signed in" the cookie ends with the browser; the session's own expiry still applies.
      ...(session.persistent ? { expires: new Date(session.expires) } : {}),
    });
  }

  clear(reply: FastifyReply): void {
    reply.clearCookie(this.cfg.cookieName, { path: '/', httpOnly: true, secure: this.secure, sameSite: this.sameSite });
  }
}
