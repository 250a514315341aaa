// Issue 13: the nginx example of docs/farm.md in front of a farm, with Debian's nginx: the client address
// reaches smart lockout and the audit through X-Forwarded-For, the verbose probe stays inside, and a server
// that goes away costs no sign-in.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { USERS } from '../support/directory.js';
import { Farm, Nginx, RedisServer, formSignIn, until } from './support.js';

let redis: RedisServer;
let farm: Farm;
let nginx: Nginx;

beforeAll(async () => {
  redis = await RedisServer.create();
  farm = await Farm.start({ redis, nodes: 2 });
  nginx = await Nginx.start(farm.nodes);
}, 120_000);

afterAll(async () => {
  await nginx?.stop();
  await farm?.stop();
  await redis?.stop();
});

describe('nginx in front of the farm (docs/farm.md)', () => {
  it("signs in through nginx on both servers; the audit line has the client's address, not nginx's", async () => {
    for (let i = 0; i < 4; i++) {
      const r = await formSignIn(nginx.url, '198.51.100.61', USERS.alice.upn, USERS.alice.password);
      expect(r.token, r.body.slice(0, 300)).toBe(true);
      // Round robin and two requests a sign-in: one more request, so the next password post goes to the other server.
      await fetch(`${nginx.url}/adfs/probe`);
    }
    await until('audit lines on both servers', () => {
      const lines = farm.logs().filter((l) => l.event === 'signin_attempt' && l.outcome === 'success' && l.addresses?.[0] === '198.51.100.61');
      return new Set(lines.map((l) => l.node)).size === 2;
    });
  });

  it('the verbose probe is refused from outside; the plain one answers', async () => {
    expect((await fetch(`${nginx.url}/adfs/probe?verbose=1`)).status).toBe(403);
    expect((await fetch(`${nginx.url}/adfs/probe`)).status).toBe(200);
  });

  it('a server that stops costs no sign-in: nginx sends the next ones to the other', async () => {
    await farm.nodes[0]!.serve.stop('SIGTERM', 8000);
    const results = [];
    for (let i = 0; i < 10; i++) results.push(await formSignIn(nginx.url, '198.51.100.62', USERS.alice.upn, USERS.alice.password));
    expect(results.filter((r) => !r.token).map((r) => r.status)).toEqual([]);
  });
});
