import type { FastifyInstance, FastifyReply, FastifyRequest, preHandlerAsyncHookHandler } from 'fastify';
import { GatehouseError } from '../errors.js';
import { rateLimitRefusals } from '../metrics/metrics.js';
import { BoundedMap } from '../state/bounded-map.js';

/** Fields the login and change-password forms post. */
export interface CredentialForm {
  _csrf?: string;
  Action?: string;
  UserName?: string;
  Password?: string;
  Kmsi?: string;
  OldPassword?: string;
  NewPassword?: string;
  ConfirmPassword?: string;
  /** Why the change-password page was shown (expired, mustChange). */
  Reason?: string;
  /** Second-factor pages: the code typed (authenticator app or recovery code). */
  Code?: string;
  /** The enrolment page's sealed secret, waiting for its first code. */
  Enrolment?: string;
  /** A passkey ceremony: the sealed challenge, the browser's answer (JSON), the new key's name. */
  WebauthnState?: string;
  WebauthnResponse?: string;
  KeyName?: string;
}

/** What the second-factor pages post (src/mfa/pages.ts): answered by the secondFactor step, not by the password. */
export const SECOND_FACTOR_ACTIONS = ['mfaCode', 'mfaRecovery', 'mfaEnrol', 'mfaSkip', 'mfaContinue', 'mfaWebauthn', 'mfaEnrolWebauthn'] as const;
export type SecondFactorAction = (typeof SECOND_FACTOR_ACTIONS)[number];

export function isSecondFactorForm(form: CredentialForm | undefined): form is CredentialForm & { Action: SecondFactorAction } {
  return form !== undefined && (SECOND_FACTOR_ACTIONS as readonly string[]).includes(form.Action ?? '');
}

const field = (max: number) => ({ type: 'string', maxLength: max }) as const;

export const credentialFormSchema = {
  type: 'object',
  properties: {
    _csrf: field(200),
    Action: { type: 'string', enum: ['signIn', 'changePassword', ...SECOND_FACTOR_ACTIONS] },
    UserName: field(256),
    Password: field(512),
    Kmsi: field(10),
    AuthMethod: field(200),
    OldPassword: field(512),
    NewPassword: field(512),
    ConfirmPassword: field(512),
    Reason: { type: 'string', enum: ['expired', 'mustChange'] },
    Code: field(40),
    Enrolment: field(1024),
    WebauthnState: field(2048),
    WebauthnResponse: field(16_384),
    KeyName: field(64),
  },
  additionalProperties: false,
} as const;

declare module 'fastify' {
  interface FastifyRequest {
    /**
     * The rate limits' verdict, still on its way (see credentialRateLimits' `defer`): the password check
     * awaits it before it reserves the attempt or binds, and it rejects with GH_RATE_LIMITED.
     */
    credentialAllowance?: Promise<void>;
  }
}

interface Limits {
  awaited: preHandlerAsyncHookHandler;
  deferred: preHandlerAsyncHookHandler;
}

const shared = new WeakMap<object, Limits>();

/**
 * Whether a post's credential is checked by the PasswordVerifier (which awaits a deferred verdict): a
 * WS-Trust message (usernamemixed), or a form with a password that is not a second-factor page's.
 */
function goesToPasswordCheck(body: unknown): boolean {
  if (typeof body === 'string') return true;
  const form = body as CredentialForm | undefined;
  return !isSecondFactorForm(form) && Boolean(form?.Password || form?.OldPassword);
}

/** At most this many addresses remembered as refused (the oldest forgotten first). */
const MAX_REFUSED = 10_000;

/**
 * Rate limits for every endpoint that takes a password: per client address and for the whole server.
 * One allowance per server, shared by all credential routes, so it is not multiplied by the number of
 * endpoints.
 *
 * `defer` (the sign-in endpoints whose password goes through the PasswordVerifier): the verdict is asked
 * for here and awaited by the password check, so in a farm its Redis round trip runs while the directory
 * looks the user up instead of before. The verdict still comes before any bind. An address (or the
 * whole server) this process has seen refused is awaited here, so a flood costs the directory nothing.
 * Anything else (second-factor pages, SAML messages) always waits here.
 */
export function credentialRateLimits(app: FastifyInstance, opts: { defer?: boolean } = {}): preHandlerAsyncHookHandler[] {
  let limits = shared.get(app.gatehouse);
  if (!limits) {
    const { perAddressPerMinute, globalPerMinute } = app.gatehouse.config.rateLimit;
    // Counters live in each server process (the cluster spreads connections evenly, so split the limits), or in Redis for a farm.
    const share = (limit: number) => (app.gatehouse.state.backend === 'redis' ? limit : Math.max(1, Math.ceil(limit / app.gatehouse.serverProcesses)));
    const limiter = app.gatehouse.state.credentialLimiter({ perAddress: share(perAddressPerMinute), global: share(globalPerMinute), windowMs: 60_000 });
    const refusedUntil = new BoundedMap<string, number>(MAX_REFUSED);
    const GLOBAL = '';
    const knownRefused = (ip: string, now = Date.now()) => (refusedUntil.get(ip) ?? 0) > now || (refusedUntil.get(GLOBAL) ?? 0) > now;
    const decide = async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
      const verdict = await limiter.check(request.ip);
      if (verdict.allowed) return;
      rateLimitRefusals.inc({ limit: verdict.limit });
      const who = verdict.limit === 'address' ? request.ip : GLOBAL;
      refusedUntil.set(who, Date.now() + verdict.retryAfterSeconds * 1000);
      reply.header('retry-after', String(verdict.retryAfterSeconds));
      throw new GatehouseError('GH_RATE_LIMITED', { detail: `${verdict.limit === 'address' ? `ip:${request.ip}` : 'all'}: more than ${verdict.max} a minute` });
    };
    limits = {
      awaited: (request, reply) => decide(request, reply),
      deferred: async (request, reply) => {
        const pending = decide(request, reply);
        if (knownRefused(request.ip) || !goesToPasswordCheck(request.body)) return pending;
        pending.catch(() => {}); // handled where the password check awaits it
        request.credentialAllowance = pending;
      },
    };
    shared.set(app.gatehouse, limits);
  }
  return [opts.defer ? limits.deferred : limits.awaited];
}
