import { ResultCodeError } from 'ldapts';
import type { Logger } from 'pino';
import { GatehouseError } from '../errors.js';
import { dcUp, ldapDuration, ldapErrors } from '../metrics/metrics.js';

/** The operation label of the LDAP metrics, from what a failover loop does. */
const OPERATIONS: Record<string, string> = { 'user bind': 'bind', 'password change': 'password_change', 'service account bind': 'service_bind' };

/** One LDAP operation on `dc` for the metrics: its time, and whether the DC failed to give a usable answer. */
export function observeLdap(dc: string, operation: string, startedMs: number, err?: unknown): void {
  ldapDuration.observe({ dc, operation }, (performance.now() - startedMs) / 1000);
  if (err === undefined) return;
  if (!dcAnswered(err) && !(err instanceof GatehouseError && err.code !== 'GH_DIRECTORY_UNAVAILABLE')) ldapErrors.inc({ dc, operation });
}

/** True when the DC answered (an LDAP result code), as opposed to not answering at all. */
export function dcAnswered(err: unknown): boolean {
  return err instanceof ResultCodeError || (err instanceof GatehouseError && err.cause instanceof ResultCodeError);
}

export interface FailoverAttempt<T> {
  /** What is being done, for the log. */
  what: string;
  /** The operation against one DC. */
  attempt: (url: string) => Promise<T>;
  /** Errors that end the whole operation at once (the DC answered for good: a wrong password). */
  isFinal?: (err: unknown) => boolean;
  /** How one DC's failure reads in the error's detail; default the error's message. */
  describe?: (err: unknown) => string;
}

/**
 * The domain controllers of `directory.urls` and which to try first: the one that answered last, and the
 * ones that did not answer recently (for `retryDownAfterSeconds`) last. `run` is the one loop that tries an
 * operation on each DC in turn.
 */
export class DcFailover {
  private preferred = 0;
  /** DCs that did not answer, and until when they are tried last. */
  private readonly downUntil = new Map<string, number>();

  constructor(
    readonly urls: readonly string[],
    private readonly retryDownAfterSeconds: number,
    private readonly log: Logger,
  ) {}

  /** DCs in the order to try them: the last good one first, the ones that recently failed last. */
  order(now = Date.now()): string[] {
    const urls = this.urls;
    const rotated = urls.map((_, i) => urls[(this.preferred + i) % urls.length]!);
    const isDown = (u: string) => (this.downUntil.get(u) ?? 0) > now;
    return [...rotated.filter((u) => !isDown(u)), ...rotated.filter(isDown)];
  }

  /** When each DC last answered or failed to (ms), for the DC-up metric. */
  readonly lastSeen = new Map<string, number>();

  /** `url` answered: try it first from now on. */
  succeeded(url: string): void {
    this.preferred = Math.max(0, this.urls.indexOf(url));
    this.downUntil.delete(url);
    this.seen(url, true);
  }

  /** `url` failed with `err`: a DC that did not answer at all is tried last for a while. */
  failed(url: string, err: unknown): void {
    const answered = dcAnswered(err);
    if (!answered) this.downUntil.set(url, Date.now() + this.retryDownAfterSeconds * 1000);
    this.seen(url, answered);
  }

  /** The DC answered (up) or did not (down), as the dc_up metric shows it. */
  seen(url: string, up: boolean): void {
    this.lastSeen.set(url, Date.now());
    dcUp.set({ dc: url }, up ? 1 : 0);
  }

  /** Start with the DC after `url` next time. */
  skip(url: string): void {
    this.preferred = (this.urls.indexOf(url) + 1) % this.urls.length;
  }

  /**
   * Runs the operation on each DC in order until one succeeds; a final error is thrown at once.
   * @throws GH_DIRECTORY_UNAVAILABLE naming every DC and why it failed, or the final error
   */
  async run<T>({ what, attempt, isFinal = () => false, describe = (err) => (err as Error).message }: FailoverAttempt<T>): Promise<T> {
    const errors: string[] = [];
    let last: unknown;
    const operation = OPERATIONS[what] ?? 'other';
    for (const url of this.order()) {
      const started = performance.now();
      try {
        const result = await attempt(url);
        observeLdap(url, operation, started);
        this.succeeded(url);
        return result;
      } catch (err) {
        observeLdap(url, operation, started, err);
        if (isFinal(err)) {
          // A final answer (a wrong password) is the DC answering.
          this.seen(url, true);
          throw err;
        }
        this.failed(url, err);
        last = err;
        errors.push(`${url}: ${describe(err)}`);
        this.log.warn({ dc: url, err: (err as Error).message }, `directory: ${what} failed on this DC`);
      }
    }
    throw new GatehouseError('GH_DIRECTORY_UNAVAILABLE', { detail: errors.join('; '), cause: last });
  }
}
