// Issue 13: the credential endpoints' rate limits are the farm's, not each server's: posts spread over three
// servers count against one per-address and one global allowance in Redis (one script, one round trip).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Farm, RedisServer, formSignIn, until } from './support.js';

const NOBODY = 'nobody-rate@corp.example.test';
const PER_ADDRESS = 4;
const GLOBAL = 12;

let redis: RedisServer;
let farm: Farm;

beforeAll(async () => {
  redis = await RedisServer.create();
  farm = await Farm.start({ redis, mutate: (c) => (c.rateLimit = { perAddressPerMinute: PER_ADDRESS, globalPerMinute: GLOBAL }) });
}, 120_000);

afterAll(async () => {
  await farm?.stop();
  await redis?.stop();
});

/** A password post for an account that does not exist (no lockout counters move), straight to node i. */
const post = (i: number, from: string) => formSignIn(farm.nodes[i % farm.nodes.length]!.url, from, NOBODY, 'not-the-password');

describe('rate limits shared by the farm', () => {
  it('one address gets its allowance once for the farm, however its posts are spread; a flood from it does not spend the global allowance', async () => {
    const from = '198.51.100.77';
    for (let i = 0; i < PER_ADDRESS; i++) expect((await post(i, from)).status).toBe(401);
    for (let i = 0; i < 6; i++) {
      const r = await post(i, from);
      expect(r.status).toBe(429);
      expect(r.body).toContain('Too many sign-in attempts');
    }
    // Counted in Redis, by the one script: the address at 4 + 6 refused, the whole at 4 only.
    expect(await redis.cli('GET', 'gatehouse:rate:ip:198.51.100.77')).toBe('10');
    expect(await redis.cli('GET', 'gatehouse:rate:all')).toBe(String(PER_ADDRESS));
  });

  it('the global allowance is the farm\'s: once spent by many addresses over three servers, a new address is refused too', async () => {
    for (let i = PER_ADDRESS; i < GLOBAL; i++) expect((await post(i, `203.0.113.${100 + i}`)).status).toBe(401);
    const r = await post(0, '203.0.113.250');
    expect(r.status).toBe(429);
    await until('the refusal logged', () => farm.logs().some((l) => l.code === 'GH_RATE_LIMITED' && /^all: more than 12 a minute/.test(l.detail)), 5000);
  });
});
