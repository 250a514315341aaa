// The emulator's documented shapes, and the Graph client (src/graph/) against it (in process, plain HTTP:
// MSAL is not involved here; the HTTPS + MSAL path is covered by test/sync).
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GraphClient } from '../../src/graph/client.js';
import { startGraphEmulator, type GraphEmulator } from './emulator.js';

let g: GraphEmulator;
let graph: GraphClient;
const TENANT = 'contoso-tenant';

beforeAll(async () => {
  g = await startGraphEmulator({ tenantId: TENANT, domains: ['contoso.test'], clients: [{ clientId: 'app', secret: 's3cret' }], defaultPageSize: 3 });
  const token = g.ctx.issueToken('app');
  graph = new GraphClient({ graphUrl: g.url, token: async () => token, maxRetries: 5, log: pino({ level: 'silent' }), sleep: async () => {} });
});
afterAll(() => g?.close());

const newUser = (n: number) => ({
  accountEnabled: true,
  displayName: `User ${n}`,
  mailNickname: `user${n}`,
  userPrincipalName: `user${n}@contoso.test`,
  onPremisesImmutableId: Buffer.from(`guid-${n}`).toString('base64'),
  passwordProfile: { password: 'Aa1!aaaaaaaa' },
});

describe('Graph emulator', () => {
  it('token endpoint: client_credentials with a secret; AADSTS errors otherwise', async () => {
    const post = (form: Record<string, string>, tenant = TENANT) =>
      fetch(`${g.url}/${tenant}/oauth2/v2.0/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(form) });
    const ok = await post({ grant_type: 'client_credentials', client_id: 'app', client_secret: 's3cret', scope: 'https://graph.microsoft.com/.default' });
    expect(ok.status).toBe(200);
    expect(await ok.json()).toMatchObject({ token_type: 'Bearer', expires_in: 3599 });
    const bad = await post({ grant_type: 'client_credentials', client_id: 'app', client_secret: 'nope', scope: 'https://graph.microsoft.com/.default' });
    expect(bad.status).toBe(401);
    expect(await bad.json()).toMatchObject({ error: 'invalid_client', error_codes: [7000215] });
    const tenant = await post({ grant_type: 'client_credentials', client_id: 'app', client_secret: 's3cret', scope: 'x/.default' }, 'other');
    expect((await tenant.json()).error_codes).toEqual([90002]);
  });

  it('users: 401 without a token, create, conflict, $filter, $select, error body shape', async () => {
    const anon = await fetch(`${g.url}/v1.0/users`);
    expect(anon.status).toBe(401);
    expect((await anon.json()).error.code).toBe('InvalidAuthenticationToken');
    const created = await graph.call('POST', '/users', newUser(1));
    expect(created.id).toMatch(/^[0-9a-f-]{36}$/);
    await expect(graph.call('POST', '/users', newUser(1))).rejects.toThrow(/Request_BadRequest: Another object with the same value for property userPrincipalName already exists/);
    await expect(graph.call('POST', '/users', { ...newUser(2), userPrincipalName: 'x@other.test' })).rejects.toThrow(/verified domain names/);
    const found = await graph.call('GET', `/users?$filter=${encodeURIComponent(`onPremisesImmutableId eq '${newUser(1).onPremisesImmutableId}'`)}&$select=id,displayName`);
    expect(found.value).toEqual([{ id: created.id, displayName: 'User 1' }]);
    await expect(graph.call('GET', '/users?$filter=jobTitle eq 1')).rejects.toThrow(/Request_UnsupportedQuery/);
    await expect(graph.call('GET', '/users?$top=1000')).rejects.toThrow(/Invalid page size/);
  });

  it('paging follows @odata.nextLink; $batch answers each sub-request, retried on a per-request 429', async () => {
    const res = await graph.batch([2, 3, 4, 5, 6, 7].map((n) => ({ id: String(n), method: 'POST' as const, url: '/users', body: newUser(n) })));
    expect([...res.values()].map((r) => r.status)).toEqual([201, 201, 201, 201, 201, 201]);
    const pages: number[] = [];
    for await (const page of graph.list('/users?$select=id')) pages.push(page.length);
    expect(pages).toEqual([3, 3, 1]); // defaultPageSize 3, 7 users

    g.ctx.faults.push({ match: (d) => d.sub && d.method === 'PATCH', status: 429, retryAfterSeconds: 1, times: 2 });
    const ids = g.users.all().slice(0, 3).map((u) => u.id);
    const before = graph.stats.throttled;
    const patched = await graph.batch(ids.map((id) => ({ id, method: 'PATCH' as const, url: `/users/${id}`, body: { jobTitle: 'Tester' } })));
    expect([...patched.values()].every((r) => r.status === 204)).toBe(true);
    expect(graph.stats.throttled - before).toBe(2);
    expect(g.users.all().slice(0, 3).every((u) => u.jobTitle === 'Tester')).toBe(true);

    const tooMany = await fetch(`${g.url}/v1.0/$batch`, {
      method: 'POST',
      headers: { authorization: `Bearer ${g.ctx.issueToken('app')}`, 'content-type': 'application/json' },
      body: JSON.stringify({ requests: Array.from({ length: 21 }, (_, i) => ({ id: String(i), method: 'GET', url: '/users' })) }),
    });
    expect(tooMany.status).toBe(400);
    expect((await tooMany.json()).error.code).toBe('BadRequest');
  });
});
