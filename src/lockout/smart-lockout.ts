/**
 * Extranet smart lockout, after ADFS's model: per account, bad-password counters for *familiar* locations
 * (addresses the user signed in from successfully) and *unknown* ones. Once a counter reaches its
 * threshold, attempts from that kind of location are refused without asking AD until the observation
 * window has passed since the last attempt; then one attempt is let through. A success resets the counter
 * of its kind of location and makes the address familiar.
 *
 * Attempts are reserved before the bind and settled after it, in one atomic step each, so any number of
 * concurrent attempts sees the ones still in flight: a burst can never send more binds to AD than the
 * threshold allows. Unknown locations are also refused when AD's own counter (badPwdCount, read with the
 * account) is two attempts away from AD's lockout threshold, whoever made the earlier mistakes: so an
 * attempt from an unknown location never locks the account in AD, and always leaves the user room for a
 * typo of their own.
 */
export type LockoutMode = 'off' | 'log-only' | 'enforce';
export type Location = 'familiar' | 'unknown';

/** An attempt reserved and not settled yet: its id, and when the reservation lapses (a crashed process). */
export interface InFlight {
  id: string;
  until: number;
}

export interface AccountActivity {
  badFamiliar: number;
  badUnknown: number;
  /** ms since epoch of the last bad password (or the last attempt let through while locked), 0 when never. */
  lastBadFamiliar: number;
  lastBadUnknown: number;
  /** Most recent last. */
  familiarAddresses: string[];
  inFlightFamiliar?: InFlight[];
  inFlightUnknown?: InFlight[];
}

export interface LockoutPolicy {
  /** Bad passwords from unknown locations before they are refused. */
  threshold: number;
  /** Bad passwords from familiar locations before they are refused. */
  familiarThreshold: number;
  observationWindowMs: number;
  maxFamiliarAddresses: number;
  /** AD's lockoutThreshold (0: AD never locks); with its observation window, for the badPwdCount guard. */
  adThreshold: number;
  adObservationWindowMs: number;
}

/** What AD says about the account's own bad-password counter (read with the account). */
export interface AdCounter {
  badPwdCount: number;
  /** ms since epoch, 0 when never. */
  badPasswordTime: number;
}

export const EMPTY_ACTIVITY: AccountActivity = { badFamiliar: 0, badUnknown: 0, lastBadFamiliar: 0, lastBadUnknown: 0, familiarAddresses: [] };

/** How long an unsettled reservation counts: longer than any bind can take. */
export const IN_FLIGHT_MS = 60_000;

/** Familiar only when every address presented (client, forwarded) is one the user signed in from. */
export function locationOf(a: AccountActivity, addresses: string[]): Location {
  return addresses.length > 0 && addresses.every((ip) => a.familiarAddresses.includes(ip)) ? 'familiar' : 'unknown';
}

const bad = (a: AccountActivity, w: Location) => (w === 'familiar' ? a.badFamiliar : a.badUnknown);
const last = (a: AccountActivity, w: Location) => (w === 'familiar' ? a.lastBadFamiliar : a.lastBadUnknown);
const inFlight = (a: AccountActivity, w: Location, now: number) =>
  ((w === 'familiar' ? a.inFlightFamiliar : a.inFlightUnknown) ?? []).filter((f) => f.until > now);

/** AD's counter as AD would use it now: AD forgets bad passwords older than its observation window. */
export function adBadCount(ad: AdCounter | undefined, p: LockoutPolicy, now: number): number {
  if (!ad || p.adThreshold <= 0) return 0;
  if (p.adObservationWindowMs > 0 && now - ad.badPasswordTime >= p.adObservationWindowMs) return 0;
  return ad.badPwdCount;
}

export interface Reservation {
  next: AccountActivity;
  /**
   * Why the attempt must not reach AD now, or undefined when it may. 'busy': only attempts still in flight
   * stand in the way; once they are settled (a success clears the counter) this one may go, so the caller
   * waits and asks again rather than refusing a user who signs in from two devices at once.
   */
  refusal?: 'threshold' | 'ad-counter' | 'busy';
  ticket?: string;
}

