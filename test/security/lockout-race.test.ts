// Issue 18, item 1: concurrent wrong passwords from unknown addresses must never lock the AD account, and
// an account AD has locked must not answer an unknown address differently from a wrong password.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Browser } from '../support/http.js';
import { startGatehouse, type RunningGatehouse } from '../support/gatehouse.js';
import { ldapBind, unlockUser } from '../support/directory.js';
import { adBadPwdCount, adLockoutTime, freshUsers } from '../support/users.js';
import { fireTogether, openSockets, rawRequest } from '../support/raw-http.js';
import { V13, buildRst } from '../wstrust/soap-client.js';

const M365 = 'urn:federation:MicrosoftOnline';
const HOME = '198.51.100.20';
const unknown = (i: number) => `203.0.113.${100 + i}`;

let gh: RunningGatehouse;
let users: { sam: string; upn: string; password: string }[];

beforeAll(async () => {
  users = await freshUsers('race', 4, 'Passw0rd!Race1');
  // Behind a "proxy" at 127.0.0.1, so X-Forwarded-For sets each request's client address; the lockout
  // thresholds are the defaults derived from AD's (3).
  gh = await startGatehouse((c) => {
    c.trustedProxies = ['127.0.0.1'];
    delete c.lockout.threshold;
  });
});
afterAll(async () => {
  await gh?.close();
  for (const u of users ?? []) unlockUser(u.sam);
});

async function formSignIn(from: string, username: string, password: string) {
  const b = new Browser({ 'x-forwarded-for': from });
  const form = (await b.get(`${gh.url}/adfs/ls/?wa=wsignin1.0&wtrealm=${encodeURIComponent(M365)}`)).form();
  const page = await b.post(form.action, { ...form.fields, UserName: username, Password: password });
  return { status: page.status, token: page.body.includes('name="wresult"'), error: page.text('#error') };
}

describe('smart lockout under concurrency', () => {
  it('16 WS-Trust wrong passwords from 16 unknown addresses at the same instant: AD never locks the account', async () => {
    const user = users[0]!;
    expect((await formSignIn(HOME, user.upn, user.password)).token).toBe(true);
    const before = adBadPwdCount(user.sam);
    const sockets = await openSockets(gh.url, 16);
    const requests = sockets.map((_, i) =>
      rawRequest(
        'POST',
        V13.path,
        { 'content-type': 'application/soap+xml; charset=utf-8', 'x-forwarded-for': unknown(i) },
        buildRst(V13, { baseUrl: gh.url, username: user.upn, password: `Spray-${i}!x` }),
      ),
    );
    const answers = await fireTogether(sockets, requests);
    expect(answers.map((a) => a.status)).toEqual(Array(16).fill(500));
    for (const a of answers) expect(a.body).toContain('FailedAuthentication');
    // Smart lockout's unknown-location threshold (half of AD's 3 = 1) counted the attempts in flight.
    expect(adBadPwdCount(user.sam) - before).toBeLessThanOrEqual(1);
    expect(adLockoutTime(user.sam)).toBe(0);
    expect((await formSignIn(HOME, user.upn, user.password)).token).toBe(true);
  });

  it('24 login-form posts with wrong passwords, each with its own CSRF pair, at the same instant: same', async () => {
    const user = users[1]!;
    expect((await formSignIn(HOME, user.upn, user.password)).token).toBe(true);
    const before = adBadPwdCount(user.sam);
    const prepared = await Promise.all(
      Array.from({ length: 24 }, async (_, i) => {
        const b = new Browser({ 'x-forwarded-for': unknown(i) });
        const form = (await b.get(`${gh.url}/adfs/ls/?wa=wsignin1.0&wtrealm=${encodeURIComponent(M365)}`)).form();
        const path = new URL(form.action).pathname + new URL(form.action).search;
        const cookie = [...b.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
        const body = new URLSearchParams({ ...form.fields, UserName: user.upn, Password: `Spray-${i}!y` }).toString();
        return rawRequest('POST', path, { 'content-type': 'application/x-www-form-urlencoded', cookie, 'x-forwarded-for': unknown(i) }, body);
      }),
    );
    const sockets = await openSockets(gh.url, prepared.length);
    const answers = await fireTogether(sockets, prepared);
    expect(answers.map((a) => a.status)).toEqual(Array(24).fill(401));
    for (const a of answers) expect(a.body).toContain('The user name or password is incorrect.');
    expect(adBadPwdCount(user.sam) - before).toBeLessThanOrEqual(1);
    expect(adLockoutTime(user.sam)).toBe(0);
    expect((await formSignIn(HOME, user.upn, user.password)).token).toBe(true);
  });

  it('the right password sent 8 times at the same instant from an unknown address: all signed in, one after the other', async () => {
    const user = users[3]!;
    const sockets = await openSockets(gh.url, 8);
    const requests = sockets.map(() =>
      rawRequest(
        'POST',
        V13.path,
        { 'content-type': 'application/soap+xml; charset=utf-8', 'x-forwarded-for': unknown(90) },
        buildRst(V13, { baseUrl: gh.url, username: user.upn, password: user.password }),
      ),
    );
    const answers = await fireTogether(sockets, requests);
    expect(answers.map((a) => a.status)).toEqual(Array(8).fill(200));
  });

  it('an account AD has locked answers an unknown address exactly as a wrong password; its own address is told', async () => {
    const user = users[2]!;
    expect((await formSignIn(HOME, user.upn, user.password)).token).toBe(true);
    for (let i = 0; i < 3; i++) ldapBind(user.upn, 'wrong-password');
    expect(adLockoutTime(user.sam)).toBeGreaterThan(0);
    const wrong = { status: 401, token: false, error: 'The user name or password is incorrect.' };
    expect(await formSignIn(unknown(50), user.upn, 'still-wrong')).toEqual(wrong);
    expect(await formSignIn(unknown(51), user.upn, user.password)).toEqual(wrong);
    expect(await formSignIn(HOME, user.upn, user.password)).toMatchObject({ status: 403, token: false, error: expect.stringMatching(/locked/) });
  });
});
