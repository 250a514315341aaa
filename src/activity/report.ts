import type { AccountActivityRow } from '../lockout/lockout-store.js';
import type { ActivityEvent, ActivityStore, SpraySource } from './events.js';

/** The spray report's window: bad passwords of the last hour, as ADFS's risky IP report. */
export const SPRAY_WINDOW_MS = 60 * 60_000;

export interface ActivityReport {
  /** Most recent first. */
  events: ActivityEvent[];
  /** Accounts with bad-password counters (smart lockout's state), most recently changed first. */
  lockouts: AccountActivityRow[];
  spray: SpraySource[];
  since: number;
}

/**
 * What the CLI and the page show: recent events (of one user, or everyone), the smart-lockout counters,
 * and the top sources of bad passwords in the last hour.
 */
export async function activityReport(
  stores: { activity: ActivityStore; lockout: { list(user?: string): AccountActivityRow[] | Promise<AccountActivityRow[]> } },
  opts: { user?: string | undefined; limit?: number; now?: number },
): Promise<ActivityReport> {
  const now = opts.now ?? Date.now();
  const since = now - SPRAY_WINDOW_MS;
  const [events, rows, spray] = await Promise.all([
    stores.activity.recent({ user: opts.user, limit: opts.limit ?? 50 }),
    stores.lockout.list(opts.user),
    stores.activity.spray({ since, limit: 20 }),
  ]);
  // The most recently changed first (the store's order); a spray against many accounts shows its latest 100.
  const lockouts = rows.filter((r) => r.badUnknown > 0 || r.badFamiliar > 0 || opts.user !== undefined).slice(0, 100);
  return { events, lockouts, spray, since };
}
