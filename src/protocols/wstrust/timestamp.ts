import { WsTrustFault } from './faults.js';

/** How far apart our clock and the client's may be (WCF's and ADFS's default MaxClockSkew). */
export const CLOCK_SKEW_MS = 5 * 60_000;
/**
 * The oldest message accepted, whatever its Expires says: a captured request cannot be replayed for
 * longer than this. MSAL stamps Expires = Created + 10 minutes.
 */
export const MAX_MESSAGE_AGE_MS = 15 * 60_000;

// xs:dateTime with an explicit zone; a time without one could mean anything.
const DATE_TIME = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

export function parseDateTime(value: string, what: string): Date {
  const m = DATE_TIME.exec(value);
  // Date.parse is only specified for up to 3 fractional digits; .NET writes 7.
  const ms = m ? Date.parse(`${m[1]}${(m[2] ?? '').slice(0, 4)}${m[3]}`) : NaN;
  if (Number.isNaN(ms)) throw new WsTrustFault('InvalidRequest', `${what} is not an xs:dateTime with a time zone`);
  return new Date(ms);
}

/**
 * The WS-Security timestamp rules: created no later than now (give or take the skew), not yet expired
 * (same skew), Expires after Created, and not older than MAX_MESSAGE_AGE_MS.
 */
export function checkTimestamp(created: Date, expires: Date, now = Date.now()): void {
  if (expires.getTime() <= created.getTime()) throw new WsTrustFault('InvalidRequest', 'timestamp expires before it is created');
  if (created.getTime() > now + CLOCK_SKEW_MS) throw new WsTrustFault('InvalidRequest', 'timestamp created in the future');
  if (expires.getTime() < now - CLOCK_SKEW_MS) throw new WsTrustFault('InvalidRequest', 'timestamp expired');
  if (created.getTime() < now - MAX_MESSAGE_AGE_MS - CLOCK_SKEW_MS) throw new WsTrustFault('InvalidRequest', 'timestamp too old');
}
