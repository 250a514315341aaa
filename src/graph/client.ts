import type { Logger } from 'pino';

export type HttpMethod = 'GET' | 'POST' | 'PATCH' | 'DELETE';

/** One request inside a JSON $batch; url is relative to the version root, e.g. "/users/{id}". */
export interface GraphRequest {
  id: string;
  method: HttpMethod;
  url: string;
  body?: unknown;
}

export interface GraphResponse {
  id: string;
  status: number;
  headers: Record<string, string>;
  body: any;
}

/** A Graph answer that is not a success (after retries), with Graph's error code and message. */
export class GraphError extends Error {
  override name = 'GraphError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(`Graph ${status} ${code}: ${message}`);
  }

  static from(status: number, body: any): GraphError {
    const e = body?.error;
    return new GraphError(status, String(e?.code ?? 'unknown'), String(e?.message ?? JSON.stringify(body ?? null).slice(0, 300)));
  }
}

export interface GraphClientOptions {
  /** e.g. https://graph.microsoft.com (the client adds /v1.0). */
  graphUrl: string;
  token: () => Promise<string>;
  maxRetries: number;
  log: Logger;
  /** Graph allows at most 20 requests per $batch. */
  batchSize?: number;
  /** For tests: how long to sleep (default setTimeout). */
  sleep?: (ms: number) => Promise<void>;
  /**
   * Graph's write limit for this app in this tenant (3,000 writes per 150 s): the client keeps its writes
   * under it instead of bouncing off 429s, whose Retry-After (whole seconds) wastes part of every window.
   */
  writeLimit?: { writes: number; windowSeconds: number };
}

const WRITE_METHODS = new Set<HttpMethod>(['POST', 'PATCH', 'DELETE']);

const RETRYABLE = (status: number) => status === 429 || status >= 500;
const MAX_WAIT_MS = 120_000;

/** Retry-After (seconds or an HTTP date) in ms, else exponential backoff with jitter. */
export function retryDelayMs(attempt: number, retryAfter: string | undefined): number {
  if (retryAfter) {
    const secs = Number(retryAfter);
    if (Number.isFinite(secs) && secs >= 0) return Math.min(secs * 1000, MAX_WAIT_MS);
    const date = Date.parse(retryAfter);
    if (!Number.isNaN(date)) return Math.min(Math.max(0, date - Date.now()), MAX_WAIT_MS);
  }
  const base = Math.min(1000 * 2 ** attempt, 60_000);
  return base / 2 + Math.random() * (base / 2);
}

function lowerHeaders(h: Headers | Record<string, string> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (!h) return out;
  const entries = h instanceof Headers ? [...h.entries()] : Object.entries(h);
  for (const [k, v] of entries) out[k.toLowerCase()] = String(v);
  return out;
}

/**
 * Microsoft Graph v1.0 over fetch: bearer token, retries of 429 and 5xx honouring Retry-After (for the whole
 * request and for each $batch sub-request), @odata.nextLink paging, JSON $batch of at most 20.
 */
export class GraphClient {
  /** HTTP requests sent (a $batch counts once), sub-requests inside batches, retries and 429s seen. */
  readonly stats = { httpRequests: 0, subRequests: 0, retries: 0, throttled: 0 };
  private readonly root: string;
  private readonly sleep: (ms: number) => Promise<void>;
  readonly batchSize: number;
  /** When Graph answered our recent writes (ms, oldest first; entries before `writeHead` are expired). */
  private writeTimes: number[] = [];
  private writeHead = 0;

  constructor(private readonly opts: GraphClientOptions) {
    this.root = `${opts.graphUrl.replace(/\/+$/, '')}/v1.0`;
    this.sleep = opts.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
    this.batchSize = Math.min(20, opts.batchSize ?? 20);
  }

