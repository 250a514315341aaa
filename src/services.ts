import type { Config } from './config/load.js';
import type { Directory } from './directory/directory.js';
import type { SigningKey } from './keys/keystore.js';
import type { RelyingPartyRegistry } from './relying-parties/registry.js';
import type { SessionStore } from './authn/session-cookie.js';

/** What the routes share, decorated on the app as `gatehouse`. */
export interface Services {
  config: Config;
  directory: Directory;
  signingKey: SigningKey;
  relyingParties: RelyingPartyRegistry;
  sessions: SessionStore;
}

declare module 'fastify' {
  interface FastifyInstance {
    gatehouse: Services;
  }
}
