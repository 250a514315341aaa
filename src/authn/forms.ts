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
  },
  additionalProperties: false,
} as const;

/** Rate limits for every endpoint that takes a password: per client address, and for the whole server. */
export function credentialRateLimits(app: import('fastify').FastifyInstance) {
  const { perAddressPerMinute, globalPerMinute } = app.gatehouse.config.rateLimit;
  return [
    app.rateLimit({ max: perAddressPerMinute, timeWindow: 60_000, keyGenerator: (req) => `ip:${req.ip}` }),
    app.rateLimit({ max: globalPerMinute, timeWindow: 60_000, keyGenerator: () => 'all' }),
  ];
}
