/**
 * One audit event as the activity view keeps it: the password checks (signin_attempt, password_change),
 * the tokens issued (token_issued) and the help desk's lockout resets (lockout_reset). The same fields as
 * the JSON log lines of those events; never a password.
 */
export interface ActivityEvent {
  /** ms since epoch */
  time: number;
  kind: 'signin_attempt' | 'password_change' | 'token_issued' | 'lockout_reset';
  /** The account's UPN when known, else the name as typed (a name that matches no account). */
  user: string;
  outcome: 'success' | 'failure';
  /** The error code of a refusal (GH_AUTHN_FAILED, GH_EXTRANET_LOCKOUT, …). */
  reason?: string | undefined;
  /** The endpoint: wsfed, saml2, ws-trust-1.3, portal, activity-page … */
  protocol?: string | undefined;
  /** The relying party, when the attempt was for one. */
  realm?: string | undefined;
  /** The client's addresses: the first is the source the spray report groups by. */
  addresses: string[];
  /** The request's correlation ID (the error page shows it; the log lines carry it). */
  correlationId?: string | undefined;
  /** token_issued: form-password, message-password, session. lockout_reset: who reset it. */
  detail?: string | undefined;
  /** The name matched no account (a typo, or a spray of guessed names). */
  noAccount?: true | undefined;
}

/** A source of bad passwords in the spray report. */
export interface SpraySource {
  address: string;
  /** Bad passwords (and attempts smart lockout refused) from it in the window. */
  failures: number;
  /** Different user names it tried. */
  users: number;
  first: number;
  last: number;
}

/** Refusals that count as a bad password from a source: a wrong password (or no such user), or smart lockout's refusal. */
export const BAD_PASSWORD_REASONS = ['GH_AUTHN_FAILED', 'GH_EXTRANET_LOCKOUT'];

export function isBadPassword(e: Pick<ActivityEvent, 'kind' | 'outcome' | 'reason'>): boolean {
  return (e.kind === 'signin_attempt' || e.kind === 'password_change') && e.outcome === 'failure' && BAD_PASSWORD_REASONS.includes(e.reason ?? '');
}

/**
 * Where the events are kept: this server's SQLite database, or Redis for a farm (every server writes, the
 * view reads them all). Each store forgets events older than the retention it is given.
 */
export interface ActivityStore {
  add(events: ActivityEvent[]): void | Promise<void>;
  /** Most recent first; only `user`'s (case-insensitive) when given. */
  recent(opts: { user?: string | undefined; limit: number }): ActivityEvent[] | Promise<ActivityEvent[]>;
  /** The sources with the most bad passwords since `since`, most first. */
  spray(opts: { since: number; limit: number }): SpraySource[] | Promise<SpraySource[]>;
  /** Forgets events older than `before`. */
  purge(before: number): void | Promise<void>;
}

/** Aggregates bad-password events by source address (the Redis store, and a check on the SQLite one). */
export function sprayFrom(events: Iterable<ActivityEvent>, limit: number): SpraySource[] {
  const by = new Map<string, SpraySource & { names: Set<string> }>();
  for (const e of events) {
    if (!isBadPassword(e)) continue;
    const address = e.addresses[0] ?? 'unknown';
    const s = by.get(address) ?? { address, failures: 0, users: 0, first: e.time, last: e.time, names: new Set<string>() };
    s.failures++;
    s.names.add(e.user.toLowerCase());
    s.first = Math.min(s.first, e.time);
    s.last = Math.max(s.last, e.time);
    by.set(address, s);
  }
  return [...by.values()]
    .map(({ names, ...s }) => ({ ...s, users: names.size }))
    .sort((a, b) => b.failures - a.failures || b.last - a.last)
    .slice(0, limit);
}
