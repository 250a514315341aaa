import { existsSync, readFileSync, renameSync, unlinkSync } from 'node:fs';
import type { Logger } from 'pino';
import { type Config, type SigningConfig, siblingFile } from '../config/load.js';
import { ConfigError } from '../errors.js';
import { createSelfSignedCertificate, writePublicFile, writeSecretFile } from './generate.js';
import { loadSigningKey, type SigningKey } from './keystore.js';
import type { SigningKeyRing } from './keyring.js';

const DAY = 86_400_000;
type Log = Pick<Logger, 'info' | 'warn' | 'error'>;

export interface KeyFiles {
  cert: string;
  key: string;
}

/** The three pairs of a rollover: current (signs), next (published), previous (kept for a rollback). */
export function rolloverFiles(s: SigningConfig): { current: KeyFiles; next: KeyFiles; previous: KeyFiles } {
  return {
    current: { cert: s.certFile, key: s.keyFile },
    next: { cert: s.nextCertFile, key: s.nextKeyFile },
    previous: { cert: siblingFile(s.certFile, 'previous'), key: siblingFile(s.keyFile, 'previous') },
  };
}

export function loadCurrentKey(s: SigningConfig): SigningKey {
  return loadSigningKey(s.certFile, s.keyFile);
}

/** The next certificate, when `certs rollover` made one; a half-present pair is an error. */
export function loadNextKey(s: SigningConfig): SigningKey | undefined {
  const cert = existsSync(s.nextCertFile);
  const key = existsSync(s.nextKeyFile);
  if (!cert && !key) return undefined;
  if (!cert || !key) {
    const [have, missing] = cert ? [s.nextCertFile, 'signing.nextKeyFile'] : [s.nextKeyFile, 'signing.nextCertFile'];
    throw new ConfigError(`${missing}: missing, but ${have} exists; run "gatehouse certs rollover --force" to make a new next certificate`);
  }
  return loadSigningKey(s.nextCertFile, s.nextKeyFile, {
    cert: 'signing.nextCertFile',
    key: 'signing.nextKeyFile',
    hint: 'run "gatehouse certs rollover --force"',
  });
}

/** Whole days from `now` to `date` (negative once past). */
export function daysUntil(date: Date, now: Date): number {
  return Math.floor((date.getTime() - now.getTime()) / DAY);
}

/** The subject CN of a certificate (what the next one is named after). */
function commonName(key: SigningKey): string | undefined {
  return /(?:^|\n)CN=([^\n]+)/.exec(key.certificate.subject)?.[1];
}

/** The validity of a new certificate: the current one's, and at least a year (no rollover every few days). */
export function defaultNextDays(current: SigningKey): number {
  const lifetime = Math.round((current.notAfter.getTime() - current.notBefore.getTime()) / DAY);
  return Math.min(3650, Math.max(365, lifetime));
}

export interface CreateNextOptions {
  /** Default: defaultNextDays(current). */
  days?: number;
  /** Default: the current key's size. */
  bits?: number;
  /** Default: the current certificate's CN. */
  cn?: string;
  force?: boolean;
  now?: Date;
}

/** Makes the next token-signing certificate beside the current one; refuses to replace one unless `force`. */
export function createNextCertificate(s: SigningConfig, opts: CreateNextOptions = {}): SigningKey {
  const current = loadCurrentKey(s);
  if (!opts.force) {
    for (const f of [s.nextCertFile, s.nextKeyFile]) {
      if (existsSync(f)) throw new Error(`${f} already exists: a next certificate is waiting to be promoted ("gatehouse certs promote"), or use --force to replace it`);
    }
  }
  const { certPem, keyPem } = createSelfSignedCertificate({
    commonName: opts.cn ?? commonName(current) ?? 'gatehouse',
    bits: opts.bits ?? current.privateKey.asymmetricKeyDetails?.modulusLength ?? 2048,
    days: opts.days ?? defaultNextDays(current),
    ...(opts.now ? { now: opts.now } : {}),
  });
  writeSecretFile(s.nextKeyFile, keyPem, true);
  writePublicFile(s.nextCertFile, certPem, true);
  return loadNextKey(s)!;
}

/** Writes `content` next to `file` and renames it over `file` (a reader never sees half a file). */
function replaceFile(file: string, content: string, secret: boolean): void {
  const tmp = `${file}.tmp-${process.pid}`;
  (secret ? writeSecretFile : writePublicFile)(tmp, content, true);
  renameSync(tmp, file);
}

/**
 * Makes the next certificate the current one: the current pair is kept as *-previous (for a rollback),
 * the next pair replaces it, and the next files are removed. The next pair is checked first.
 */
export function promoteNextCertificate(s: SigningConfig): { current: SigningKey; previous?: KeyFiles } {
  const next = loadNextKey(s);
  if (!next) throw new Error(`no next certificate at ${s.nextCertFile}: run "gatehouse certs rollover" first`);
  const files = rolloverFiles(s);
  let previous: KeyFiles | undefined;
  if (existsSync(s.certFile) && existsSync(s.keyFile)) {
    writeSecretFile(files.previous.key, readFileSync(s.keyFile, 'utf8'), true);
    writePublicFile(files.previous.cert, readFileSync(s.certFile, 'utf8'), true);
    previous = files.previous;
  }
  const nextCert = readFileSync(s.nextCertFile, 'utf8');
  const nextKey = readFileSync(s.nextKeyFile, 'utf8');
  replaceFile(s.keyFile, nextKey, true);
  replaceFile(s.certFile, nextCert, false);
  unlinkSync(s.nextCertFile);
  unlinkSync(s.nextKeyFile);
  return { current: loadCurrentKey(s), ...(previous ? { previous } : {}) };
}

const brief = (k: SigningKey) => ({ thumbprint: k.thumbprint, notAfter: k.notAfter.toISOString() });

