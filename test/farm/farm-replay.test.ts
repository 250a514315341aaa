// Issue 13, test 3: a message that may be used once is refused by every other server of the farm (a SAML
// AuthnRequest ID, a WS-Trust MessageID); and a session ended on one server is ended on all of them.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { USERS } from '../support/directory.js';
import { testKeys } from '../support/gatehouse.js';
import { Browser } from '../support/http.js';
import { makeSp, type TestSp } from '../saml2/sp.js';
import { posted, redirectUrlOf, STATUS, statusOf } from '../saml2/support.js';
import { V13, buildRst } from '../wstrust/soap-client.js';
import { Farm, M365, RedisServer, until } from './support.js';

let redis: RedisServer;
let farm: Farm;
let sp: TestSp;

beforeAll(async () => {
  sp = makeSp(mkdtempSync(join(tmpdir(), 'farm-sp-')), 'farmsp', testKeys().certPem, 'http://placeholder/adfs/ls/');
  redis = await RedisServer.create();
  farm = await Farm.start({ redis, mutate: (c) => c.relyingParties.push({ id: sp.entityId, name: 'Farm SP', protocol: 'saml2', metadataFile: sp.metadataFile }) });
  sp.saml.options.entryPoint = `${farm.url}/adfs/ls/`;
}, 120_000);

afterAll(async () => {
  await farm?.stop();
  await redis?.stop();
});

/** The same URL path and query on another node. */
const on = (node: { url: string }, url: string) => {
  const u = new URL(url);
  return `${node.url}${u.pathname}${u.search}`;
};

describe('replays across the farm', () => {
  it('a SAML AuthnRequest accepted by one node is refused by the others (RequestDenied to the ACS)', async () => {
    const url = await redirectUrlOf(sp);
    const first = await new Browser().get(on(farm.nodes[0]!, url));
    expect(first.status).toBe(303);
    expect(first.headers.get('location')).toContain('ctx=');
    for (const node of [farm.nodes[1]!, farm.nodes[2]!, farm.nodes[0]!]) {
      const again = posted(await new Browser().get(on(node, url)));
      expect(again.action).toBe(sp.acs);
      expect(statusOf(again.doc).subCode).toBe(STATUS.requestDenied);
    }
    await until('refusals logged', () => farm.logs().filter((l) => l.event === 'saml2_refused').length >= 3, 5000);
    const refused = farm.logs().filter((l) => l.event === 'saml2_refused');
    expect(new Set(refused.map((l) => l.node))).toEqual(new Set(['node1', 'node2', 'node3']));
    for (const l of refused) expect(l.detail).toMatch(/received before \(replay\)/);
  });

  it('a WS-Trust message answered by one node is refused by the others before any password check', async () => {
    const messageId = `urn:uuid:${randomUUID()}`;
    const body = buildRst(V13, { baseUrl: farm.url, username: USERS.alice.upn, password: USERS.alice.password, messageId });
    const send = (node: { url: string }) =>
      fetch(`${node.url}${V13.path}`, { method: 'POST', headers: { 'content-type': 'application/soap+xml; charset=utf-8' }, body }).then(async (r) => ({ status: r.status, body: await r.text() }));
    const first = await send(farm.nodes[0]!);
    expect(first.status, first.body.slice(0, 400)).toBe(200);
    expect(first.body).toContain('RequestSecurityTokenResponse');
    for (const node of [farm.nodes[1]!, farm.nodes[2]!, farm.nodes[0]!]) {
      const again = await send(node);
      expect(again.status).toBe(500);
      expect(again.body).toContain('InvalidRequest');
      expect(again.body).not.toContain('RequestSecurityTokenResponse');
    }
    await until('faults logged', () => farm.logs().filter((l) => l.event === 'wstrust_fault' && /replayed/.test(l.detail)).length >= 3, 5000);
    // Refused before the password check: one attempt in the audit log for the message, not four.
    expect(farm.logs().filter((l) => l.event === 'signin_attempt' && l.protocol === 'ws-trust-1.3')).toHaveLength(1);
  });
});

describe('single sign-on sessions across the farm', () => {
  it('a session started on one node works on every node; signed out on one, a copy of its cookie is refused by all', async () => {
    const b = new Browser({ 'x-forwarded-for': '198.51.100.31' });
    const signIn = `/adfs/ls/?wa=wsignin1.0&wtrealm=${encodeURIComponent(M365)}`;
    const form = (await b.get(farm.nodes[0]!.url + signIn)).form();
    const page = await b.post(on(farm.nodes[0]!, form.action), { ...form.fields, UserName: USERS.alice.upn, Password: USERS.alice.password });
    expect(page.body).toContain('name="wresult"');
    // The sealed cookie opens on every node (same session key): single sign-on without asking again.
    for (const node of farm.nodes) expect((await b.get(node.url + signIn)).body).toContain('name="wresult"');
    const copy = new Map(b.cookies);
    // Signed out on node 2 ...
    await b.get(`${farm.nodes[1]!.url}/adfs/ls/?wa=wsignout1.0`);
    // ... the copied cookie no longer gets a token anywhere.
    for (const node of farm.nodes) {
      const thief = new Browser();
      for (const [k, v] of copy) thief.cookies.set(k, v);
      const res = await thief.get(node.url + signIn);
      expect(res.body).not.toContain('name="wresult"');
      expect(res.body).toContain('name="Password"');
    }
  });
});
