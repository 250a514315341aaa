import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * Every Prometheus metric of a Gatehouse process, in one registry of its own. Modules record into these
 * directly (a counter increment is a map update: no I/O, nothing awaited). Label values are always from a
 * closed set: protocols, route patterns, error codes, configured relying parties, configured DC URLs;
 * never a user name or an address (docs/operations.md#metrics).
 *
 * `aggregator` says how the cluster's primary merges its workers' values (src/metrics/cluster.ts):
 * counters and histograms are summed; a gauge that each worker knows in full (a certificate's expiry, a
 * DC's state) is taken once ('max'/'min'), not multiplied by the number of workers.
 */
export const registry = new Registry();

type Refresh = () => void | Promise<void>;
const refreshers = new Map<object, Set<Refresh>>();

/**
 * Sets a gauge from its source at each scrape (a DC check, the lockout store, the key ring): `refresh`
 * runs when the gauge is read. Returns the function that stops it (an app closing).
 */
export function refreshOnScrape(gauge: Gauge<string>, refresh: Refresh): () => void {
  const set = refreshers.get(gauge) ?? new Set<Refresh>();
  refreshers.set(gauge, set);
  set.add(refresh);
  return () => void set.delete(refresh);
}

async function refresh(gauge: object): Promise<void> {
  await Promise.allSettled([...(refreshers.get(gauge) ?? [])].map((r) => r()));
}

// Process metrics (CPU, memory, event loop lag, heap), prefixed: gatehouse_process_cpu_seconds_total, gatehouse_nodejs_heap_size_used_bytes, …
collectDefaultMetrics({ register: registry, prefix: 'gatehouse_' });

export const signIns = new Counter({
  name: 'gatehouse_signins_total',
  help: 'Sign-in requests that ended, by protocol, relying party (configured ones only, else "unknown") and outcome: "success" (a token was issued) or the refusal reason (the error code without GH_, lower case).',
  labelNames: ['protocol', 'relying_party', 'outcome'] as const,
  registers: [registry],
});

export const tokensIssued = new Counter({
  name: 'gatehouse_tokens_issued_total',
  help: 'Tokens issued, by protocol, relying party and how the user authenticated (form-password, message-password, session).',
  labelNames: ['protocol', 'relying_party', 'authn_method'] as const,
  registers: [registry],
});

export const passwordChecks = new Counter({
  name: 'gatehouse_password_checks_total',
  help: 'Password checks (sign-in and password change), by kind (signin_attempt, password_change) and outcome ("success" or the refusal reason).',
  labelNames: ['kind', 'outcome'] as const,
  registers: [registry],
});

export const httpDuration = new Histogram({
  name: 'gatehouse_http_request_duration_seconds',
  help: 'HTTP request latency by method, route pattern (never the URL) and status class (2xx, 3xx, 4xx, 5xx).',
  labelNames: ['method', 'route', 'status'] as const,
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  registers: [registry],
});

export const ldapDuration = new Histogram({
  name: 'gatehouse_ldap_operation_duration_seconds',
  help: 'LDAP operations against each domain controller (bind = password check, search = look-up, service_bind, password_change), whatever their result.',
  labelNames: ['dc', 'operation'] as const,
  buckets: [0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
  registers: [registry],
});

export const ldapErrors = new Counter({
  name: 'gatehouse_ldap_errors_total',
  help: 'LDAP operations on a domain controller that failed without an answer the sign-in can use (unreachable, timeout, refused service account), by DC and operation. A wrong password is not an error.',
  labelNames: ['dc', 'operation'] as const,
  registers: [registry],
});

export const dcUp = new Gauge({
  name: 'gatehouse_dc_up',
  help: '1 when the domain controller answered its last operation (or a check at scrape time), 0 when it did not.',
  labelNames: ['dc'] as const,
  aggregator: 'min',
  registers: [registry],
  collect() {
    return refresh(this);
  },
});

export const lockoutRefusals = new Counter({
  name: 'gatehouse_lockout_refusals_total',
  help: 'Smart lockout events: attempts refused (or, in log-only mode, that would have been) without asking AD, by location (familiar, unknown), reason (threshold, ad-counter, busy) and whether enforced.',
  labelNames: ['location', 'reason', 'enforced'] as const,
  registers: [registry],
});

export const lockedLocations = new Gauge({
  name: 'gatehouse_lockout_locked_locations',
  help: 'Accounts whose unknown (or familiar) locations are locked out by smart lockout now (counter at its threshold within the observation window). Read from the state store at scrape time.',
  labelNames: ['location'] as const,
  aggregator: 'max',
  registers: [registry],
  collect() {
    return refresh(this);
  },
});

export const rateLimitRefusals = new Counter({
  name: 'gatehouse_rate_limit_refusals_total',
  help: 'Requests to a password endpoint refused by the rate limits (limit: address or global).',
  labelNames: ['limit'] as const,
  registers: [registry],
});

export const certificateDays = new Gauge({
  name: 'gatehouse_signing_certificate_expiry_days',
  help: 'Days until the token-signing certificate expires (slot: current, next); no "next" sample while there is none.',
  labelNames: ['slot'] as const,
  aggregator: 'min',
  registers: [registry],
  collect() {
    return refresh(this);
  },
});

export const schemaQueue = new Gauge({
  name: 'gatehouse_saml_schema_validation_queue',
  help: 'Incoming SAML messages waiting for a schema-validation worker thread.',
  registers: [registry],
  collect() {
    return refresh(this);
  },
});

export const activityDropped = new Counter({
  name: 'gatehouse_activity_events_dropped_total',
  help: 'Audit events that could not be kept in the activity store (the store failed or its queue was full); they are still in the log.',
  registers: [registry],
});

export const syncCycleDuration = new Histogram({
  name: 'gatehouse_sync_cycle_duration_seconds',
  help: 'Sync cycles by kind (full, incremental) and result (ok, failed; an interrupted cycle counts as ok).',
  labelNames: ['kind', 'result'] as const,
  buckets: [1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600],
  registers: [registry],
});

export const syncUsersWritten = new Counter({
  name: 'gatehouse_sync_users_written_total',
  help: 'Users written to Microsoft Entra ID by the sync, by action (created, updated, disabled, deleted).',
  labelNames: ['action'] as const,
  registers: [registry],
});

export const syncFailures = new Counter({
  name: 'gatehouse_sync_failures_total',
  help: 'Sync cycles that failed, and users the sync could not write (kind: cycle, user).',
  labelNames: ['kind'] as const,
  registers: [registry],
});

export const syncThrottled = new Counter({
  name: 'gatehouse_sync_graph_throttled_total',
  help: 'Microsoft Graph answers 429 (throttled) the sync received.',
  registers: [registry],
});

export const syncLastSuccess = new Gauge({
  name: 'gatehouse_sync_last_success_timestamp_seconds',
  help: 'When the last sync cycle finished without error (Unix time, seconds).',
  aggregator: 'max',
  registers: [registry],
});

/** A refusal's outcome label: the error code without GH_, lower case (authn_failed, extranet_lockout, …). */
export function outcomeOf(code: string | undefined): string {
  if (!code) return 'internal';
  return code.replace(/^GH_/, '').toLowerCase();
}