/**
 * Reserves one attempt from `where`, or says why it must be refused. Pure: the store applies `next`
 * atomically. `ticket` identifies the reservation for `settle`.
 */
export function reserve(a: AccountActivity, where: Location, p: LockoutPolicy, ad: AdCounter | undefined, ticket: string, now: number): Reservation {
  const flying = inFlight(a, where, now);
  const limit = where === 'familiar' ? p.familiarThreshold : p.threshold;
  let lastBad = last(a, where);
  if (bad(a, where) + flying.length >= limit) {
    // Locked: one attempt per observation window, and it restarts the window for everyone else.
    if (bad(a, where) >= limit && now - lastBad < p.observationWindowMs) return { next: a, refusal: 'threshold' };
    if (flying.length > 0) return { next: a, refusal: 'busy' };
    lastBad = now;
  }
  // One bad password below AD's threshold is kept for the user's own typo: the attempt from an unknown
  // location must leave AD's counter at most two short of it.
  if (where === 'unknown' && p.adThreshold > 0 && adBadCount(ad, p, now) + flying.length + 1 > p.adThreshold - 2) {
    return { next: a, refusal: adBadCount(ad, p, now) + 1 > p.adThreshold - 2 ? 'ad-counter' : 'busy' };
  }
  const entry = { id: ticket, until: now + IN_FLIGHT_MS };
  const next: AccountActivity =
    where === 'familiar'
      ? { ...a, lastBadFamiliar: lastBad, inFlightFamiliar: [...flying, entry] }
      : { ...a, lastBadUnknown: lastBad, inFlightUnknown: [...flying, entry] };
  return { next, ticket };
}

export type Outcome = 'bad-password' | 'success' | 'neither';

/**
 * Settles a reservation: a bad password is counted, a success clears the counter of its kind of location
 * and makes its addresses familiar (the other counter stays: the user signing in at the office must not
 * give a sprayer fresh attempts), anything else (AD unreachable, an account-state answer) only releases it.
 */
export function settle(a: AccountActivity, where: Location, ticket: string, outcome: Outcome, addresses: string[], p: LockoutPolicy, now: number): AccountActivity {
  const rest = inFlight(a, where, now).filter((f) => f.id !== ticket);
  const base: AccountActivity = where === 'familiar' ? { ...a, inFlightFamiliar: rest } : { ...a, inFlightUnknown: rest };
  if (outcome === 'bad-password') {
    return where === 'familiar'
      ? { ...base, badFamiliar: a.badFamiliar + 1, lastBadFamiliar: now }
      : { ...base, badUnknown: a.badUnknown + 1, lastBadUnknown: now };
  }
  if (outcome === 'success') {
    const familiarAddresses = [...a.familiarAddresses.filter((x) => !addresses.includes(x)), ...addresses].slice(-p.maxFamiliarAddresses);
    return where === 'familiar'
      ? { ...base, badFamiliar: 0, lastBadFamiliar: 0, familiarAddresses }
      : { ...base, badUnknown: 0, lastBadUnknown: 0, familiarAddresses };
  }
  return base;
}

/** Whether attempts from `where` are refused right now (for `gatehouse lockout list`). */
export function isLocked(a: AccountActivity, where: Location, p: Pick<LockoutPolicy, 'threshold' | 'familiarThreshold' | 'observationWindowMs'>, now: number): boolean {
  const limit = where === 'familiar' ? p.familiarThreshold : p.threshold;
  return bad(a, where) >= limit && now - last(a, where) < p.observationWindowMs;
}

export interface DerivedPolicy {
  threshold: number;
  familiarThreshold: number;
  observationWindowMinutes: number;
  /** Why each value is what it is, for check-config and the start-up log. */
  explanation: string[];
  /** A configured value that would let AD lock accounts first. */
  problem?: string;
}

