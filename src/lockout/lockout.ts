import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { FastifyBaseLogger } from 'fastify';
import type { DirectoryUser } from '../directory/directory.js';
import type { AccountActivityStore } from './lockout-store.js';
import { lockoutRefusals } from '../metrics/metrics.js';
import { BoundedMap } from '../state/bounded-map.js';
import { locationOf, reserve, settle, type Location, type LockoutMode, type LockoutPolicy, type Outcome } from './smart-lockout.js';

export interface LockoutDecision {
  location: Location;
  /** True when the attempt must not reach AD. */
  refuse: boolean;
  /** The reservation to settle after the bind (absent when refused or when lockout is off). */
  ticket?: string;
}

/**
 * Smart lockout bound to its store, mode and policy. The password check reserves an attempt before the
 * bind (`admit`) and settles it after (`settle`), each in one atomic step of the store.
 */
export class SmartLockout {
  constructor(
    readonly mode: LockoutMode,
    readonly policy: LockoutPolicy,
    private readonly store: AccountActivityStore,
    /** Farm mode while the shared store is unreachable: unknown locations get at most this many bad passwords per server. */
    private readonly fallbackThreshold = 1,
    /** How long an attempt waits for the account's attempts in flight before it is refused (longer than a bind). */
    private readonly busyWaitMs = 10_000,
  ) {}

  private policyFor(fallback: boolean): LockoutPolicy {
    return fallback ? { ...this.policy, threshold: Math.min(this.policy.threshold, this.fallbackThreshold) } : this.policy;
  }

  /** The account each login name typed last stood for (lower case → key), for `prefetch`. */
  private readonly accountOf = new BoundedMap<string, string>(10_000);

  /**
   * Starts reading the counters of the account a login name stood for last time, while the directory is
   * asked who it is now (only a hint: `admit` reserves on the account the directory names).
   */
  prefetch(loginName: string): void {
    if (this.mode === 'off' || !this.store.prefetch) return;
    const account = this.accountOf.get(loginName.toLowerCase());
    if (account) this.store.prefetch(account);
  }

  private key(user: DirectoryUser): string {
    return user.objectGUID.toString('hex');
  }

  private name(user: DirectoryUser): string {
    return user.userPrincipalName ?? user.sAMAccountName;
  }

  /**
   * Reserves the attempt, or refuses it. While only attempts in flight stand in the way ('busy'), waits for
   * them to be settled (at most `busyWaitMs`) and asks again: so concurrent sign-ins of one user are
   * serialised rather than refused, and concurrent wrong passwords still reach AD one budget at a time.
   */
  async admit(user: DirectoryUser, addresses: string[], log: FastifyBaseLogger, loginName?: string): Promise<LockoutDecision> {
    if (this.mode === 'off') return { location: 'unknown', refuse: false };
    if (loginName && this.store.prefetch) this.accountOf.set(loginName.toLowerCase(), this.key(user));
    const deadline = Date.now() + this.busyWaitMs;
    for (let pause = 10; ; pause = Math.min(pause * 2, 200)) {
      const decision = await this.tryAdmit(user, addresses, log, Date.now(), Date.now() >= deadline);
      if (decision) return decision;
      await sleep(pause);
    }
  }

  /** One reservation attempt; undefined when it should be tried again ('busy' before the deadline). */
  private async tryAdmit(user: DirectoryUser, addresses: string[], log: FastifyBaseLogger, now: number, last: boolean): Promise<LockoutDecision | undefined> {
    const ticket = randomUUID();
    const { location, refusal, reserved, fallback, counted } = await this.store.apply(this.key(user), this.name(user), (a, ctx) => {
      const where = locationOf(a, addresses);
      const policy = this.policyFor(ctx.fallback);
      const r = reserve(a, where, policy, user.adCounter, ticket, now);
      const counted = where === 'familiar' ? a.badFamiliar : a.badUnknown;
      if (r.refusal === 'busy' && !last && this.mode === 'enforce') return { next: a, result: { location: where, refusal: r.refusal, reserved: false, fallback: ctx.fallback, counted } };
      // log-only: the attempt goes on, so it is reserved even when it would have been refused.
      if (r.refusal && this.mode === 'log-only') {
        const forced = reserve(a, where, { ...policy, threshold: Infinity, familiarThreshold: Infinity, adThreshold: 0 }, undefined, ticket, now);
        return { next: forced.next, result: { location: where, refusal: r.refusal, reserved: true, fallback: ctx.fallback, counted } };
      }
      return { next: r.next, result: { location: where, refusal: r.refusal, reserved: !r.refusal, fallback: ctx.fallback, counted } };
    }, now);
    if (refusal === 'busy' && !last && this.mode === 'enforce') return undefined;
    if (refusal) {
      lockoutRefusals.inc({ location, reason: refusal, enforced: String(this.mode === 'enforce') });
      log.warn(
        { event: 'extranet_lockout', user: this.name(user), location, addresses, mode: this.mode, enforced: this.mode === 'enforce', reason: refusal, badPasswords: counted, ...(fallback ? { fallback: true } : {}) },
        this.mode === 'enforce' ? 'smart lockout: attempt refused without asking AD' : 'smart lockout (log-only): would refuse this attempt',
      );
    }
    return { location, refuse: Boolean(refusal) && this.mode === 'enforce', ...(reserved ? { ticket } : {}) };
  }

  /**
   * How many accounts are locked out now, per kind of location: the counter at its threshold and the
   * observation window not over since the last bad password (the metric and the activity view).
   */
  async lockedCounts(now = Date.now()): Promise<Record<Location, number>> {
    const counts: Record<Location, number> = { familiar: 0, unknown: 0 };
    if (this.mode === 'off') return counts;
    for (const a of await this.store.list()) {
      if (this.isLocked(a, 'unknown', now)) counts.unknown++;
      if (this.isLocked(a, 'familiar', now)) counts.familiar++;
    }
    return counts;
  }

  /** Whether an account's row shows a kind of location locked now (see lockedCounts). */
  isLocked(a: { badUnknown: number; lastBadUnknown: number; badFamiliar: number; lastBadFamiliar: number }, location: Location, now = Date.now()): boolean {
    return location === 'unknown'
      ? a.badUnknown >= this.policy.threshold && now - a.lastBadUnknown < this.policy.observationWindowMs
      : a.badFamiliar >= this.policy.familiarThreshold && now - a.lastBadFamiliar < this.policy.observationWindowMs;
  }

  async settle(user: DirectoryUser, decision: LockoutDecision, outcome: Outcome, addresses: string[], now = Date.now()): Promise<void> {
    if (this.mode === 'off' || !decision.ticket) return;
    const ticket = decision.ticket;
    await this.store.apply(this.key(user), this.name(user), (a) => ({ next: settle(a, decision.location, ticket, outcome, addresses, this.policy, now), result: undefined }), now);
  }
}
