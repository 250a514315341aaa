import { Type, type Static } from '@sinclair/typebox';
import { dirname, join, resolve } from 'node:path';

/**
 * The `state` section: where the state that must be the same on every server lives. Without
 * `state.redis.url` each server keeps it in its embedded SQLite database (stateDir/gatehouse.db); with it
 * the servers form a farm that shares it in Redis or Valkey (see docs/farm.md).
 */
export const StateConfigSchema = Type.Object(
  {
    redis: Type.Object(
      {
        url: Type.Optional(
          Type.String({
            pattern: '^rediss?://',
            description:
              'Turns on farm mode: redis:// or rediss:// (TLS) URL of the Redis/Valkey server that every server of the farm shares, with user and password if any (redis://gatehouse:secret@redis.corp:6379/0). With sentinels, only its user, password, database and scheme are used.',
          }),
        ),
        sentinels: Type.Array(Type.String({ pattern: '^[^\\s:]+:\\d+$' }), {
          default: [],
          description: 'Redis Sentinel addresses (host:port); the master is found through them by sentinelName.',
        }),
        sentinelName: Type.String({ default: 'mymaster', minLength: 1, description: 'With sentinels: the name of the monitored master.' }),
        sentinelPassword: Type.Optional(Type.String({ minLength: 1, description: 'With sentinels: the password of the sentinels themselves, when they have one.' })),
        caFile: Type.Optional(Type.String({ minLength: 1, description: 'rediss://: PEM CA bundle that signed the Redis server certificate (default: the system CAs).' })),
        keyPrefix: Type.String({ default: 'gatehouse:', minLength: 1, description: 'Prefix of every key Gatehouse writes (several farms may share one Redis).' }),
        commandTimeoutMs: Type.Integer({
          minimum: 50,
          maximum: 10_000,
          default: 500,
          description: 'A Redis command not answered within this time counts as Redis being unreachable (the fallback is used for that request).',
        }),
      },
      { additionalProperties: false, default: {} },
    ),
    fallbackThreshold: Type.Integer({
      minimum: 1,
      default: 1,
      description:
        'While Redis is unreachable, smart lockout counts on each server alone: attempts from unknown locations are then refused after this many bad passwords per server (familiar locations keep their threshold).',
    }),
    farmKeyFile: Type.Optional(
      Type.String({
        minLength: 1,
        description:
          'Farm mode: a file of 32 random bytes (base64), the same on every server, that encrypts (AES-256-GCM) the private keys the servers share through Redis. Made by `gatehouse farm init-key`. Default: beside session.keyFile, farm.key.',
      }),
    ),
    leaseSeconds: Type.Integer({
      minimum: 3,
      maximum: 600,
      default: 15,
      description: 'Farm mode: how long the leader lease lasts without renewal; another server takes over the sync and automatic rollover within this time after the leader dies.',
    }),
  },
  { additionalProperties: false, default: {} },
);

export type StateConfig = Static<typeof StateConfigSchema>;

/** File paths made absolute (relative to the configuration's directory); the farm key's default beside the session key. */
export function resolveStateConfig(s: StateConfig, cwd: string, sessionKeyFile: string): StateConfig {
  return {
    ...s,
    redis: { ...s.redis, ...(s.redis.caFile ? { caFile: resolve(cwd, s.redis.caFile) } : {}) },
    farmKeyFile: s.farmKeyFile ? resolve(cwd, s.farmKeyFile) : join(dirname(sessionKeyFile), 'farm.key'),
  };
}
