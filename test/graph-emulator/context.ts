// Shared pieces of the emulator that route modules (users, $batch, OAuth, and later domains/
// federationConfiguration) use: error bodies, bearer-token check, write throttling, counters.
import { randomUUID } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';

export interface RegisteredClient {
  clientId: string;
  secret?: string;
  /** PEM certificate registered on the app (for client_assertion). */
  certificatePem?: string;
  /** Application permissions granted (admin consent). Unset: every permission (the users routes do not check). */
  roles?: string[];
}

export interface EmulatorOptions {
  tenantId: string;
  /** Verified domains of the tenant: userPrincipalName must use one. */
  domains: string[];
  clients: RegisteredClient[];
  /** Writes (POST/PATCH/DELETE) allowed per client per window before 429. Graph: 3,000 per 150 s. */
  writeLimit?: { writes: number; windowSeconds: number };
  /** Multiplies every time window (and Retry-After) so tests run fast: 0.01 = 100 times faster. */
  timeScale?: number;
  /** Default page size of GET /users without $top (Graph: 100). */
  defaultPageSize?: number;
}

/** A fault to inject: requests matching `match` get `status` (with Retry-After when given), `times` times. */
export interface Fault {
  match: (req: { method: string; url: string; sub: boolean }) => boolean;
  status: number;
  retryAfterSeconds?: number;
  times: number;
}

export interface RequestRecord {
  method: string;
  url: string;
  status: number;
  /** Sent inside a $batch. */
  sub: boolean;
  at: number;
}

export class EmulatorContext {
  readonly log: RequestRecord[] = [];
  readonly faults: Fault[] = [];
  /** ms to hold the answer of matching requests after they were processed (to kill a client mid-request). */
  delays: { match: (req: { method: string; url: string; sub: boolean }) => boolean; ms: number }[] = [];
  /** Requests that came back before the Retry-After the emulator had given that client. */
  retryAfterViolations = 0;
  baseUrl = '';
  private readonly tokens = new Map<string, { clientId: string; expires: number }>();
  private readonly writesByClient = new Map<string, number[]>();
  private readonly blockedUntil = new Map<string, number>();

  constructor(readonly options: EmulatorOptions) {}

  get timeScale(): number {
    return this.options.timeScale ?? 1;
  }

  /** Graph's error body: { error: { code, message, innerError } }. */
  error(reply: FastifyReply, status: number, code: string, message: string, headers: Record<string, string> = {}): FastifyReply {
    for (const [k, v] of Object.entries(headers)) reply.header(k, v);
    return reply.code(status).send({
      error: { code, message, innerError: { date: new Date().toISOString().replace(/\.\d+Z$/, ''), 'request-id': randomUUID(), 'client-request-id': randomUUID() } },
    });
  }

  issueToken(clientId: string, lifetimeSeconds = 3599): string {
    const header = Buffer.from(JSON.stringify({ typ: 'JWT', alg: 'none' })).toString('base64url');
    const payload = Buffer.from(JSON.stringify({ aud: 'https://graph.microsoft.com', appid: clientId, tid: this.options.tenantId, roles: ['User.ReadWrite.All'] })).toString('base64url');
    const token = `${header}.${payload}.${randomUUID()}`;
    this.tokens.set(token, { clientId, expires: Date.now() + lifetimeSeconds * 1000 });
    return token;
  }

  /** The client of a valid bearer token, or sends 401 and returns undefined. */
  authenticate(req: FastifyRequest, reply: FastifyReply): string | undefined {
    const m = /^Bearer (\S+)$/i.exec(req.headers.authorization ?? '');
    if (!m) {
      this.error(reply, 401, 'InvalidAuthenticationToken', 'Access token is empty.');
      return undefined;
    }
    const t = this.tokens.get(m[1]!);
    if (!t || t.expires < Date.now()) {
      this.error(reply, 401, 'InvalidAuthenticationToken', t ? 'Lifetime validation failed, the token is expired.' : 'IDX14100: JWT is not well formed.');
      return undefined;
    }
    return t.clientId;
  }

  /** Whether the client was granted one of `roles` (a client without a roles list has them all). */
  hasRole(clientId: string, roles: string[]): boolean {
    const granted = this.options.clients.find((c) => c.clientId === clientId)?.roles;
    return !granted || roles.some((r) => granted.includes(r));
  }

  /** Called once per HTTP request (not per $batch sub-request): did the client wait as told? */
  checkRetryAfter(clientId: string): void {
    const blocked = this.blockedUntil.get(clientId);
    if (blocked && Date.now() < blocked - 5) this.retryAfterViolations++;
  }

  /** Counts a write against the client's budget; sends 429 (and returns false) when it is spent. */
  allowWrite(clientId: string, reply: FastifyReply, req?: FastifyRequest): boolean {
    if (req && req.headers['x-graph-emulator-sub-request'] !== '1') this.checkRetryAfter(clientId);
    const limit = this.options.writeLimit;
    if (!limit) return true;
    const windowMs = limit.windowSeconds * 1000 * this.timeScale;
    const now = Date.now();
    const recent = (this.writesByClient.get(clientId) ?? []).filter((t) => t > now - windowMs);
    if (recent.length >= limit.writes) {
      const waitMs = recent[0]! + windowMs - now;
      const retryAfter = Math.max(1, Math.ceil(waitMs / 1000));
      this.blockedUntil.set(clientId, now + retryAfter * 1000);
      this.writesByClient.set(clientId, recent);
      this.error(reply, 429, 'TooManyRequests', 'Too many requests.', { 'retry-after': String(retryAfter), 'x-ms-throttle-scope': 'Tenant_Application/WriteLimit/Application' });
      return false;
    }
    recent.push(now);
    this.writesByClient.set(clientId, recent);
    return true;
  }

  /** Writes that succeeded (inside batches or not). */
  writes(): RequestRecord[] {
    return this.log.filter((r) => r.method !== 'GET' && r.url !== '/v1.0/$batch' && !r.url.includes('/oauth2/') && r.status < 300);
  }
}
