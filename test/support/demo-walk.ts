// Walks through the demo the way its printed text tells a person to: open the demo application, follow its
// sign-in link to Gatehouse, sign in as one of the listed users, change the password when asked, and read
// what the demo application shows. Used for `npm run demo` and the Docker trial, which set up the same thing.
import type { Browser as Chromium } from 'playwright-core';
import { launchChromium } from './chromium.js';
import { parse } from 'node-html-parser';
import { Browser, type Page } from './http.js';

export const REASONS = {
  mustChange: 'You must change your password before you can sign in.',
  expired: 'Your password has expired and must be changed before you can sign in.',
};

/** The users that npm run demo lists (and the Docker trial has), what the list says, and what that looks like. */
export const DEMO_USERS = [
  { name: 'alice@corp.example.test', password: 'Passw0rd!Alice', listed: 'signs in', shows: 'signs in as alice@corp.example.test' },
  { name: 'CORP\\bob', password: 'Passw0rd!Bob1', listed: 'signs in', shows: 'signs in as bob@corp.example.test' },
  { name: 'carol', password: 'Passw0rd!Carol', listed: 'disabled', shows: 'Your account is disabled. Contact your help desk.' },
  { name: 'dave', password: 'Passw0rd!Dave1', listed: 'must change password', shows: REASONS.mustChange },
  { name: 'hank', password: 'Passw0rd!Hank1', listed: 'password expired', shows: REASONS.expired },
  { name: 'frank', password: 'Passw0rd!Frank1', listed: 'account expired', shows: 'Your account has expired. Contact your help desk.' },
] as const;

/** One line for what a sign-in came to, in the words of DEMO_USERS' `shows`. */
export function describeOutcome(o: Outcome): string {
  if (o.kind === 'signed-in') {
    return o.rpStatus === 200 && o.signatureValid ? `signs in as ${o.claims.UPN}` : `demo application answered ${o.rpStatus}: ${o.rpBody.slice(0, 400)}`;
  }
  return o.kind === 'change-password' ? o.reason : o.error;
}

/** Signs in as each of DEMO_USERS through the demo application: user name -> describeOutcome. */
export async function tryEveryDemoUser(rpUrl: string): Promise<Record<string, string>> {
  const seen: Record<string, string> = {};
  for (const u of DEMO_USERS) seen[u.name] = describeOutcome(await signInThroughDemoRp(rpUrl, u.name, u.password));
  return seen;
}

export type Outcome =
  | { kind: 'signed-in'; rpStatus: number; rpBody: string; signatureValid: boolean; claims: Record<string, string> }
  | { kind: 'change-password'; reason: string; page: Page; pageUrl: string; browser: Browser }
  | { kind: 'refused'; status: number; error: string };

/** Debian's Chromium, headless; only loopback names resolve (the demo's URLs say localhost). */
export function launchDemoChromium(): Promise<Chromium> {
  return launchChromium({ resolve: ['localhost'] });
}

function describePage(p: Page): string {
  return `status ${p.status}: ${p.body.replace(/\s+/g, ' ').slice(0, 600)}`;
}

/** What the demo application's page shows after a token was posted to it. */
function readRpPage(status: number, body: string): Outcome {
  const root = parse(body);
  const claims: Record<string, string> = {};
  for (const tr of root.querySelectorAll('tr')) {
    const [k, v] = tr.querySelectorAll('td');
    if (k && v) claims[k.text.split('/').pop()!] = v.text;
  }
  return {
    kind: 'signed-in',
    rpStatus: status,
    rpBody: body,
    signatureValid: /Signature: <b>valid<\/b>/.test(body),
    claims,
  };
}

