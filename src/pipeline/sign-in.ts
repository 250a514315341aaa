import type { X509Certificate } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { RelyingPartyConfig } from '../config/schema/relying-party.js';
import type { CredentialForm } from '../authn/forms.js';
import type { Session } from '../authn/session.js';
import type { ResolvedClaims } from '../claims/resolved.js';
import type { ReleasedClaims } from '../claims/release.js';
import type { SamlServiceProvider } from '../relying-parties/sp-metadata.js';
import type { Assertion } from '../tokens/assertion.js';
import type { Config } from '../config/load.js';
import type { PasswordExpiryNotice } from '../http/pages.js';
import type { GatehouseError } from '../errors.js';
import type { Directory, DirectoryUser } from '../directory/directory.js';
import type { SigningKey } from '../keys/keystore.js';
import type { RelyingPartyRegistry } from '../relying-parties/registry.js';
import type { AccountCache } from '../authn/account-cache.js';
import type { PasswordVerifier } from '../authn/password-check.js';
import type { SessionStore } from '../authn/session-cookie.js';
import type { ReplayCache } from '../state/replay-cache.js';
import type { MfaService } from '../mfa/service.js';
import type { ActivityRecorder } from '../activity/recorder.js';

/** The protocols that issue tokens; each relying party is registered for its own (relyingParties.protocol). */
export type Protocol = 'wsfed' | 'ws-trust' | 'saml2';

/** The token a protocol carries: SAML 1.1 (WS-Federation, WS-Trust) or SAML 2.0. */
export type TokenFormatName = 'saml11' | 'saml20';

/** How the user proved who they are, as the token states it (each token format has its own URI for it). */
export type AuthnContext = 'passwordProtectedTransport' | 'password' | 'multipleAuthn' | 'windows';

/** What the request asks of the authentication, and the credentials it brings. */
export interface RequestedAuthn {
  /** Only an authentication at or after this instant (ms since epoch) will do: wfresh, ForceAuthn. */
  notBefore?: number | undefined;
  /** The user must not be asked anything (SAML IsPassive): without a usable session, a refusal. */
  passive?: boolean | undefined;
  /** The login form was posted with this request. */
  form?: CredentialForm | undefined;
  /** A password typed now is asked for (wauth=…:password, prompt=login, SAML PasswordProtectedTransport): no Windows sign-in. */
  passwordRequired?: boolean | undefined;
  /** The message carries the user's name and password itself (WS-Trust usernamemixed). */
  password?: { username: string; password: string } | undefined;
  /** The relying party asks for multi-factor authentication (wauth, RequestedAuthnContext: multipleauthn). */
  mfa?: boolean | undefined;
  /**
   * The relying party asks for Windows authentication or MFA (wauth, RequestedAuthnContext:
   * wiaormultiauthn, as Entra's device registration does): a Kerberos sign-in is enough, anything else
   * needs the second factor.
   */
  wiaOrMfa?: boolean | undefined;
  /** The endpoint authenticates with HTTP Negotiate whatever the client (WS-Trust windowstransport). */
  negotiate?: boolean | undefined;
}

/**
 * The one request shape: what a protocol adapter decodes its message into. The shared steps read this,
 * never the protocol's own message.
 */
export interface SignInRequest {
  protocol: Protocol;
  /** The endpoint the request came in at, for the audit lines: wsfed, saml2, ws-trust-1.3, ws-trust-2005. */
  endpoint: string;
  /** The relying party as the message names it: wtrealm, AppliesTo, the AuthnRequest's Issuer. */
  relyingParty: string;
  /** The message being answered (AuthnRequest ID, wsa:MessageID): InResponseTo or RelatesTo. */
  messageId?: string | undefined;
  /** Where the message asks the answer to go; only a registered endpoint is ever chosen. */
  reply: { url?: string | undefined; index?: number | undefined; binding?: string | undefined };
  authn: RequestedAuthn;
  hints: { username?: string | undefined };
  /** The client's addresses (smart lockout, audit). */
  addresses: string[];
  /** The client is inside the corporate network (network.corporate, no extranet proxy marker); set by decode. */
  insideCorporateNetwork?: boolean;
}

/** Who signed in, how and when: what the authenticate step leaves for the token. */
export interface Authentication {
  user: DirectoryUser;
  /** The method of the chain that authenticated (pipeline/chain.ts AUTHN_METHODS), for the audit line. */
  method: string;
  context: AuthnContext;
  /** When the user authenticated (ms since epoch): the token's authentication instant. */
  instant: number;
  /** The browser's single sign-on session, started now or presented; none for WS-Trust. */
  session?: Session | undefined;
  /** The session started or changed with this request (its cookie must be written). */
  newSession?: boolean;
  /** The second factor, when the secondFactor step asked for it (now or earlier in the session). */
  mfa?: { at: number; methods: string[] } | undefined;
}

