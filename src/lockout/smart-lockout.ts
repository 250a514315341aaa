/**
 * Extranet smart lockout, after ADFS's model: per account, bad-password counters for *familiar* locations
 * (addresses the user signed in from successfully) and *unknown* ones. Once a counter reaches the
 * threshold, attempts from that kind of location are refused without asking AD until the observation
 * window has passed since the last bad attempt; then one attempt is let through. A success resets the
 * counter of its kind of location and makes the address familiar. So a spray from unknown addresses never locks the account in
 * AD, and the user keeps signing in from familiar places.
 */
export type LockoutMode = 'off' | 'log-only' | 'enforce';
export type Location = 'familiar' | 'unknown';

export interface AccountActivity {
  badFamiliar: number;
  badUnknown: number;
  /** ms since epoch, 0 when never. */
  lastBadFamiliar: number;
  lastBadUnknown: number;
  /** Most recent last. */
  familiarAddresses: string[];
}

export interface LockoutPolicy {
  threshold: number;
  observationWindowMs: number;
  maxFamiliarAddresses: number;
}

export const EMPTY_ACTIVITY: AccountActivity = { badFamiliar: 0, badUnknown: 0, lastBadFamiliar: 0, lastBadUnknown: 0, familiarAddresses: [] };

/** Familiar only when every address presented (client, forwarded) is one the user signed in from. */
export function locationOf(a: AccountActivity, addresses: string[]): Location {
  return addresses.length > 0 && addresses.every((ip) => a.familiarAddresses.includes(ip)) ? 'familiar' : 'unknown';
}

/** Whether the account is locked for this kind of location right now. */
export function isLocked(a: AccountActivity, where: Location, p: LockoutPolicy, now: number): boolean {
  const [count, last] = where === 'familiar' ? [a.badFamiliar, a.lastBadFamiliar] : [a.badUnknown, a.lastBadUnknown];
  return count >= p.threshold && now - last < p.observationWindowMs;
}

export function afterFailure(a: AccountActivity, where: Location, now: number): AccountActivity {
  return where === 'familiar'
    ? { ...a, badFamiliar: a.badFamiliar + 1, lastBadFamiliar: now }
    : { ...a, badUnknown: a.badUnknown + 1, lastBadUnknown: now };
}

/**
 * A success clears the counter of the kind of location it came from, and makes its addresses familiar.
 * The other counter stays: the user signing in at the office must not give a sprayer fresh attempts.
 */
export function afterSuccess(a: AccountActivity, addresses: string[], where: Location, p: LockoutPolicy): AccountActivity {
  const familiarAddresses = [...a.familiarAddresses.filter((x) => !addresses.includes(x)), ...addresses].slice(-p.maxFamiliarAddresses);
  return where === 'familiar'
    ? { ...a, badFamiliar: 0, lastBadFamiliar: 0, familiarAddresses }
    : { ...a, badUnknown: 0, lastBadUnknown: 0, familiarAddresses };
}

/**
 * The default threshold: half of AD's lockoutThreshold (at least 1), as Microsoft advises, or 5 when AD
 * has no lockout. A configured value must stay below AD's, or AD would lock the account first.
 */
export function effectiveThreshold(configured: number | undefined, adThreshold: number): { threshold: number; problem?: string } {
  if (configured === undefined) return { threshold: adThreshold > 0 ? Math.max(1, Math.floor(adThreshold / 2)) : 5 };
  if (adThreshold > 0 && configured >= adThreshold) {
    return {
      threshold: configured,
      problem: `lockout.threshold: ${configured} is not below AD's lockoutThreshold (${adThreshold}); AD would lock accounts before Gatehouse protects them`,
    };
  }
  return { threshold: configured };
}
