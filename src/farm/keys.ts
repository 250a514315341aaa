import { existsSync, readFileSync, unlinkSync } from 'node:fs';
import type { Logger } from 'pino';
import type { SigningConfig } from '../config/load.js';
import { writePublicFile, writeSecretFile } from '../keys/generate.js';
import type { SigningKeyRing } from '../keys/keyring.js';
import { loadSessionKeys, type SigningKey } from '../keys/keystore.js';
import { loadCurrentKey, loadNextKey } from '../keys/rollover.js';
import type { SecretRing } from '../crypto/sealed.js';
import type { RedisState } from '../state/redis.js';
import { seal, unseal, type Sealed } from './farm-key.js';

type Log = Pick<Logger, 'info' | 'warn' | 'error'>;

interface SealedPair {
  /** PEM certificate (public). */
  cert: string;
  /** The private key (PKCS#8 PEM), sealed with the farm key; bound to the certificate's thumbprint. */
  key: Sealed;
  thumbprint: string;
}

/** What the farm shares under `<prefix>keys`: never a private key in the clear. */
export interface KeyRecord {
  current: SealedPair;
  next?: SealedPair;
  /** ms since epoch: from then on every server signs with `next` (the same moment on every server). */
  promoteAt?: number;
  /** The session keys (cookie sealing), first one seals new cookies. */
  session: Sealed[];
  /** Who wrote it and when, for the log. */
  by: string;
  at: number;
}

const pem = (k: SigningKey) => k.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;

/**
 * Token-signing and session keys shared through Redis, sealed with the farm key (AES-256-GCM, a file every
 * server has; see docs/farm.md). The first server of a farm publishes its key files; a server joining
 * later, or coming back after a rollover, takes the farm's keys and writes them to its own key files (so
 * it also starts with them when Redis is down). Every server re-reads the record every few seconds; the
 * leader publishes a new record when automatic rollover makes or promotes a certificate. The record says
 * when the next certificate signs (`promoteAt`), and every server switches at that moment by itself.
 */
export class FarmKeys {
  private timer: NodeJS.Timeout | undefined;
  private promoteTimer: NodeJS.Timeout | undefined;
  private seen = '';

  constructor(
    private readonly redis: RedisState,
    private readonly farmKey: Buffer,
    private readonly signing: SigningConfig,
    private readonly sessionKeyFile: string,
    private readonly log: Log,
    private readonly now: () => number = Date.now,
  ) {}

  private get recordKey(): string {
    return this.redis.key('keys');
  }

  private sealPair(k: SigningKey): SealedPair {
    return { cert: k.certPem, key: seal(this.farmKey, pem(k), `signing:${k.thumbprint}`), thumbprint: k.thumbprint };
  }

  private sealSession(keys: Buffer[]): Sealed[] {
    return keys.map((k, i) => seal(this.farmKey, k.toString('base64'), `session:${i}`));
  }

  private unsealSession(rec: KeyRecord): Buffer[] {
    return rec.session.map((s, i) => Buffer.from(unseal(this.farmKey, s, `session:${i}`), 'base64'));
  }

  /** Writes a shared pair to key files (the private key only after checking it opens). */
  private writePair(p: SealedPair, files: { cert: string; key: string }): void {
    const key = unseal(this.farmKey, p.key, `signing:${p.thumbprint}`);
    writeSecretFile(files.key, key, true);
    writePublicFile(files.cert, p.cert, true);
  }

  /** Reads the farm's record; undefined when there is none yet. */
  async read(): Promise<KeyRecord | undefined> {
    const raw = await this.redis.client.get(this.recordKey);
    return raw ? (JSON.parse(raw) as KeyRecord) : undefined;
  }

