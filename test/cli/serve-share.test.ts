// With several server processes (workers), each one counts credential posts on its own, so each gets its
// share of rateLimit: the cluster spreads connections evenly and the whole still allows about the
// configured number. The share comes from the number of processes serve really started (not from the
// configuration), so an app built in one process keeps the full limits.
import { describe, expect, it } from 'vitest';
import { Browser } from '../support/http.js';
import { startGatehouse } from '../support/gatehouse.js';

const M365 = 'urn:federation:MicrosoftOnline';
const NOBODY = 'share-nobody@corp.example.test'; // no such account: no AD counter moves

async function postsUntilRefused(serverProcesses: number | undefined, limit: number): Promise<number> {
  const g = await startGatehouse(
    (c) => {
      c.lockout = { mode: 'off' };
      c.rateLimit = { perAddressPerMinute: limit, globalPerMinute: 100_000 };
      c.workers = 0; // as configured by default; the share must not follow it
    },
    serverProcesses === undefined ? {} : { serverProcesses },
  );
  try {
    const b = new Browser();
    const login = await b.get(`${g.url}/adfs/ls/?wa=wsignin1.0&wtrealm=${encodeURIComponent(M365)}`);
    const { action, fields } = login.form();
    for (let i = 1; i <= limit + 1; i++) {
      const r = await b.post(new URL(action, g.url).toString(), { ...fields, UserName: NOBODY, Password: `Wrong-${i}!x` });
      if (r.status === 429) return i;
      expect(r.status).toBe(401);
    }
    return Infinity;
  } finally {
    await g.close();
  }
}

describe('rate limits with several server processes', () => {
  it('one of 2 processes allows its half of perAddressPerMinute (rounded up): 3 -> the 3rd post is refused', async () => {
    expect(await postsUntilRefused(2, 3)).toBe(3);
  });

  it('a single process (an app built in-process, whatever workers says) allows all of it: the 4th is refused', async () => {
    expect(await postsUntilRefused(undefined, 3)).toBe(4);
  });
});
