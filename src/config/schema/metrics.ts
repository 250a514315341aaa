import { resolve } from 'node:path';
import { Type, type Static } from '@sinclair/typebox';
import { ConfigError } from '../../errors.js';

const ADDRESS = '^[^\\s]+:\\d+$';

/**
 * The `metrics` section: Prometheus metrics at /metrics (docs/operations.md#metrics). Off by default. On
 * a listen address of its own (reachable only from the monitoring network), or on the main port behind a
 * bearer token and/or an address allow-list: the main port faces users, so it is never open there.
 */
export const MetricsConfigSchema = Type.Object(
  {
    enabled: Type.Boolean({ default: false, description: 'Serve Prometheus metrics at /metrics (see docs/operations.md#metrics).' }),
    listen: Type.Optional(
      Type.String({
        pattern: ADDRESS,
        description:
          'host:port of a separate listener for /metrics (e.g. 127.0.0.1:9464), served by the primary process with every worker\'s figures. Unset: /metrics on the main port, which then needs bearerTokenFile or allowFrom.',
      }),
    ),
    bearerTokenFile: Type.Optional(
      Type.String({ minLength: 1, description: 'File holding the token Prometheus must send (Authorization: Bearer …; its bearer_token_file). Checked on either listener.' }),
    ),
    allowFrom: Type.Array(Type.String({ minLength: 1 }), {
      default: [],
      description: 'Addresses or CIDR ranges (the TCP peer, not X-Forwarded-For) allowed to read /metrics; empty: any address that passes the token check.',
    }),
    syncListen: Type.Optional(
      Type.String({
        pattern: ADDRESS,
        description: 'host:port where `gatehouse sync` serves its own /metrics (sync cycles, users written, 429s); same token and allow-list. Unset: the sync keeps no listener.',
      }),
    ),
  },
  { additionalProperties: false, default: {} },
);

export type MetricsConfig = Static<typeof MetricsConfigSchema>;

/** Relative files against the configuration's folder; /metrics on the main port must be protected. */
export function resolveMetricsConfig(raw: MetricsConfig, cwd: string): MetricsConfig {
  if (raw.enabled && !raw.listen && !raw.bearerTokenFile && !raw.allowFrom.length) {
    throw new ConfigError('metrics.listen: /metrics on the main port must be protected: set metrics.bearerTokenFile or metrics.allowFrom, or give it a listener of its own with metrics.listen');
  }
  return { ...raw, ...(raw.bearerTokenFile ? { bearerTokenFile: resolve(cwd, raw.bearerTokenFile) } : {}) };
}