/**
 * Re-reads the current and next certificates from disk and puts them in use when they changed (after
 * `certs rollover` or `certs promote`, on SIGHUP or the daily check). On any error the keys in use stay.
 */
export function reloadSigningKeys(s: SigningConfig, ring: SigningKeyRing, log: Log): boolean {
  let current: SigningKey;
  let next: SigningKey | undefined;
  try {
    current = loadCurrentKey(s);
    next = loadNextKey(s);
  } catch (err) {
    log.error({ detail: (err as Error).message }, 'token-signing certificates: cannot reload them from disk; still using the ones loaded before');
    return false;
  }
  if (next && next.thumbprint === current.thumbprint) next = undefined;
  if (!ring.differs(current, next)) return false;
  const before = { current: brief(ring.current), next: ring.next ? brief(ring.next) : null };
  ring.replace(current, next);
  log.warn({ before, now: { current: brief(current), next: next ? brief(next) : null } }, 'token-signing certificates reloaded from disk');
  return true;
}

export interface MonitorOptions {
  config: Pick<Config, 'signing'>;
  ring: SigningKeyRing;
  log: Log;
  /** The clock (tests move it instead of sleeping). */
  now?: () => Date;
  /**
   * Whether this process may generate and promote certificates (automatic rollover). In a cluster only
   * the first worker does; the others re-read the files at their daily check.
   */
  manageRollover?: boolean | (() => boolean);
  /** Called after automatic rollover made (with its promotion date) or promoted a certificate: a farm publishes it. */
  onRollover?: (promoteAt: Date | undefined) => void;
}

/**
 * The server's daily look at its token-signing certificates: reload them from disk, run automatic
 * rollover when enabled (make the next certificate generateDaysBefore days before expiry, promote it
 * promoteDaysAfter days after it was made, judged by its NotBefore), and warn loudly near expiry.
 */
export class CertificateMonitor {
  private readonly now: () => Date;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly opts: MonitorOptions) {
    this.now = opts.now ?? (() => new Date());
  }

  /** When automatic rollover promotes `next` (5 minutes of NotBefore slack added back). */
  promotionDate(next: SigningKey): Date {
    return new Date(next.notBefore.getTime() + 5 * 60_000 + this.opts.config.signing.autoRollover.promoteDaysAfter * DAY);
  }

  /** One check; never throws (a failure is logged and retried on the next check). */
  check(): void {
    const { ring, log } = this.opts;
    const s = this.opts.config.signing;
    const m = this.opts.manageRollover;
    const auto = { ...s.autoRollover, enabled: s.autoRollover.enabled && (typeof m === 'function' ? m() : m !== false) };
    reloadSigningKeys(s, ring, log);
    const now = this.now();
    try {
      if (auto.enabled && !ring.next && ring.current.notAfter.getTime() - now.getTime() <= auto.generateDaysBefore * DAY) {
        const next = createNextCertificate(s, { now, force: true });
        ring.replace(ring.current, next);
        this.opts.onRollover?.(this.promotionDate(next));
        log.warn(
          { next: brief(next), current: brief(ring.current), promoteOn: this.promotionDate(next).toISOString() },
          'automatic rollover: made the next token-signing certificate; the federation metadata now publishes it beside the current one',
        );
      } else if (auto.enabled && ring.next && (now >= this.promotionDate(ring.next) || now >= ring.current.notAfter)) {
        const old = ring.current;
        const { current } = promoteNextCertificate(s);
        ring.replace(current, undefined);
        this.opts.onRollover?.(undefined);
        log.warn(
          { current: brief(current), previous: brief(old) },
          'automatic rollover: tokens are now signed with the next certificate (the old one is kept as -previous)',
        );
      }
    } catch (err) {
      log.error({ detail: (err as Error).message }, 'automatic rollover failed; it is tried again at the next daily check');
    }
    this.warnIfExpiring(now);
  }

  private warnIfExpiring(now: Date): void {
    const { ring, log } = this.opts;
    const s = this.opts.config.signing;
    const current = ring.current;
    const daysLeft = daysUntil(current.notAfter, now);
    if (daysLeft >= s.warnDaysBefore) return;
    let todo: string;
    if (ring.next) {
      todo = s.autoRollover.enabled
        ? `the next certificate ${ring.next.thumbprint} is published and will sign from ${this.promotionDate(ring.next).toISOString()}`
        : `the next certificate ${ring.next.thumbprint} is published; check that Microsoft 365 has it ("gatehouse tenant-setup --check"), then run "gatehouse certs promote" and restart`;
    } else if (s.autoRollover.enabled) {
      todo = `automatic rollover makes the next certificate ${s.autoRollover.generateDaysBefore} days before expiry`;
    } else {
      todo = 'run "gatehouse certs rollover", let Microsoft 365 learn it (metadata, or "gatehouse tenant-setup --apply"), then "gatehouse certs promote"';
    }
    const fields = { thumbprint: current.thumbprint, notAfter: current.notAfter.toISOString(), daysLeft, next: ring.next ? brief(ring.next) : null, todo };
    if (daysLeft < 0) log.error(fields, 'TOKEN-SIGNING CERTIFICATE HAS EXPIRED: Microsoft 365 may refuse every sign-in');
    else if (daysLeft <= 7) log.error(fields, `TOKEN-SIGNING CERTIFICATE EXPIRES IN ${daysLeft} DAYS`);
    else log.warn(fields, `TOKEN-SIGNING CERTIFICATE EXPIRES IN ${daysLeft} DAYS`);
  }

  /** Checks now, then every `everyMs` (a day); the timer does not keep the process alive. */
  start(everyMs = DAY): void {
    this.check();
    this.timer = setInterval(() => this.check(), everyMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}