/**
 * What the steps use, handed to the pipeline by the route plugins when they register (the app's
 * Services, src/services.ts, are one): nothing in a step looks a service up on its own.
 */
export interface PipelineServices {
  config: Config;
  directory: Directory;
  /** The key that signs tokens now: read at each use, a rollover switches it. */
  readonly signingKey: SigningKey;
  relyingParties: RelyingPartyRegistry;
  sessions: SessionStore;
  accounts: AccountCache;
  passwords: PasswordVerifier;
  /** Messages accepted once (a SAML AuthnRequest ID, a WS-Trust MessageID), farm-wide with Redis. */
  state: { replay: ReplayCache };
  /** The second factor (mfa.enabled); absent when MFA is off. */
  mfa?: MfaService | undefined;
  /** Where the audit step keeps token_issued for the activity view; none in tests that build a bare pipeline. */
  activity?: ActivityRecorder | undefined;
}

/**
 * One sign-in as it runs through the steps. Each field below `message` is filled by one step, in the
 * order of pipeline/chain.ts; a step reads only what an earlier step filled.
 */
export interface SignInContext<I = unknown, M = unknown> {
  readonly http: { request: FastifyRequest; reply: FastifyReply };
  readonly adapter: SignInAdapter<I, M>;
  readonly services: PipelineServices;
  /** What the route handed the adapter (a parsed query, a decoded SAML message, a SOAP body). */
  readonly input: I;
  /** decode */
  request: SignInRequest;
  /** decode: what the adapter keeps of its own message for encoding the answer (wctx, RelayState, key type). */
  message: M;
  /** findRelyingParty */
  rp: RelyingPartyConfig;
  /** findRelyingParty: a SAML 2.0 relying party's metadata (endpoints, certificates). */
  sp?: SamlServiceProvider | undefined;
  /** chooseReplyEndpoint: a registered endpoint; from here a refusal may go to the relying party. */
  replyTo?: string | undefined;
  /** authenticate */
  authentication: Authentication;
  /** authenticate: a refusal the method answered itself (the login form again, the change-password page), for the metrics. */
  refusedWith?: GatehouseError | undefined;
  /** resolveClaims */
  resolved: ResolvedClaims;
  /** releaseClaims */
  released: ReleasedClaims;
  /** buildToken */
  assertion: Assertion;
  /** signToken: the signed assertion, encrypted when `encryptedTo` is set. */
  token: string;
  encryptedTo?: X509Certificate | undefined;
  /** passwordExpiryNotice: the page the browser sees before the token is posted, when the password expires soon. */
  passwordNotice?: PasswordExpiryNotice | undefined;
}

/**
 * What a step returns when it has answered the request itself (a login page, a redirect, the token): the
 * pipeline stops there. A marker and not the reply, because a FastifyReply is a thenable: awaited, it
 * resolves to undefined once the response is sent, so it cannot travel through a promise.
 */
export const ANSWERED = Symbol('answered');
export type StepResult = typeof ANSWERED | undefined | void;
export type Step = (ctx: SignInContext) => StepResult | Promise<StepResult>;

/**
 * A protocol's two ends of the pipeline: it decodes its message into the request shape and encodes the
 * answer, and supplies what only it knows (its reply endpoints, its own checks, how it asks for a password).
 */
export interface SignInAdapter<I = unknown, M = unknown> {
  /** For log messages: WS-Federation, WS-Trust, SAML 2.0. */
  readonly name: string;
  readonly tokenFormat: TokenFormatName;
  /**
   * A browser protocol has a session, a login page and error pages. Without a browser (WS-Trust) every
   * error is answered in the protocol (error-policy.ts).
   */
  readonly browser: boolean;
  decode(ctx: SignInContext<I, M>): { request: SignInRequest; message: M } | Promise<{ request: SignInRequest; message: M }>;
  /** The registered endpoint the answer goes to; none when the answer is the HTTP response itself. */
  replyEndpoint?(ctx: SignInContext<I, M>): string;
  /** The protocol's own checks once the relying party is known (signatures, Destination, NameID policy). */
  verify?(ctx: SignInContext<I, M>): void | Promise<void>;
  /**
   * The sign-in's pages (password, second factor) are shown at another address, where the request travels
   * sealed (SAML 2.0's sign-in page): send the browser there. Absent: the pages post back to this URL.
   */
  moveToSignInPage?(ctx: SignInContext<I, M>): FastifyReply | Promise<FastifyReply>;
  /** No method authenticated the user: show the login page or send the browser to it. */
  challenge(ctx: SignInContext<I, M>): FastifyReply | Promise<FastifyReply>;
  encode(ctx: SignInContext<I, M>): FastifyReply | Promise<FastifyReply>;
  /** The error in the protocol's own form, for the relying party (error-policy.ts decides when). */
  encodeError?(ctx: Partial<SignInContext<I, M>> & Pick<SignInContext<I, M>, 'http' | 'input' | 'services'>, err: unknown): FastifyReply | Promise<FastifyReply>;
}