  private async send(method: HttpMethod, url: string, body?: unknown): Promise<GraphResponse> {
    const full = url.startsWith('https://') || url.startsWith('http://') ? url : this.root + url;
    let refreshed = false;
    for (let attempt = 0; ; attempt++) {
      this.stats.httpRequests++;
      const res = await fetch(full, {
        method,
        headers: {
          authorization: `Bearer ${await this.opts.token()}`,
          accept: 'application/json',
          ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      });
      const text = await res.text();
      let parsed: unknown = undefined;
      try {
        parsed = text ? JSON.parse(text) : undefined;
      } catch {
        parsed = text;
      }
      const headers = lowerHeaders(res.headers);
      if (res.status === 401 && !refreshed) {
        refreshed = true; // a token revoked or expired early: MSAL fetches a new one on the next call
        continue;
      }
      if (RETRYABLE(res.status) && attempt < this.opts.maxRetries) {
        const wait = retryDelayMs(attempt, headers['retry-after']);
        if (res.status === 429) this.stats.throttled++;
        this.stats.retries++;
        this.opts.log.warn({ status: res.status, url: full, waitMs: Math.round(wait) }, 'graph: retrying');
        await this.sleep(wait);
        continue;
      }
      return { id: '', status: res.status, headers, body: parsed };
    }
  }

  /** A single request; throws GraphError unless 2xx. */
  async call(method: HttpMethod, url: string, body?: unknown): Promise<any> {
    const res = await this.send(method, url, body);
    if (res.status >= 300) throw GraphError.from(res.status, res.body);
    return res.body;
  }

  /** Every item of a collection, following @odata.nextLink. */
  async *list<T = any>(url: string): AsyncGenerator<T[]> {
    let next: string | undefined = url;
    while (next) {
      const page = await this.call('GET', next);
      yield (page?.value ?? []) as T[];
      next = page?.['@odata.nextLink'];
    }
  }

  /**
   * Waits until `n` more writes fit in Graph's sliding window. Writes are stamped when their answer arrives,
   * which is after Graph counted them, so the client's window never frees a slot before Graph's does.
   */
  private async paceWrites(n: number): Promise<void> {
    const limit = this.opts.writeLimit;
    if (!limit || n === 0) return;
    const windowMs = limit.windowSeconds * 1000;
    const need = Math.min(n, limit.writes);
    for (;;) {
      const now = Date.now();
      while (this.writeHead < this.writeTimes.length && this.writeTimes[this.writeHead]! <= now - windowMs) this.writeHead++;
      if (this.writeHead > 4096) {
        this.writeTimes = this.writeTimes.slice(this.writeHead);
        this.writeHead = 0;
      }
      const over = this.writeTimes.length - this.writeHead + need - limit.writes;
      if (over <= 0) return;
      // The over-th oldest write leaves the window at its time + window.
      await this.sleep(this.writeTimes[this.writeHead + over - 1]! + windowMs - now + 1);
    }
  }

  private recordWrites(n: number): void {
    if (!this.opts.writeLimit) return;
    const now = Date.now();
    for (let i = 0; i < n; i++) this.writeTimes.push(now);
  }

  /**
   * Sends the requests in $batch calls of at most batchSize and returns one final response per request id.
   * Sub-requests answered 429 or 5xx are sent again (in a later batch) after the longest Retry-After among them.
   */
  async batch(requests: GraphRequest[]): Promise<Map<string, GraphResponse>> {
    const results = new Map<string, GraphResponse>();
    const attempts = new Map<string, number>();
    let queue = [...requests];
    while (queue.length) {
      const chunk = queue.slice(0, this.batchSize);
      queue = queue.slice(this.batchSize);
      this.stats.subRequests += chunk.length;
      const writes = chunk.filter((r) => WRITE_METHODS.has(r.method)).length;
      await this.paceWrites(writes);
      const res = await this.send('POST', '/$batch', {
        requests: chunk.map((r) => ({
          id: r.id,
          method: r.method,
          url: r.url,
          ...(r.body !== undefined ? { body: r.body, headers: { 'content-type': 'application/json' } } : {}),
        })),
      });
      if (res.status !== 200) {
        // The whole batch failed after retries: every request in it failed the same way.
        for (const r of chunk) results.set(r.id, { ...res, id: r.id });
        continue;
      }
      const byId = new Map<string, GraphResponse>();
      for (const sub of (res.body?.responses ?? []) as GraphResponse[]) byId.set(String(sub.id), { ...sub, headers: lowerHeaders(sub.headers) });
      // Every write Graph answered, except those it throttled, counts against the limit.
      this.recordWrites(chunk.filter((r) => WRITE_METHODS.has(r.method) && byId.get(r.id)?.status !== 429).length);
      const again: GraphRequest[] = [];
      let wait = 0;
      for (const r of chunk) {
        const sub = byId.get(r.id) ?? { id: r.id, status: 500, headers: {}, body: { error: { code: 'missingResponse', message: 'no response in $batch' } } };
        const n = attempts.get(r.id) ?? 0;
        if (RETRYABLE(sub.status) && n < this.opts.maxRetries) {
          attempts.set(r.id, n + 1);
          if (sub.status === 429) this.stats.throttled++;
          this.stats.retries++;
          wait = Math.max(wait, retryDelayMs(n, sub.headers['retry-after']));
          again.push(r);
        } else {
          results.set(r.id, sub);
        }
      }
      if (again.length) {
        this.opts.log.warn({ retrying: again.length, waitMs: Math.round(wait) }, 'graph: $batch sub-requests throttled or failed; retrying');
        await this.sleep(wait);
        queue = [...again, ...queue];
      }
    }
    return results;
  }
}
