import type { FastifyInstance, preHandlerAsyncHookHandler } from 'fastify';
import { GatehouseError } from '../errors.js';
import { rateLimitRefusals } from '../metrics/metrics.js';

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

const shared = new WeakMap<object, preHandlerAsyncHookHandler>();

/**
 * Rate limits for every endpoint that takes a password: per client address and for the whole server.
 * One hook per server, shared by all credential routes, so the allowance is not multiplied by the number
 * of endpoints.
 */
export function credentialRateLimits(app: FastifyInstance): preHandlerAsyncHookHandler[] {
  let hook = shared.get(app.gatehouse);
  if (!hook) {
    const { perAddressPerMinute, globalPerMinute } = app.gatehouse.config.rateLimit;
    // Counters live in each server process (the cluster spreads connections evenly, so split the limits), or in Redis for a farm.
    const share = (limit: number) => (app.gatehouse.state.backend === 'redis' ? limit : Math.max(1, Math.ceil(limit / app.gatehouse.serverProcesses)));
    const limiter = app.gatehouse.state.credentialLimiter({ perAddress: share(perAddressPerMinute), global: share(globalPerMinute), windowMs: 60_000 });
    hook = async (request, reply) => {
      const verdict = await limiter.check(request.ip);
      if (!verdict.allowed) {
        rateLimitRefusals.inc({ limit: verdict.limit });
        reply.header('retry-after', String(verdict.retryAfterSeconds));
        const who = verdict.limit === 'address' ? `ip:${request.ip}` : 'all';
        throw new GatehouseError('GH_RATE_LIMITED', { detail: `${who}: more than ${verdict.max} a minute` });
      }
    };
    shared.set(app.gatehouse, hook);
  }
  return [hook];
}
