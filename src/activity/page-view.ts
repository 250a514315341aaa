import type { PageText } from '../http/pages.js';
import type { ActivityReport } from './report.js';
import type { ActivityEvent } from './events.js';

/**
 * What the activity page (views/activity.eta) shows of a report, in the page's language: event kinds,
 * outcomes, reasons and protocols from the catalogue (`activity.*`), times and counts formatted with Intl
 * for that language. The codes stay beside the words (GH_AUTHN_FAILED), as the log has them, so the help
 * desk can search the log for what the page shows.
 */

/** The catalogue's key suffix per event kind and protocol (activity.kind.*, activity.protocol.*). */
const KINDS: Record<ActivityEvent['kind'], string> = {
  signin_attempt: 'signinAttempt',
  password_change: 'passwordChange',
  token_issued: 'tokenIssued',
  lockout_reset: 'lockoutReset',
};
const PROTOCOLS: Record<string, string> = {
  wsfed: 'wsfed',
  saml2: 'saml2',
  'ws-trust': 'wsTrust',
  'ws-trust-1.3': 'wsTrust13',
  'ws-trust-2005': 'wsTrust2005',
  portal: 'portal',
  'activity-page': 'activityPage',
  cli: 'cli',
};
/** Refusal reasons with a short label of their own; any other code shows as "Refused" and its code. */
export const LABELLED_REASONS = [
  'GH_AUTHN_FAILED',
  'GH_EXTRANET_LOCKOUT',
  'GH_PASSWORD_EMPTY',
  'GH_ACCOUNT_DISABLED',
  'GH_ACCOUNT_LOCKED',
  'GH_ACCOUNT_EXPIRED',
  'GH_PASSWORD_EXPIRED',
  'GH_PASSWORD_MUST_CHANGE',
  'GH_LOGON_HOURS',
  'GH_LOGON_WORKSTATION',
  'GH_PASSWORD_REJECTED',
  'GH_PASSWORD_MISMATCH',
  'GH_LOGIN_AMBIGUOUS',
  'GH_RATE_LIMITED',
  'GH_DIRECTORY_UNAVAILABLE',
] as const;
const LABELLED = new Set<string>(LABELLED_REASONS);

/** A time as the page shows it (UTC, the page's language) with its machine form for `<time datetime>`. */
export interface ShownTime {
  text: string;
  iso: string;
}

export interface ActivityView {
  events: {
    when: ShownTime;
    user: string;
    noAccount: boolean;
    kind: string;
    /** "Succeeded", or the reason's label. */
    result: string;
    /** The refusal's code, shown beside its label. */
    code: string | undefined;
    realm: string | undefined;
    protocol: string | undefined;
    source: string;
    correlationId: string;
  }[];
  lockouts: { user: string; badUnknown: string; badFamiliar: string; lastBad: ShownTime | undefined; locked: string }[];
  spray: { address: string; failures: string; users: string; first: ShownTime; last: ShownTime }[];
}

/** Whether a lockout row is locked now at unknown and at familiar locations (smart lockout's own check). */
export type LockedCheck = (row: ActivityReport['lockouts'][number]) => { unknown: boolean; familiar: boolean };

export function activityView(report: ActivityReport, text: Pick<PageText, 'locale' | 't'>, locked: LockedCheck): ActivityView {
  const { t, locale } = text;
  const dates = new Intl.DateTimeFormat(locale, { dateStyle: 'short', timeStyle: 'medium', timeZone: 'UTC' });
  const numbers = new Intl.NumberFormat(locale);
  const time = (ms: number): ShownTime => ({ text: dates.format(ms), iso: new Date(ms).toISOString().replace('.000Z', 'Z') });
  const count = (n: number) => numbers.format(n);
  const label = (prefix: string, map: Record<string, string>, value: string) => (map[value] ? t(`${prefix}.${map[value]}`) : value);

  return {
    events: report.events.map((e) => ({
      when: time(e.time),
      user: e.user,
      noAccount: Boolean(e.noAccount),
      kind: label('activity.kind', KINDS, e.kind),
      result: e.outcome === 'success' ? t('activity.outcome.success') : e.reason && LABELLED.has(e.reason) ? t(`activity.reason.${e.reason}`) : t('activity.outcome.failure'),
      code: e.outcome === 'success' ? undefined : e.reason,
      realm: e.realm,
      protocol: e.protocol ? label('activity.protocol', PROTOCOLS, e.protocol) : undefined,
      source: e.addresses.join(', '),
      correlationId: e.correlationId ?? '',
    })),
    lockouts: report.lockouts.map((r) => {
      const now = locked(r);
      const last = Math.max(r.lastBadUnknown, r.lastBadFamiliar);
      return {
        user: r.userName,
        badUnknown: count(r.badUnknown),
        badFamiliar: count(r.badFamiliar),
        lastBad: last ? time(last) : undefined,
        locked: t(now.unknown && now.familiar ? 'activity.lockedBoth' : now.unknown ? 'activity.lockedUnknown' : now.familiar ? 'activity.lockedFamiliar' : 'activity.lockedNo'),
      };
    }),
    spray: report.spray.map((s) => ({ address: s.address, failures: count(s.failures), users: count(s.users), first: time(s.first), last: time(s.last) })),
  };
}
