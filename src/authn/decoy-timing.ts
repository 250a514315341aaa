import { setTimeout as sleep } from 'node:timers/promises';

export type TimedOperation = 'bind' | 'password-change';

const SAMPLES = 128;

/**
 * Makes the answers that do not reach AD for a real account (an unknown user name, an attempt refused by
 * smart lockout) take as long as those that do. A wrong bind on an existing account costs the DC a password
 * hash check and a write of badPwdCount; on a name that does not exist, almost nothing; so without this the
 * response time tells which user names exist. The durations of real checks are kept (the last 128 per kind
 * of operation), and a decoy answer waits until a duration drawn from them has passed: the two
 * distributions are then the same, whatever the DC, its load or the network.
 */
export class DecoyTiming {
  private readonly samples = new Map<TimedOperation, number[]>();
  private readonly next = new Map<TimedOperation, number>();

  /** A real check of `op` took `ms` (from the start of the attempt to AD's answer). */
  record(op: TimedOperation, ms: number): void {
    const list = this.samples.get(op) ?? [];
    if (list.length < SAMPLES) list.push(ms);
    else {
      const i = this.next.get(op) ?? 0;
      list[i] = ms;
      this.next.set(op, (i + 1) % SAMPLES);
    }
    this.samples.set(op, list);
  }

  /** Waits until a duration drawn from the real checks of `op` has passed since `startedAt` (performance.now()). */
  async pad(op: TimedOperation, startedAt: number): Promise<void> {
    const list = this.samples.get(op);
    if (!list?.length) return;
    const target = list[Math.floor(Math.random() * list.length)]!;
    const wait = target - (performance.now() - startedAt);
    if (wait > 0.5) await sleep(wait);
  }
}