  /**
   * At start-up: takes the farm's keys into the local files, or publishes the local ones when the farm has
   * none yet (the first server). Returns the session keys to use. Redis unreachable: the local files.
   */
  async join(): Promise<void> {
    // A new server has no key files to fall back on: it waits for Redis (a slow start, not an outage).
    for (let waited = 0; !this.redis.ok && !existsSync(this.signing.certFile) && waited < 30_000; waited += 100) {
      await new Promise((r) => setTimeout(r, 100));
    }
    if (!this.redis.ok) {
      this.log.error({ event: 'farm_keys' }, 'farm keys: Redis is unreachable at start-up; using the key files on this server');
      return;
    }
    let rec = await this.read();
    // No record yet and no key files here: another server of the farm is starting too and will publish.
    for (let waited = 0; !rec && !existsSync(this.signing.certFile) && waited < 30_000; waited += 200) {
      if (waited === 0) this.log.warn({ event: 'farm_keys' }, 'farm keys: this server has no key files and the farm has none yet; waiting up to 30 s for another server to publish them');
      await new Promise((r) => setTimeout(r, 200));
      rec = await this.read();
    }
    if (!rec) {
      const current = loadCurrentKey(this.signing);
      const next = loadNextKey(this.signing);
      const session = this.sealSession(loadSessionKeys(this.sessionKeyFile));
      const mine: KeyRecord = { current: this.sealPair(current), ...(next ? { next: this.sealPair(next) } : {}), session, by: this.redis.prefix, at: this.now() };
      const first = await this.redis.client.set(this.recordKey, JSON.stringify(mine), 'NX');
      if (first === 'OK') {
        this.log.warn({ event: 'farm_keys', current: current.thumbprint, next: next?.thumbprint }, 'farm keys: this server published its token-signing and session keys to the farm');
      }
      rec = (await this.read())!;
    }
    this.adopt(rec, true);
  }

  /** Puts a record's keys in the key files (and, when `session`, the session keys); true when the signing pair changed. */
  private adopt(rec: KeyRecord, session = false): boolean {
    const promoted = rec.next !== undefined && rec.promoteAt !== undefined && this.now() >= rec.promoteAt;
    const current = promoted ? rec.next! : rec.current;
    const next = promoted ? undefined : rec.next;
    let changed = false;
    const have = existsSync(this.signing.certFile) ? loadCurrentKey(this.signing).thumbprint : undefined;
    if (have !== current.thumbprint) {
      this.writePair(current, { cert: this.signing.certFile, key: this.signing.keyFile });
      changed = true;
    }
    const haveNext = existsSync(this.signing.nextCertFile) ? readFileSync(this.signing.nextCertFile, 'utf8') : undefined;
    if (next && haveNext !== next.cert) {
      this.writePair(next, { cert: this.signing.nextCertFile, key: this.signing.nextKeyFile });
      changed = true;
    } else if (!next && haveNext !== undefined) {
      for (const f of [this.signing.nextCertFile, this.signing.nextKeyFile]) if (existsSync(f)) unlinkSync(f);
      changed = true;
    }
    if (session) {
      const lines = rec.session.map((s, i) => unseal(this.farmKey, s, `session:${i}`));
      const want = lines.join('\n') + '\n';
      const local = existsSync(this.sessionKeyFile) ? readFileSync(this.sessionKeyFile, 'utf8') : '';
      if (local.trim() !== want.trim()) {
        writeSecretFile(this.sessionKeyFile, want, true);
        this.log.warn({ event: 'farm_keys' }, "farm keys: this server's session key file now holds the farm's session keys");
      }
    }
    this.schedulePromotion(promoted ? undefined : rec.promoteAt);
    return changed;
  }

