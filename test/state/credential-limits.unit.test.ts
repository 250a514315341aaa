import { describe, expect, it } from 'vitest';
import { LocalCredentialLimiter } from '../../src/state/credential-limits.js';

describe('credential rate limits in one process', () => {
  it('refuses an address past its allowance, and its refused posts do not spend the global one', async () => {
    const limiter = new LocalCredentialLimiter({ perAddress: 2, global: 3, windowMs: 60_000 });
    expect(await limiter.check('10.0.0.1')).toEqual({ allowed: true });
    expect(await limiter.check('10.0.0.1')).toEqual({ allowed: true });
    for (let i = 0; i < 5; i++) {
      const v = await limiter.check('10.0.0.1');
      expect(v).toMatchObject({ allowed: false, limit: 'address', max: 2 });
      if (!v.allowed) expect(v.retryAfterSeconds).toBeGreaterThanOrEqual(1);
    }
    expect(await limiter.check('10.0.0.2')).toEqual({ allowed: true });
    expect(await limiter.check('10.0.0.3')).toMatchObject({ allowed: false, limit: 'global', max: 3 });
  });

  it('a new window allows again', async () => {
    const limiter = new LocalCredentialLimiter({ perAddress: 1, global: 100, windowMs: 50 });
    expect((await limiter.check('10.0.0.1')).allowed).toBe(true);
    expect((await limiter.check('10.0.0.1')).allowed).toBe(false);
    await new Promise((r) => setTimeout(r, 80));
    expect((await limiter.check('10.0.0.1')).allowed).toBe(true);
  });
});
