// The second factor in a farm (two servers and Redis, the MFA store shared): an authenticator app enrolled
// through node 1 signs in through node 2; a code accepted by one node is refused by the other (the replay
// cache is Redis); wrong codes on either node count toward one lockout; a recovery code works once across
// the farm; a passkey ceremony started by one node is finished by the other, and its answer is not
// accepted twice. The factors in Redis are sealed: no secret, no recovery code in the clear.
import { Secret, TOTP } from 'otpauth';
import { parse } from 'node-html-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshUser } from '../support/users.js';
import { Browser, type Page } from '../support/http.js';
import { SoftAuthenticator } from '../support/soft-authenticator.js';
import { Farm, M365, RedisServer, until } from './support.js';

let redis: RedisServer;
let farm: Farm;

const appUser = freshUser('farm-mfa-app', 'Passw0rd!FarmApp1');
const keyUser = freshUser('farm-mfa-key', 'Passw0rd!FarmKey1');
/** Read off the enrolment page (node 1). */
let secret = '';
let recoveryCodes: string[] = [];

beforeAll(async () => {
  redis = await RedisServer.create();
  farm = await Farm.start({
    redis,
    nodes: 2,
    mutate: (c) => {
      c.mfa = { enabled: true, require: { always: true }, lockout: { threshold: 4 } };
    },
  });
}, 120_000);

afterAll(async () => {
  await farm?.stop();
  await redis?.stop();
});

const node = (i: number) => farm.nodes[i]!;
/** The pages' forms post to publicUrl (the balancer): a test aimed at one node posts to that node. */
const at = (n: { url: string }, action: string) => action.replace(/^http:\/\/127\.0\.0\.1:\d+/, n.url);
const codeAt = (offsetSteps = 0) => new TOTP({ secret: Secret.fromBase32(secret), digits: 6, period: 30 }).generate({ timestamp: Date.now() + offsetSteps * 30_000 });

/** One browser's sign-in: the login page and the password on node `n`; @returns the page that follows (enrolment or code page). */
async function password(b: Browser, n: { url: string }, user: { upn: string; password: string }): Promise<Page> {
  const form = (await b.get(`${n.url}/adfs/ls/?wa=wsignin1.0&wtrealm=${encodeURIComponent(M365)}`)).form();
  return b.post(at(n, form.action), { ...form.fields, UserName: user.upn, Password: user.password });
}

/** A form of the page by the Action it posts: its action and fields (entities decoded), and its data-options as JSON. */
function formWith(page: Page, action: string) {
  const form = parse(page.body)
    .querySelectorAll('form')
    .find((f) => f.querySelector('input[name=Action]')?.getAttribute('value') === action);
  if (!form) throw new Error(`no ${action} form (status ${page.status}):\n${page.body.slice(0, 600)}`);
  const fields: Record<string, string> = {};
  for (const input of form.querySelectorAll('input')) if (input.getAttribute('name')) fields[input.getAttribute('name')!] = input.getAttribute('value') ?? '';
  const options = form.getAttribute('data-options');
  return { action: form.getAttribute('action')!, fields, options: options ? JSON.parse(options) : undefined };
}

/** Posts the code page's form of `action` on node `n` with `fields` added. */
async function answer(b: Browser, page: Page, n: { url: string }, action: string, fields: Record<string, string>): Promise<Page> {
  const f = formWith(page, action);
  return b.post(at(n, f.action), { ...f.fields, ...fields });
}

const tokenIn = (page: Page) => page.body.includes('name="wresult"');
const errorOf = (page: Page) => page.text('#error') ?? '';

