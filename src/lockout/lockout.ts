import { randomUUID } from 'node:crypto';
import type { FastifyBaseLogger } from 'fastify';
import type { DirectoryUser } from '../directory/directory.js';
import type { AccountActivityStore } from './lockout-store.js';
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
  ) {}

  private policyFor(fallback: boolean): LockoutPolicy {
    return fallback ? { ...this.policy, threshold: Math.min(this.policy.threshold, this.fallbackThreshold) } : this.policy;
  }

  private key(user: DirectoryUser): string {
    return user.objectGUID.toString('hex');
  }

  private name(user: DirectoryUser): string {
    return user.userPrincipalName ?? user.sAMAccountName;
  }

  async admit(user: DirectoryUser, addresses: string[], log: FastifyBaseLogger, now = Date.now()): Promise<LockoutDecision> {
    if (this.mode === 'off') return { location: 'unknown', refuse: false };
    const ticket = randomUUID();
    const { location, refusal, reserved, fallback, counted } = await this.store.apply(this.key(user), this.name(user), (a, ctx) => {
      const where = locationOf(a, addresses);
      const policy = this.policyFor(ctx.fallback);
      const r = reserve(a, where, policy, user.adCounter, ticket, now);
      // log-only: the attempt goes on, so it is reserved even when it would have been refused.
      if (r.refusal && this.mode === 'log-only') {
        const forced = reserve(a, where, { ...policy, threshold: Infinity, familiarThreshold: Infinity, adThreshold: 0 }, undefined, ticket, now);
        return { next: forced.next, result: { location: where, refusal: r.refusal, reserved: true, fallback: ctx.fallback, counted: where === 'familiar' ? a.badFamiliar : a.badUnknown } };
      }
      return { next: r.next, result: { location: where, refusal: r.refusal, reserved: !r.refusal, fallback: ctx.fallback, counted: where === 'familiar' ? a.badFamiliar : a.badUnknown } };
    }, now);
    if (refusal) {
      log.warn(
        { event: 'extranet_lockout', user: this.name(user), location, addresses, mode: this.mode, enforced: this.mode === 'enforce', reason: refusal, badPasswords: counted, ...(fallback ? { fallback: true } : {}) },
        this.mode === 'enforce' ? 'smart lockout: attempt refused without asking AD' : 'smart lockout (log-only): would refuse this attempt',
      );
    }
    return { location, refuse: Boolean(refusal) && this.mode === 'enforce', ...(reserved ? { ticket } : {}) };
  }

  async settle(user: DirectoryUser, decision: LockoutDecision, outcome: Outcome, addresses: string[], now = Date.now()): Promise<void> {
    if (this.mode === 'off' || !decision.ticket) return;
    const ticket = decision.ticket;
    await this.store.apply(this.key(user), this.name(user), (a) => ({ next: settle(a, decision.location, ticket, outcome, addresses, this.policy, now), result: undefined }), now);
  }
}
