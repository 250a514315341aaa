// The Graph client paces its writes under Graph's write limit (sync.writeLimit) instead of bouncing off
// 429s: against the emulator enforcing the same limit (time sped up), no write is throttled.
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { GraphClient, type GraphRequest } from '../../src/graph/client.js';
import { startGraphEmulator, type GraphEmulator } from '../graph-emulator/emulator.js';

const LIMIT = { writes: 20, windowSeconds: 150 };
const SCALE = 0.01; // Graph's 150 s window lasts 1.5 s here
let g: GraphEmulator | undefined;

afterEach(async () => {
  await g?.close();
  g = undefined;
});

const creates = (n: number, tag: string): GraphRequest[] =>
  Array.from({ length: n }, (_, i) => ({
    id: String(i),
    method: 'POST' as const,
    url: '/users',
    body: {
      accountEnabled: true,
      displayName: `User ${tag}${i}`,
      mailNickname: `u${tag}${i}`,
      userPrincipalName: `u${tag}${i}@contoso.test`,
      onPremisesImmutableId: Buffer.from(`${tag}-${i}`).toString('base64'),
      passwordProfile: { password: 'Aa1!aaaaaaaa' },
    },
  }));

async function run(writeLimit: { writes: number; windowSeconds: number } | undefined) {
  g = await startGraphEmulator({ tenantId: 't', domains: ['contoso.test'], clients: [{ clientId: 'app', secret: 's' }], writeLimit: LIMIT, timeScale: SCALE });
  const token = g.ctx.issueToken('app');
  const graph = new GraphClient({ graphUrl: g.url, token: async () => token, maxRetries: 20, log: pino({ level: 'silent' }), ...(writeLimit ? { writeLimit } : {}) });
  const started = Date.now();
  const results = new Map();
  const reqs = creates(50, writeLimit ? 'p' : 'b');
  for (let i = 0; i < reqs.length; i += 20) for (const [k, v] of await graph.batch(reqs.slice(i, i + 20))) results.set(k, v);
  return { elapsed: Date.now() - started, results, throttled: g.ctx.log.filter((r) => r.status === 429).length, stats: graph.stats };
}

describe('Graph client write pacing', () => {
  it('keeps writes under sync.writeLimit: every write succeeds first time, none is throttled', async () => {
    const r = await run({ writes: LIMIT.writes, windowSeconds: LIMIT.windowSeconds * SCALE });
    expect([...r.results.values()].every((x) => x.status === 201)).toBe(true);
    expect(r.throttled).toBe(0);
    expect(r.stats.throttled).toBe(0);
    // 50 writes at 20 per 1.5 s window: the third group cannot start before two windows have passed.
    expect(r.elapsed).toBeGreaterThanOrEqual(2 * LIMIT.windowSeconds * SCALE * 1000);
  }, 30_000);

  it('without pacing the same writes are throttled (and still succeed after Retry-After)', async () => {
    const r = await run(undefined);
    expect([...r.results.values()].every((x) => x.status === 201)).toBe(true);
    expect(r.throttled).toBeGreaterThan(0);
  }, 30_000);
});
