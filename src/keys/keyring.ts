import type { SigningKey } from './keystore.js';

interface RingState {
  current: SigningKey;
  next: SigningKey | undefined;
  /** Bumped on every change: the metadata is re-signed when it moves. */
  version: number;
}

/**
 * The token-signing keys in use: `current` signs every token and the metadata; `next` (after
 * `certs rollover`) is only published, so Microsoft learns it before it signs anything. Replacing the pair
 * is a single assignment, so a request sees either the old pair or the new one, never a mix.
 */
export class SigningKeyRing {
  private state: RingState;

  constructor(current: SigningKey, next?: SigningKey) {
    this.state = { current, next, version: 1 };
  }

  get current(): SigningKey {
    return this.state.current;
  }

  get next(): SigningKey | undefined {
    return this.state.next;
  }

  get version(): number {
    return this.state.version;
  }

  /** The certificates the metadata lists: the current one first, then the next one. */
  published(): SigningKey[] {
    const { current, next } = this.state;
    return next ? [current, next] : [current];
  }

  /** Whether `current`/`next` differ from the ones in use (by thumbprint). */
  differs(current: SigningKey, next: SigningKey | undefined): boolean {
    return current.thumbprint !== this.state.current.thumbprint || next?.thumbprint !== this.state.next?.thumbprint;
  }

  replace(current: SigningKey, next: SigningKey | undefined): void {
    this.state = { current, next, version: this.state.version + 1 };
  }
}
