import type { Config } from './config/load.js';
import type { Directory } from './directory/directory.js';
import type { SigningKey } from './keys/keystore.js';
import type { SigningKeyRing } from './keys/keyring.js';
import type { RelyingPartyRegistry } from './relying-parties/registry.js';
import type { SessionStore } from './authn/session-cookie.js';
import type { AccountCache } from './authn/account-cache.js';
import type { SmartLockout } from './lockout/lockout.js';
import type { PasswordVerifier } from './authn/password-check.js';
import type { StateStores } from './farm/stores.js';
import type { MfaService } from './mfa/service.js';
import type { ActivityRecorder } from './activity/recorder.js';

/** What the routes share, decorated on the app as `gatehouse`. */
export interface Services {
  config: Config;
  directory: Directory;
  /** The key that signs tokens now (signingKeys.current, read at each use: a rollover switches it). */
  readonly signingKey: SigningKey;
  /** Current and next token-signing keys (the metadata publishes both). */
  signingKeys: SigningKeyRing;
  relyingParties: RelyingPartyRegistry;
  sessions: SessionStore;
  /** Accounts behind single sign-on sessions, re-read from AD at most every session.accountRecheckSeconds. */
  accounts: AccountCache;
  lockout: SmartLockout;
  /** The password check every sign-in path uses (lockout, timing, audit). */
  passwords: PasswordVerifier;
  /** Lockout counters, revocations, replay caches, rate limits: SQLite, or Redis for a farm (src/state/). */
  state: StateStores;
  /** The second factor (mfa.enabled); absent when MFA is off. */
  mfa?: MfaService | undefined;
  /** Audit events kept for the activity view (src/activity/). */
  activity: ActivityRecorder;
  /** Set on SIGTERM: the plain probe answers 503 so the load balancer stops sending requests here. */
  lifecycle: { draining: boolean };
  /** How many server processes share the port (node:cluster); per-process rate limits are this share of the configured ones. */
  serverProcesses: number;
}

declare module 'fastify' {
  interface FastifyInstance {
    gatehouse: Services;
  }
}
