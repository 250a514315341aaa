// Issue 18, items 3 and 4: response times must not tell which user names exist. Measured with a
// Mann-Whitney U test (rank-based, so a few slow outliers on a loaded machine do not decide it).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Browser } from '../support/http.js';
import { startGatehouse, type RunningGatehouse } from '../support/gatehouse.js';
import { freshUsers } from '../support/users.js';
import { DC } from '../support/directory.js';
import { V13, buildRst } from '../wstrust/soap-client.js';

/** z score of the Mann-Whitney U statistic (normal approximation, ties averaged). */
export function mannWhitneyZ(a: number[], b: number[]): number {
  const all = [...a.map((v) => ({ v, g: 0 })), ...b.map((v) => ({ v, g: 1 }))].sort((x, y) => x.v - y.v);
  const ranks = new Array<number>(all.length);
  for (let i = 0; i < all.length; ) {
    let j = i;
    while (j + 1 < all.length && all[j + 1]!.v === all[i]!.v) j++;
    for (let k = i; k <= j; k++) ranks[k] = (i + j) / 2 + 1;
    i = j + 1;
  }
  const r1 = all.reduce((s, x, i) => (x.g === 0 ? s + ranks[i]! : s), 0);
  const n1 = a.length;
  const n2 = b.length;
  const u = r1 - (n1 * (n1 + 1)) / 2;
  return (u - (n1 * n2) / 2) / Math.sqrt((n1 * n2 * (n1 + n2 + 1)) / 12);
}

const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)]!;
// |z| above 3.29 means p < 0.001 (two-sided): the two groups would be told apart.
const INDISTINGUISHABLE = 3.29;

let gh: RunningGatehouse;
let bindUsers: { upn: string }[];
let changeUsers: { upn: string }[];
beforeAll(async () => {
  [bindUsers, changeUsers] = await Promise.all([freshUsers('tmb', 23, 'Passw0rd!Time1'), freshUsers('tmc', 18, 'Passw0rd!Time2')]);
  // Password changes go over StartTLS to the DC, verified against its CA.
  gh = await startGatehouse((c) => {
    c.directory.caFile = DC.caFile;
    c.directory.tlsServerName = DC.tlsServerName;
  });
}, 180_000);
afterAll(async () => gh?.close());

describe('timing does not reveal which user names exist', () => {
  it('WS-Trust, one wrong password each: existing accounts and unknown names take the same time', async () => {
    const wrong = async (username: string) => {
      const body = buildRst(V13, { baseUrl: gh.url, username, password: 'Not-the-password-1' });
      const t = performance.now();
      const res = await fetch(`${gh.url}${V13.path}`, { method: 'POST', headers: { 'content-type': 'application/soap+xml; charset=utf-8' }, body });
      await res.text();
      expect(res.status).toBe(500);
      return performance.now() - t;
    };
    // The first real wrong passwords are what decoy answers are drawn from.
    for (const u of bindUsers.slice(0, 8)) await wrong(u.upn);
    const existing: number[] = [];
    const unknown: number[] = [];
    for (let i = 0; i < 15; i++) {
      existing.push(await wrong(bindUsers[8 + i]!.upn));
      unknown.push(await wrong(`nobody-${i}-${Date.now()}@corp.example.test`));
    }
    const z = mannWhitneyZ(existing, unknown);
    expect(Math.abs(z), `medians ${median(existing).toFixed(1)} vs ${median(unknown).toFixed(1)} ms, z=${z.toFixed(2)}`).toBeLessThan(INDISTINGUISHABLE);
  });

  it('the change-password page, wrong old password: existing accounts and unknown names take the same time', async () => {
    const wrongOld = async (username: string) => {
      const b = new Browser();
      const form = (await b.get(`${gh.url}/adfs/portal/updatepassword`)).form();
      const fields = { ...form.fields, UserName: username, OldPassword: 'Not-the-password-2', NewPassword: 'N3w-Passw0rd!x', ConfirmPassword: 'N3w-Passw0rd!x' };
      const t = performance.now();
      const page = await b.post(form.action, fields);
      const ms = performance.now() - t;
      expect(page.status).toBe(401);
      expect(page.text('#error')).toBe('The user name or password is incorrect.');
      return ms;
    };
    for (const u of changeUsers.slice(0, 6)) await wrongOld(u.upn);
    const existing: number[] = [];
    const unknown: number[] = [];
    for (let i = 0; i < 12; i++) {
      existing.push(await wrongOld(changeUsers[6 + i]!.upn));
      unknown.push(await wrongOld(`nobody-c${i}-${Date.now()}@corp.example.test`));
    }
    const z = mannWhitneyZ(existing, unknown);
    expect(Math.abs(z), `medians ${median(existing).toFixed(1)} vs ${median(unknown).toFixed(1)} ms, z=${z.toFixed(2)}`).toBeLessThan(INDISTINGUISHABLE);
  });
});
