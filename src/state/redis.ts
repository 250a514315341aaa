import { readFileSync } from 'node:fs';
import type { Socket } from 'node:net';
import { Redis, type RedisOptions } from 'ioredis';
import type { Logger } from 'pino';
import type { StateConfig } from '../config/schema/state.js';

type Log = Pick<Logger, 'info' | 'warn' | 'error'>;

export interface RedisHealth {
  status: 'ok' | 'unreachable';
  /** When the current status began (ISO). */
  since: string;
  /** The last error seen while unreachable (no password: ioredis never puts it in messages). */
  lastError?: string;
}

/** The connection options from `state.redis` (URL, TLS CA, Sentinels): fail fast, reconnect forever. */
export function redisOptions(cfg: StateConfig['redis']): { url?: string; options: RedisOptions } {
  const url = new URL(cfg.url!);
  const tls = url.protocol === 'rediss:' ? { tls: cfg.caFile ? { ca: readFileSync(cfg.caFile, 'utf8') } : {} } : {};
  const options: RedisOptions = {
    // A request never waits for Redis to come back: while it is away, commands fail at once and the
    // caller uses its fallback. ioredis keeps reconnecting in the background.
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    commandTimeout: cfg.commandTimeoutMs,
    connectTimeout: Math.max(1000, cfg.commandTimeoutMs * 4),
    retryStrategy: (times) => Math.min(100 * times, 1000),
    // No auto-pipelining: ioredis keeps one auto-pipeline in flight per connection, so every command
    // would wait for the round trip of whatever was sent before it (another request's settlement, say).
    // Without it many commands are in flight together on the connection; those of one turn of the event
    // loop still leave in one write (coalesceWrites).
    enableAutoPipelining: false,
    lazyConnect: true,
  };
  if (cfg.sentinels.length) {
    return {
      options: {
        ...options,
        ...tls,
        sentinels: cfg.sentinels.map((s) => {
          const i = s.lastIndexOf(':');
          return { host: s.slice(0, i), port: Number(s.slice(i + 1)) };
        }),
        name: cfg.sentinelName,
        ...(cfg.sentinelPassword ? { sentinelPassword: cfg.sentinelPassword } : {}),
        ...(url.username ? { username: decodeURIComponent(url.username) } : {}),
        ...(url.password ? { password: decodeURIComponent(url.password) } : {}),
        db: Number(url.pathname.slice(1) || 0),
        ...(url.protocol === 'rediss:' ? { enableTLSForSentinelMode: true } : {}),
      },
    };
  }
  return { url: cfg.url!, options: { ...options, ...tls } };
}

/**
 * The commands written to `socket` during one turn of the event loop leave in one write, when the turn's
 * I/O callbacks are done (setImmediate). On loopback or a LAN each write to a socket costs more CPU than
 * the command it carries: a farm-mode server spends 7% less CPU per token this way, and Redis half
 * (docs/BENCHMARKS.md). Unlike ioredis's auto-pipelining (off, see redisOptions), nothing waits for an
 * earlier batch's answers.
 */
export function coalesceWrites(socket: Pick<Socket, 'write' | 'cork' | 'uncork'>): void {
  const write = socket.write.bind(socket) as (...args: unknown[]) => boolean;
  let corked = false;
  const uncork = () => {
    corked = false;
    socket.uncork();
  };
  socket.write = ((...args: unknown[]) => {
    if (!corked) {
      corked = true;
      socket.cork();
      setImmediate(uncork);
    }
    return write(...args);
  }) as Socket['write'];
}

/**
 * The farm's one Redis (or Valkey) connection, with its health: 'ok' while connected and answering,
 * 'unreachable' from the first failure until it is back. Every shared store uses it and falls back to
 * local state while it is unreachable; the change is logged loudly, once each way.
 */
export class RedisState {
  readonly client: Redis;
  readonly prefix: string;
  private health: RedisHealth = { status: 'unreachable', since: new Date().toISOString(), lastError: 'not connected yet' };
  private readonly listeners: ((up: boolean) => void)[] = [];
  private connectedOnce = false;
  private recheck: NodeJS.Timeout | undefined;

  constructor(
    readonly config: StateConfig['redis'],
    private readonly log: Log,
  ) {
    const { url, options } = redisOptions(config);
    this.client = url ? new Redis(url, options) : new Redis(options);
    this.prefix = config.keyPrefix;
    // Every (re)connection brings a new socket.
    this.client.on('connect', () => coalesceWrites(this.client.stream));
    this.client.on('ready', () => this.up());
    this.client.on('error', (err: Error) => this.down(err.message));
    this.client.on('close', () => this.down('connection closed'));
  }

  /** Connects; resolves either way (the server starts without Redis and uses the fallback until it answers). */
  async connect(timeoutMs = 3000): Promise<boolean> {
    this.client.connect().catch(() => {});
    const deadline = Date.now() + timeoutMs;
    while (this.health.status !== 'ok' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
    if (this.health.status !== 'ok') this.log.error({ event: 'farm_state', redis: 'unreachable', detail: this.health.lastError }, 'FARM STATE: Redis is unreachable at start-up; using local fallback state until it answers');
    return this.health.status === 'ok';
  }

  get ok(): boolean {
    return this.health.status === 'ok';
  }

  describe(): RedisHealth {
    return { ...this.health };
  }

  onChange(fn: (up: boolean) => void): void {
    this.listeners.push(fn);
  }

  /** A command failed (timeout, connection lost): the stores report it here before using their fallback. */
  failed(err: unknown): void {
    this.down((err as Error)?.message ?? String(err));
  }

  key(...parts: string[]): string {
    return this.prefix + parts.join(':');
  }

  private up(): void {
    if (this.health.status === 'ok') return;
    const was = this.health;
    this.health = { status: 'ok', since: new Date().toISOString() };
    if (this.recheck) clearInterval(this.recheck);
    this.recheck = undefined;
    if (this.connectedOnce) this.log.warn({ event: 'farm_state', redis: 'ok', unreachableSince: was.since }, 'FARM STATE: Redis answers again; shared state resumed');
    else this.log.info({ event: 'farm_state', redis: 'ok' }, 'farm state: connected to Redis');
    this.connectedOnce = true;
    for (const l of this.listeners) l(true);
  }

  private down(detail: string): void {
    if (this.health.status === 'unreachable') {
      this.health.lastError = detail;
      return;
    }
    this.health = { status: 'unreachable', since: new Date().toISOString(), lastError: detail };
    this.log.error(
      { event: 'farm_state', redis: 'unreachable', detail },
      'FARM STATE: Redis is unreachable; smart lockout counts per server with the stricter fallback threshold, WS-Trust is refused, until it answers again',
    );
    for (const l of this.listeners) l(false);
    // A command that timed out leaves the connection up: no 'ready' will come, so ask Redis ourselves.
    this.recheck ??= setInterval(() => {
      if (this.client.status !== 'ready') return;
      this.client.ping().then(() => this.up(), () => {});
    }, 500);
    this.recheck.unref();
  }

  async close(): Promise<void> {
    if (this.recheck) clearInterval(this.recheck);
    this.client.removeAllListeners('close');
    this.client.removeAllListeners('error');
    this.client.on('error', () => {});
    try {
      await this.client.quit();
    } catch {
      this.client.disconnect();
    }
  }
}