describe('MFA across the farm (Redis MFA store)', () => {
  it('enrols an authenticator app through node 1 and signs in with a code through node 2', async () => {
    const b1 = new Browser({ 'x-forwarded-for': '198.51.100.41' });
    const enrol = await password(b1, node(0), appUser);
    secret = (enrol.text('#secret') ?? '').replace(/\s+/g, '');
    expect(secret).toMatch(/^[A-Z2-7]{32}$/);
    const codes = await answer(b1, enrol, node(0), 'mfaEnrol', { Code: codeAt(-1) });
    recoveryCodes = parse(codes.body).querySelectorAll('#recoveryCodes code').map((c) => c.text);
    expect(recoveryCodes).toHaveLength(10);
    expect(tokenIn(await answer(b1, codes, node(0), 'mfaContinue', {}))).toBe(true);

    const b2 = new Browser({ 'x-forwarded-for': '198.51.100.42' });
    const codePage = await password(b2, node(1), appUser);
    expect(formWith(codePage, 'mfaCode')).toBeDefined();
    expect(tokenIn(await answer(b2, codePage, node(1), 'mfaCode', { Code: codeAt() }))).toBe(true);
    await until('node 2 logs the second factor', () => farm.logs().some((l) => l.node === 'node2' && l.event === 'mfa_verified' && l.user === appUser.upn));

    // What Redis holds: the kinds and the UPN in the clear, the factors sealed.
    const keys = (await redis.cli('--scan', '--pattern', '*mfa*')).split('\n');
    const hash = keys.find((k) => k.endsWith('enrolments'))!;
    const stored = await redis.cli('HGETALL', hash);
    expect(stored).toContain(appUser.upn);
    expect(stored).not.toContain(secret);
    for (const c of recoveryCodes) expect(stored).not.toContain(c);
  });

  it('the code accepted by node 2 is refused when replayed on node 1 (one replay cache for the farm)', async () => {
    const b2 = new Browser({ 'x-forwarded-for': '198.51.100.43' });
    const code = codeAt(1);
    expect(tokenIn(await answer(b2, await password(b2, node(1), appUser), node(1), 'mfaCode', { Code: code }))).toBe(true);
    const b1 = new Browser({ 'x-forwarded-for': '198.51.100.44' });
    const replayed = await answer(b1, await password(b1, node(0), appUser), node(0), 'mfaCode', { Code: code });
    expect(tokenIn(replayed)).toBe(false);
    expect(replayed.status).toBe(401);
    expect(errorOf(replayed)).toMatch(/not right/);
  });

  it('a recovery code works once across the farm (and its success clears the count of wrong codes)', async () => {
    const b1 = new Browser({ 'x-forwarded-for': '198.51.100.45' });
    expect(tokenIn(await answer(b1, await password(b1, node(0), appUser), node(0), 'mfaRecovery', { Code: recoveryCodes[0]! }))).toBe(true);
    const b2 = new Browser({ 'x-forwarded-for': '198.51.100.46' });
    const again = await answer(b2, await password(b2, node(1), appUser), node(1), 'mfaRecovery', { Code: recoveryCodes[0]! });
    expect(tokenIn(again)).toBe(false);
    expect(errorOf(again)).toMatch(/not right/);
  });

  it('wrong codes on either node count toward one lockout of the second factor', async () => {
    // One wrong recovery code above (node 2); three more, alternating nodes, reach the threshold of 4.
    const wrong = String((Number(codeAt()) + 500_000) % 1_000_000).padStart(6, '0');
    const results: string[] = [];
    for (const i of [0, 1, 0]) {
      const b = new Browser({ 'x-forwarded-for': `198.51.100.${50 + results.length}` });
      results.push(errorOf(await answer(b, await password(b, node(i), appUser), node(i), 'mfaCode', { Code: wrong })));
    }
    expect(results[0]).toMatch(/not right/);
    expect(results[1]).toMatch(/not right/);
    expect(results[2]).toMatch(/locked/);
    // Locked on the other node too, even for the right code.
    const b = new Browser({ 'x-forwarded-for': '198.51.100.59' });
    const right = await answer(b, await password(b, node(1), appUser), node(1), 'mfaCode', { Code: codeAt(-1) });
    expect(tokenIn(right)).toBe(false);
    expect(errorOf(right)).toMatch(/locked/);
    // Each node logs the refusal it made (its output reaches the test a moment after the answer).
    const lockedOn = () => new Set(farm.logs().filter((l) => l.event === 'mfa_locked' && l.user === appUser.upn).map((l) => l.node));
    await until('the lockout logged by both nodes', () => lockedOn().size === 2);
    expect(lockedOn()).toEqual(new Set(['node1', 'node2']));
  });

  it('a passkey ceremony started on one node is finished on the other, and its answer is accepted once', async () => {
    const key = new SoftAuthenticator();
    // publicUrl is the balancer: the relying party ID and origin the servers expect.
    const origin = farm.url;

    const b1 = new Browser({ 'x-forwarded-for': '198.51.100.61' });
    const enrol = await password(b1, node(0), keyUser);
    const reg = formWith(enrol, 'mfaEnrolWebauthn');
    const codes = await b1.post(at(node(1), reg.action), { ...reg.fields, KeyName: 'Farm key', WebauthnResponse: JSON.stringify(key.register(reg.options, origin)) });
    expect(codes.body).toContain('id="recoveryCodes"');
    expect(tokenIn(await answer(b1, codes, node(1), 'mfaContinue', {}))).toBe(true);

    const b2 = new Browser({ 'x-forwarded-for': '198.51.100.62' });
    const codePage = await password(b2, node(1), keyUser);
    const auth = formWith(codePage, 'mfaWebauthn');
    const body = { ...auth.fields, WebauthnResponse: JSON.stringify(key.authenticate(auth.options, origin)) };
    expect(tokenIn(await b2.post(at(node(0), auth.action), body))).toBe(true);
    // The same answer again in another browser, on the node that issued the challenge: refused (the
    // challenge was used on node 1), and counted as a wrong answer.
    const b3 = new Browser({ 'x-forwarded-for': '198.51.100.63' });
    const fresh = formWith(await password(b3, node(1), keyUser), 'mfaWebauthn');
    const replayed = await b3.post(at(node(1), auth.action), { ...body, _csrf: fresh.fields._csrf! });
    expect(tokenIn(replayed)).toBe(false);
    expect(replayed.status).toBe(401);
    await until('both ceremonies logged', () => farm.logs().some((l) => l.event === 'mfa_verified' && l.user === keyUser.upn && l.method === 'webauthn' && l.node === 'node1'));
    expect(farm.logs().some((l) => l.event === 'mfa_enrolled' && l.user === keyUser.upn && l.method === 'webauthn' && l.node === 'node2')).toBe(true);
  });
});
