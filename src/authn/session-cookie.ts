import type {} from '@fastify/cookie';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Config } from '../config/load.js';
import { SessionCodec, newSessionId, type Session } from './session.js';
import type { DirectoryUser } from '../directory/directory.js';

/** Reads and writes the session cookie with the attributes the deployment needs. */
export class SessionStore {
  private readonly codec: SessionCodec;
  private readonly secure: boolean;

  constructor(
    secret: Buffer,
    private readonly cfg: Config['session'],
    publicUrl: string,
  ) {
    this.codec = new SessionCodec(secret);
    this.secure = publicUrl.startsWith('https:');
  }

  read(request: FastifyRequest): Session | undefined {
    return this.codec.open(request.cookies[this.cfg.cookieName]);
  }

  start(user: DirectoryUser, now = Date.now()): Session {
    return {
      sid: newSessionId(),
      dn: user.dn,
      upn: user.userPrincipalName,
      authInstant: now,
      expires: now + this.cfg.lifetimeMinutes * 60_000,
      realms: [],
    };
  }

  write(reply: FastifyReply, session: Session): void {
    reply.setCookie(this.cfg.cookieName, this.codec.seal(session), {
      path: '/',
      httpOnly: true,
      secure: this.secure,
      // Lax: sent on the top-level GET redirect from Microsoft, never on cross-site sub-requests.
      sameSite: 'lax',
      expires: new Date(session.expires),
    });
  }

  clear(reply: FastifyReply): void {
    reply.clearCookie(this.cfg.cookieName, { path: '/', httpOnly: true, secure: this.secure, sameSite: 'lax' });
  }
}
