import { syncCycleDuration, syncFailures, syncLastSuccess, syncThrottled, syncUsersWritten } from '../metrics/metrics.js';
import type { CycleSummary } from './cycle.js';

/**
 * One sync cycle in the metrics (`gatehouse sync` serves them at metrics.syncListen): its duration and
 * result, the users written, Graph's 429s, and when a cycle last finished without error. A dry run
 * writes nothing and is not counted.
 */
export function observeSyncCycle(summary: CycleSummary | undefined, opts: { kind: 'full' | 'incremental'; durationMs: number }): void {
  const kind = summary?.kind ?? opts.kind;
  if (summary?.outcome === 'planned') return;
  const ok = summary !== undefined && (summary.outcome === 'success' || summary.outcome === 'interrupted');
  syncCycleDuration.observe({ kind, result: ok ? 'ok' : 'failed' }, (summary?.durationMs ?? opts.durationMs) / 1000);
  if (!summary) {
    syncFailures.inc({ kind: 'cycle' });
    return;
  }
  for (const action of ['created', 'updated', 'disabled', 'deleted'] as const) if (summary[action]) syncUsersWritten.inc({ action }, summary[action]);
  if (summary.errors) syncFailures.inc({ kind: 'user' }, summary.errors);
  if (summary.outcome !== 'success' && summary.outcome !== 'interrupted') syncFailures.inc({ kind: 'cycle' });
  if (summary.throttled) syncThrottled.inc(summary.throttled);
  if (summary.outcome === 'success') syncLastSuccess.set(Date.now() / 1000);
}
