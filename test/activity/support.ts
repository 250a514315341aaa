import { expect } from 'vitest';
import { Browser, type Page } from '../support/http.js';
import type { RunningGatehouse } from '../support/gatehouse.js';
import { samba } from '../support/directory.js';
import { DC } from '../support/directory.js';

export const M365 = 'urn:federation:MicrosoftOnline';
export const SPRAYER = '203.0.113.9';
export const PAGE = '/adfs/portal/activity';

/** The help desk's AD group, made afresh with `members`; returns its DN. */
export function helpDeskGroup(name: string, members: string[]): string {
  try {
    samba('group', 'delete', name);
  } catch {
    // did not exist
  }
  samba('group', 'add', name);
  if (members.length) samba('group', 'addmembers', name, members.join(','));
  return `CN=${name},CN=Users,${DC.baseDn}`;
}

/** One login-form post for Microsoft 365, from `from` (X-Forwarded-For: the server trusts 127.0.0.1 as a proxy). */
export async function attempt(gh: Pick<RunningGatehouse, 'url'>, from: string, username: string, password: string): Promise<Page> {
  const browser = new Browser({ 'x-forwarded-for': from });
  const login = await browser.get(`${gh.url}/adfs/ls/?wa=wsignin1.0&wtrealm=${encodeURIComponent(M365)}`);
  const form = login.form();
  return browser.post(new URL(form.action, gh.url).toString(), { ...form.fields, UserName: username, Password: password });
}

/** Signs in on the activity page's own form and follows the redirect back to it. */
export async function openActivityPage(gh: Pick<RunningGatehouse, 'url'>, username: string, password: string): Promise<{ browser: Browser; page: Page }> {
  const browser = new Browser();
  const login = await browser.get(`${gh.url}${PAGE}`);
  expect(login.status).toBe(200);
  const form = login.form();
  const posted = await browser.post(new URL(form.action, gh.url).toString(), { ...form.fields, UserName: username, Password: password });
  expect(posted.status).toBe(303);
  return { browser, page: await browser.get(posted.headers.get('location')!) };
}

/** The rows of a table of the page, as cell texts. */
export function rows(page: Page, id: string): string[][] {
  // node-html-parser through Page.text would only give one element; parse the table here.
  const table = new RegExp(`<table id="${id}">([\\s\\S]*?)</table>`).exec(page.body)?.[1] ?? '';
  return [...table.matchAll(/<tr>([\s\S]*?)<\/tr>/g)]
    .map((r) => [...r[1]!.matchAll(/<td>([\s\S]*?)<\/td>/g)].map((c) => c[1]!.replace(/<[^>]+>/g, '').trim()))
    .filter((cells) => cells.length);
}