  /** Re-reads the farm's record and puts a change in use (files, then the ring: metadata and signing follow). */
  async refresh(ring: SigningKeyRing): Promise<boolean> {
    if (!this.redis.ok) return false;
    let rec: KeyRecord | undefined;
    try {
      rec = await this.read();
    } catch (err) {
      this.redis.failed(err);
      return false;
    }
    if (!rec) return false;
    const stamp = `${JSON.stringify(rec)}|${rec.promoteAt !== undefined && this.now() >= rec.promoteAt}`;
    if (stamp === this.seen) return false;
    this.seen = stamp;
    try {
      this.adopt(rec, this.sessionRing !== undefined);
      if (this.sessionRing?.replace(this.unsealSession(rec))) {
        this.log.warn({ event: 'farm_keys' }, "farm keys: took the farm's session keys (the first one seals new cookies)");
      }
      const current = loadCurrentKey(this.signing);
      let next = loadNextKey(this.signing);
      if (next?.thumbprint === current.thumbprint) next = undefined;
      if (!ring.differs(current, next)) return false;
      const before = { current: ring.current.thumbprint, next: ring.next?.thumbprint };
      ring.replace(current, next);
      this.log.warn({ event: 'farm_keys', before, now: { current: current.thumbprint, next: next?.thumbprint } }, "farm keys: took the farm's token-signing certificates");
      return true;
    } catch (err) {
      this.log.error({ event: 'farm_keys', detail: (err as Error).message }, "farm keys: cannot use the farm's keys; still using the ones loaded before");
      return false;
    }
  }

  /** The leader, after automatic rollover made or promoted a certificate: the farm's record follows this server's ring. */
  async publish(ring: SigningKeyRing, promoteAt?: Date): Promise<void> {
    const old = await this.read();
    const rec: KeyRecord = {
      current: this.sealPair(ring.current),
      ...(ring.next ? { next: this.sealPair(ring.next) } : {}),
      ...(ring.next && promoteAt ? { promoteAt: promoteAt.getTime() } : {}),
      session: old?.session ?? this.sealSession(loadSessionKeys(this.sessionKeyFile)),
      by: this.redis.prefix,
      at: this.now(),
    };
    await this.redis.client.set(this.recordKey, JSON.stringify(rec));
    this.log.warn({ event: 'farm_keys', current: ring.current.thumbprint, next: ring.next?.thumbprint, promoteAt: promoteAt?.toISOString() }, 'farm keys: published the token-signing certificates to the farm');
  }

  /**
   * An administrator's command on one server (`certs rollover|promote|rotate-session-key`): the farm's
   * record becomes this server's key files, and every server puts them in use within seconds. No
   * promotion moment: a certificate made by hand is promoted by hand.
   */
  async publishFiles(): Promise<KeyRecord> {
    const current = loadCurrentKey(this.signing);
    const next = loadNextKey(this.signing);
    const rec: KeyRecord = {
      current: this.sealPair(current),
      ...(next && next.thumbprint !== current.thumbprint ? { next: this.sealPair(next) } : {}),
      session: this.sealSession(loadSessionKeys(this.sessionKeyFile)),
      by: this.redis.prefix,
      at: this.now(),
    };
    await this.redis.client.set(this.recordKey, JSON.stringify(rec));
    this.log.warn({ event: 'farm_keys', current: current.thumbprint, next: next?.thumbprint }, "farm keys: published this server's key files to the farm");
    return rec;
  }

  private ringForTimers: SigningKeyRing | undefined;
  private sessionRing: SecretRing | undefined;

  private schedulePromotion(at: number | undefined): void {
    if (this.promoteTimer) clearTimeout(this.promoteTimer);
    this.promoteTimer = undefined;
    if (at === undefined || !this.ringForTimers) return;
    const ring = this.ringForTimers;
    // setTimeout holds at most ~24.8 days; the periodic refresh covers anything further.
    const ms = at - this.now();
    if (ms > 0 && ms < 2 ** 31 - 1) {
      this.promoteTimer = setTimeout(() => void this.refresh(ring), ms + 5);
      this.promoteTimer.unref();
    }
  }

  /** Re-reads the record every `everyMs`, and at the promotion moment. */
  start(ring: SigningKeyRing, sessionRing?: SecretRing, everyMs = 2000): void {
    this.ringForTimers = ring;
    this.sessionRing = sessionRing;
    this.timer = setInterval(() => void this.refresh(ring), everyMs);
    this.timer.unref();
    void this.refresh(ring);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    if (this.promoteTimer) clearTimeout(this.promoteTimer);
    this.timer = undefined;
    this.promoteTimer = undefined;
  }
}
