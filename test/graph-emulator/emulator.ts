// A Microsoft Graph + Microsoft identity platform emulator for tests, following the documented request
// and response shapes: OAuth client credentials, /v1.0/users CRUD with $filter/$select/$top/nextLink
// paging and soft delete (restored by POST /v1.0/directory/deletedItems/{id}/restore),
// JSON $batch (at most 20, sub-requests answered one by one, 429 per sub-request), error bodies
// { error: { code, message } }, and write throttling with Retry-After.
//
// Extend it with more resources (e.g. /v1.0/domains/{id}/federationConfiguration) by passing route
// registrars: `startGraphEmulator({ ..., routes: [registerMyRoutes] })`; each gets the Fastify app and
// the EmulatorContext (authenticate, error, allowWrite, baseUrl).
import Fastify, { type FastifyInstance } from 'fastify';
import formbody from '@fastify/formbody';
import { EmulatorContext, type EmulatorOptions } from './context.js';
import { registerOAuthRoutes } from './oauth-routes.js';
import { registerUserRoutes, UserStore } from './users-routes.js';

export type RouteRegistrar = (app: FastifyInstance, ctx: EmulatorContext) => void | Promise<void>;

export interface GraphEmulatorConfig extends EmulatorOptions {
  /** PEM server certificate and key; without them the emulator speaks plain HTTP (only for tests that bypass MSAL). */
  tls?: { certPem: string; keyPem: string };
  routes?: RouteRegistrar[];
}

export interface GraphEmulator {
  app: FastifyInstance;
  ctx: EmulatorContext;
  users: UserStore;
  /** e.g. https://127.0.0.1:PORT (use as sync.graphUrl and sync.authorityHost). */
  url: string;
  close(): Promise<void>;
}

const MAX_BATCH = 20;
const SUB_HEADER = 'x-graph-emulator-sub-request';

function shuffle<T>(a: T[]): T[] {
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
  return a;
}

/** Builds the emulator without listening (for app.inject or a custom listen). */
export async function buildGraphEmulator(config: GraphEmulatorConfig): Promise<{ app: FastifyInstance; ctx: EmulatorContext; users: UserStore }> {
  const ctx = new EmulatorContext(config);
  const users = new UserStore();
  const app = Fastify({ logger: false, ...(config.tls ? { https: { cert: config.tls.certPem, key: config.tls.keyPem } } : {}) }) as unknown as FastifyInstance;
  await app.register(formbody);
  const describe = (req: { method: string; url: string; headers: Record<string, unknown> }) => ({
    method: req.method,
    url: decodeURIComponent(req.url),
    sub: req.headers[SUB_HEADER] === '1',
  });

  // Injected faults (before any route runs).
  app.addHook('onRequest', async (req, reply) => {
    const d = describe(req);
    const fault = ctx.faults.find((f) => f.times > 0 && f.match(d));
    if (fault) {
      fault.times--;
      const headers: Record<string, string> = fault.retryAfterSeconds !== undefined ? { 'retry-after': String(fault.retryAfterSeconds) } : {};
      return ctx.error(reply, fault.status, fault.status === 429 ? 'TooManyRequests' : 'ServiceUnavailable', 'Injected fault.', headers);
    }
  });
  // Every answer is recorded; some are held back after the work was done (to kill a client mid-request).
  app.addHook('onSend', async (req, reply, payload) => {
    const d = describe(req);
    ctx.log.push({ ...d, status: reply.statusCode, at: Date.now() });
    const delay = ctx.delays.find((x) => x.match(d));
    if (delay) await new Promise((r) => setTimeout(r, delay.ms));
    return payload;
  });

  registerOAuthRoutes(app, ctx);
  registerUserRoutes(app, ctx, users);

  app.post('/v1.0/$batch', async (req, reply) => {
    const client = ctx.authenticate(req, reply);
    if (!client) return reply;
    ctx.checkRetryAfter(client);
    const body = req.body as { requests?: { id?: string; method?: string; url?: string; body?: unknown; headers?: Record<string, string> }[] };
    const requests = body?.requests;
    if (!Array.isArray(requests) || requests.length === 0) return ctx.error(reply, 400, 'BadRequest', 'Invalid batch payload format.');
    if (requests.length > MAX_BATCH) return ctx.error(reply, 400, 'BadRequest', `Number of batch request steps exceeds the maximum of ${MAX_BATCH}.`);
    const ids = new Set<string>();
    for (const r of requests) {
      if (!r.id || !r.method || !r.url) return ctx.error(reply, 400, 'BadRequest', 'Each request in a batch needs id, method and url.');
      if (ids.has(r.id)) return ctx.error(reply, 400, 'BadRequest', `Batch request id '${r.id}' is duplicated.`);
      ids.add(r.id);
      if (r.body !== undefined && !Object.keys(r.headers ?? {}).some((h) => h.toLowerCase() === 'content-type')) {
        return ctx.error(reply, 400, 'BadRequest', 'Content-Type header is required for requests with a body.');
      }
    }
    const responses = [];
    // Sub-requests run one by one, each through the same routes (auth, throttling, faults).
    for (const r of requests) {
      const url = `/v1.0${r.url!.startsWith('/') ? '' : '/'}${r.url}`;
      const res = await app.inject({
        method: r.method as 'GET',
        url,
        headers: { authorization: req.headers.authorization ?? '', [SUB_HEADER]: '1', ...(r.body !== undefined ? { 'content-type': 'application/json' } : {}) },
        ...(r.body !== undefined ? { payload: JSON.stringify(r.body) } : {}),
      });
      const headers: Record<string, string> = {};
      for (const h of ['retry-after', 'location', 'content-type']) if (res.headers[h] !== undefined) headers[h] = String(res.headers[h]);
      responses.push({ id: r.id, status: res.statusCode, headers, ...(res.body ? { body: JSON.parse(res.body) } : {}) });
    }
    // Graph does not promise the order of responses.
    return reply.send({ responses: shuffle(responses) });
  });

  for (const register of config.routes ?? []) await register(app, ctx);
  return { app, ctx, users };
}

/** Builds and listens on 127.0.0.1 (a free port). */
export async function startGraphEmulator(config: GraphEmulatorConfig): Promise<GraphEmulator> {
  const { app, ctx, users } = await buildGraphEmulator(config);
  await app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = app.server.address() as { port: number };
  const url = `${config.tls ? 'https' : 'http'}://127.0.0.1:${port}`;
  ctx.baseUrl = url;
  return { app, ctx, users, url, close: () => app.close() };
}
