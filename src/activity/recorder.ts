import { activityDropped } from '../metrics/metrics.js';
import type { ActivityEvent, ActivityStore } from './events.js';

/** Events waiting for the store beyond this are dropped (and counted): a slow store never grows memory. */
const MAX_QUEUED = 10_000;
const FLUSH_MS = 200;
const PURGE_EVERY_MS = 10 * 60_000;

type Log = { warn(obj: object, msg: string): void };

/**
 * Keeps the audit events for the activity view. `record` only queues the event (no I/O on the sign-in's
 * path); the queue is written to the store in one batch a moment later, and events older than the
 * retention are purged now and then. A store that fails loses those events from the view, never a
 * sign-in: they are still in the log, and gatehouse_activity_events_dropped_total counts them.
 */
export class ActivityRecorder {
  private queue: ActivityEvent[] = [];
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();
  private lastPurge = 0;
  private warned = false;

  constructor(
    readonly store: ActivityStore,
    private readonly retentionMs: number,
    private readonly log: Log,
  ) {}

  get enabled(): boolean {
    return this.retentionMs > 0;
  }

  record(event: ActivityEvent): void {
    if (!this.enabled) return;
    if (this.queue.length >= MAX_QUEUED) {
      activityDropped.inc();
      return;
    }
    this.queue.push(event);
    this.timer ??= setTimeout(() => void this.flush(), FLUSH_MS);
    this.timer.unref?.();
  }

  /** Writes what is queued (tests and shutdown call it to be sure the store has everything). */
  flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const batch = this.queue;
    this.queue = [];
    this.flushing = this.flushing.then(() => this.write(batch));
    return this.flushing;
  }

  private async write(batch: ActivityEvent[]): Promise<void> {
    try {
      if (batch.length) await this.store.add(batch);
      const now = Date.now();
      if (now - this.lastPurge > PURGE_EVERY_MS) {
        this.lastPurge = now;
        await this.store.purge(now - this.retentionMs);
      }
      this.warned = false;
    } catch (err) {
      activityDropped.inc(batch.length);
      // Once per run of failures: the store being away must not flood the log.
      if (!this.warned) this.log.warn({ event: 'activity_store', dropped: batch.length, err: (err as Error).message }, 'activity view: events could not be stored (they are in this log)');
      this.warned = true;
    }
  }
}