/**
 * The thresholds and window from AD's policy and the configuration.
 * - unknown locations: half of AD's lockoutThreshold (at least 1), as Microsoft advises, or 5 when AD has none;
 * - familiar locations: what AD leaves after that (at least 2, so one typo and then the right password always
 *   goes through), or the unknown threshold when AD has none;
 * - the window: the configured one, or AD's own "reset account lockout counter after" when that is shorter
 *   (AD has forgotten the bad passwords by then; holding the user out longer protects nothing).
 */
export function derivePolicy(
  cfg: { threshold?: number | undefined; familiarThreshold?: number | undefined; observationWindowMinutes: number },
  ad: { lockoutThreshold: number; observationWindowMinutes?: number | undefined },
): DerivedPolicy {
  const T = ad.lockoutThreshold;
  const explanation: string[] = [];
  const problems: string[] = [];
  let threshold: number;
  if (cfg.threshold !== undefined) {
    threshold = cfg.threshold;
    explanation.push(`unknown locations: ${threshold} bad passwords (lockout.threshold)`);
    if (T > 0 && threshold >= T) {
      problems.push(`lockout.threshold: ${threshold} is not below AD's lockoutThreshold (${T}); AD would lock accounts before Gatehouse protects them`);
    }
  } else if (T > 0) {
    threshold = Math.max(1, Math.floor(T / 2));
    explanation.push(`unknown locations: ${threshold} bad passwords (half of AD's lockoutThreshold ${T})`);
  } else {
    threshold = 5;
    explanation.push('unknown locations: 5 bad passwords (AD never locks accounts)');
  }
  let familiarThreshold: number;
  if (cfg.familiarThreshold !== undefined) {
    familiarThreshold = cfg.familiarThreshold;
    explanation.push(`familiar locations: ${familiarThreshold} bad passwords (lockout.familiarThreshold)`);
    if (T > 0 && familiarThreshold >= T) {
      problems.push(`lockout.familiarThreshold: ${familiarThreshold} is not below AD's lockoutThreshold (${T}); the user's own mistakes would lock the account in AD first`);
    }
  } else if (T > 0) {
    familiarThreshold = Math.max(2, T - threshold);
    explanation.push(`familiar locations: ${familiarThreshold} bad passwords (what AD's ${T} leaves, at least 2: one typo never locks the user out)`);
  } else {
    familiarThreshold = Math.max(2, threshold);
    explanation.push(`familiar locations: ${familiarThreshold} bad passwords`);
  }
  let observationWindowMinutes = cfg.observationWindowMinutes;
  if (ad.observationWindowMinutes && ad.observationWindowMinutes > 0 && ad.observationWindowMinutes < observationWindowMinutes) {
    observationWindowMinutes = ad.observationWindowMinutes;
    explanation.push(`window: ${observationWindowMinutes} min (AD's "reset account lockout counter after"; lockout.observationWindowMinutes is ${cfg.observationWindowMinutes})`);
  } else {
    explanation.push(`window: ${observationWindowMinutes} min (lockout.observationWindowMinutes)`);
  }
  if (T > 0) {
    explanation.push(
      T > 2
        ? `unknown locations are also refused once AD's own badPwdCount is ${T - 2} (room is always left for one typo of the user's before AD's ${T})`
        : `AD's lockoutThreshold ${T} leaves no room: attempts from unknown locations are always refused`,
    );
  }
  return { threshold, familiarThreshold, observationWindowMinutes, explanation, ...(problems.length ? { problem: problems.join('; ') } : {}) };
}

/** Kept for check-config: the unknown-location threshold alone. */
export function effectiveThreshold(configured: number | undefined, adThreshold: number): { threshold: number; problem?: string } {
  const d = derivePolicy({ threshold: configured, observationWindowMinutes: 30 }, { lockoutThreshold: adThreshold });
  return { threshold: d.threshold, ...(d.problem ? { problem: d.problem } : {}) };
}