/** Follows Gatehouse's answer to a sign-in or password-change POST. */
async function follow(b: Browser, page: Page, pageUrl: string): Promise<Outcome> {
  const root = parse(page.body);
  if (root.querySelector('form#autopost')) {
    const form = page.form();
    const res = await fetch(new URL(form.action, pageUrl), {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(form.fields).toString(),
    });
    return readRpPage(res.status, await res.text());
  }
  const reason = root.querySelector('#reason');
  if (reason) return { kind: 'change-password', reason: reason.text.trim(), page, pageUrl, browser: b };
  const error = root.querySelector('#error');
  if (error) return { kind: 'refused', status: page.status, error: error.text.trim() };
  throw new Error(`unexpected answer from Gatehouse: ${describePage(page)}`);
}

/** Opens the demo application, follows its sign-in link and signs in; the answer, followed to the end. */
export async function signInThroughDemoRp(rpUrl: string, username: string, password: string): Promise<Outcome> {
  const b = new Browser();
  const home = await b.get(rpUrl);
  if (home.status !== 200) throw new Error(`demo application ${rpUrl}: ${describePage(home)}`);
  const href = parse(home.body).querySelector('a')?.getAttribute('href');
  if (!href) throw new Error(`no sign-in link on the demo application's page: ${describePage(home)}`);
  const loginUrl = new URL(href.replace(/&amp;/g, '&'), rpUrl).toString();
  const login = await b.get(loginUrl);
  if (login.status !== 200) throw new Error(`sign-in page ${loginUrl}: ${describePage(login)}`);
  const form = login.form();
  const action = new URL(form.action, loginUrl).toString();
  const answer = await b.post(action, { ...form.fields, UserName: username, Password: password });
  return follow(b, answer, action);
}

/** On the change-password page that signInThroughDemoRp reached: changes the password and follows on. */
export async function changePasswordHttp(outcome: Outcome & { kind: 'change-password' }, oldPassword: string, newPassword: string): Promise<Outcome> {
  const b = outcome.browser;
  const form = outcome.page.form();
  const action = new URL(form.action, outcome.pageUrl).toString();
  const answer = await b.post(action, { ...form.fields, OldPassword: oldPassword, NewPassword: newPassword, ConfirmPassword: newPassword });
  if (answer.status !== 200) throw new Error(`password change answered ${describePage(answer)}`);
  return follow(b, answer, action);
}

/**
 * In Chromium: the demo application, its sign-in link, the user's current password, the change-password page,
 * the new password, and back on the demo application. Returns what the demo application shows.
 */
export async function changePasswordInChromium(
  browser: Chromium,
  rpUrl: string,
  username: string,
  oldPassword: string,
  newPassword: string,
): Promise<{ reason: string; heading: string; body: string; viewport: string | null }> {
  const context = await browser.newContext();
  const wait = { timeout: 15_000 };
  try {
    const page = await context.newPage();
    await page.goto(rpUrl, wait);
    const viewport = await page.locator('meta[name="viewport"]').getAttribute('content');
    await Promise.all([page.waitForURL(/\/adfs\/ls\//, wait), page.getByText('Sign in with Gatehouse').click()]);
    await page.locator('#UserName').fill(username);
    await page.locator('#Password').fill(oldPassword);
    await page.locator('#Password').press('Enter');
    const reasonOrError = page.locator('#reason, #error');
    await reasonOrError.first().waitFor(wait);
    if (await page.locator('#error').count()) throw new Error(`sign-in refused: ${await page.locator('#error').textContent()}`);
    const reason = ((await page.locator('#reason').textContent()) ?? '').trim();
    await page.locator('#OldPassword').fill(oldPassword);
    await page.locator('#NewPassword').fill(newPassword);
    await page.locator('#ConfirmPassword').fill(newPassword);
    await page.locator('#ConfirmPassword').press('Enter');
    const rpOrigin = new URL(rpUrl).origin;
    await page.waitForURL((u) => u.origin === rpOrigin, wait).catch(async (err: Error) => {
      const error = await page.locator('#error').textContent().catch(() => null);
      throw new Error(`did not get back to the demo application (${page.url()}): ${error ?? err.message}`);
    });
    await page.locator('h1').waitFor(wait);
    return { reason, heading: ((await page.locator('h1').textContent()) ?? '').trim(), body: await page.content(), viewport };
  } finally {
    await context.close();
  }
}
