import type { FastifyInstance, preHandlerAsyncHookHandler } from 'fastify';
import type {} from '@fastify/rate-limit';
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
}

const field = (max: number) => ({ type: 'string', maxLength: max }) as const;

export const credentialFormSchema = {
  type: 'object',
  properties: {
    _csrf: field(200),
    Action: { type: 'string', enum: ['signIn', 'changePassword'] },
    UserName: field(256),
    Password: field(512),
    Kmsi: field(10),
    AuthMethod: field(200),
    OldPassword: field(512),
    NewPassword: field(512),
    ConfirmPassword: field(512),
    Reason: { type: 'string', enum: ['expired', 'mustChange'] },
  },
  additionalProperties: false,
} as const;

const shared = new WeakMap<object, preHandlerAsyncHookHandler>();

/**
 * Rate limits for every endpoint that takes a password: per client address and for the whole server.
 * One hook per server, shared by all credential routes, so the allowance is not multiplied by the number
 * of endpoints; both limits are checked in it (@fastify/rate-limit marks a request as handled after the
 * first of its own preHandlers).
 */
export function credentialRateLimits(app: FastifyInstance): preHandlerAsyncHookHandler[] {
  let hook = shared.get(app.gatehouse);
  if (!hook) {
    const { perAddressPerMinute, globalPerMinute } = app.gatehouse.config.rateLimit;
    // Counters live in each server process (the cluster spreads connections evenly, so split the limits), or in Redis for a farm.
    const share = (limit: number) => (app.gatehouse.state.backend === 'redis' ? limit : Math.max(1, Math.ceil(limit / app.gatehouse.serverProcesses)));
    const checks = [
      app.createRateLimit({ max: share(perAddressPerMinute), timeWindow: 60_000, keyGenerator: (req) => `ip:${req.ip}` }),
      app.createRateLimit({ max: share(globalPerMinute), timeWindow: 60_000, keyGenerator: () => 'all' }),
    ];
    const names = ['address', 'global'] as const;
    hook = async (request, reply) => {
      for (const [i, check] of checks.entries()) {
        const limit = await check(request);
        if (!limit.isAllowed && limit.isExceeded) {
          rateLimitRefusals.inc({ limit: names[i] });
          reply.header('retry-after', String(limit.ttlInSeconds));
          throw new GatehouseError('GH_RATE_LIMITED', { detail: `${limit.key}: more than ${limit.max} a minute` });
        }
      }
    };
    shared.set(app.gatehouse, hook);
  }
  return [hook];
}
