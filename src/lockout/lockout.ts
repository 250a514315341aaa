import type { FastifyBaseLogger } from 'fastify';
import type { DirectoryUser } from '../directory/directory.js';
import type { LockoutStore } from './lockout-store.js';
import {
  afterFailure, afterSuccess, isLocked, locationOf, type Location, type LockoutMode, type LockoutPolicy,
} from './smart-lockout.js';

export interface LockoutDecision {
  location: Location;
  /** True when the attempt must not reach AD. */
  refuse: boolean;
}

/** Smart lockout bound to its store, mode and policy; the password check calls it around each bind. */
export class SmartLockout {
  constructor(
    readonly mode: LockoutMode,
    readonly policy: LockoutPolicy,
    private readonly store: LockoutStore,
  ) {}

  private key(user: DirectoryUser): string {
    return user.objectGUID.toString('hex');
  }

  private name(user: DirectoryUser): string {
    return user.userPrincipalName ?? user.sAMAccountName;
  }

  check(user: DirectoryUser, addresses: string[], log: FastifyBaseLogger, now = Date.now()): LockoutDecision {
    if (this.mode === 'off') return { location: 'unknown', refuse: false };
    const activity = this.store.get(this.key(user));
    const location = locationOf(activity, addresses);
    const locked = isLocked(activity, location, this.policy, now);
    if (locked) {
      log.warn(
        { event: 'extranet_lockout', user: this.name(user), location, addresses, mode: this.mode, enforced: this.mode === 'enforce' },
        this.mode === 'enforce' ? 'smart lockout: attempt refused without asking AD' : 'smart lockout (log-only): would refuse this attempt',
      );
    }
    return { location, refuse: locked && this.mode === 'enforce' };
  }

  failed(user: DirectoryUser, location: Location, now = Date.now()): void {
    if (this.mode === 'off') return;
    this.store.update(this.key(user), this.name(user), (a) => afterFailure(a, location, now), now);
  }

  succeeded(user: DirectoryUser, addresses: string[], location: Location): void {
    if (this.mode === 'off') return;
    this.store.update(this.key(user), this.name(user), (a) => afterSuccess(a, addresses, location, this.policy));
  }
}
