// The language a sign-in application asks for, on a real server: Microsoft's hints (lc/lcid as a Windows
// LCID, mkt as a culture name, also lc inside wctx), ui_locales, over WS-Federation and SAML 2.0. The
// choice survives the form's post (login page -> POST -> error page, same language); unknown values fall
// back to Accept-Language, then English.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Browser, type Page } from '../support/http.js';
import { startGatehouse, testKeys, type RunningGatehouse } from '../support/gatehouse.js';
import { makeSp, type TestSp } from '../saml2/sp.js';

const M365 = 'urn:federation:MicrosoftOnline';
const NOBODY = 'nobody-such@corp.example.test';

let gh: RunningGatehouse;
let sp: TestSp;

beforeAll(async () => {
  sp = makeSp(mkdtempSync(join(tmpdir(), 'lang-sp-')), 'lang-wiki', testKeys().certPem, 'http://placeholder/adfs/ls/');
  gh = await startGatehouse((c) => {
    c.relyingParties.push({ id: sp.entityId, name: 'Wiki', protocol: 'saml2', metadataFile: sp.metadataFile });
  });
  sp.saml.options.entryPoint = `${gh.url}/adfs/ls/`;
});
afterAll(async () => gh?.close());

const wsfed = (query: string) => `${gh.url}/adfs/ls/?wa=wsignin1.0&wtrealm=${encodeURIComponent(M365)}${query}`;

/** The login form posted with a wrong password: the error page that answers it. */
async function wrongPassword(browser: Browser, login: Page): Promise<Page> {
  const form = login.form();
  return browser.post(new URL(form.action, gh.url).toString(), { ...form.fields, UserName: NOBODY, Password: 'not the password' });
}

const lang = (page: Page) => /<html lang="([^"]+)" dir="([^"]+)"/.exec(page.body)?.slice(1, 3);

describe('WS-Federation: the hints Microsoft sends', () => {
  it('lc=1031 (German) wins over the browser\'s French, and the error page after the post is German too', async () => {
    const browser = new Browser({ 'accept-language': 'fr-FR,fr;q=0.9' });
    const login = await browser.get(wsfed('&wctx=LoginOptions%3D3%26estsredirect%3D2&cbcxt=&mkt=&lc=1031'));
    expect(login.status).toBe(200);
    expect(lang(login)).toEqual(['de', 'ltr']);
    expect(login.headers.get('content-language')).toBe('de');
    expect(login.text('h1')).toBe('Anmelden');
    const error = await wrongPassword(browser, login);
    expect(error.status).toBe(401);
    expect(lang(error)).toEqual(['de', 'ltr']);
    expect(error.text('#error')).toBe('Benutzername oder Kennwort ist falsch.');
  });

  it('mkt=es-ES, lcid=1043 and Arabic\'s LCID (right to left), each through the post', async () => {
    for (const [query, expected, heading, dir] of [
      ['&mkt=es-ES&lc=', 'es', 'Iniciar sesión', 'ltr'],
      ['&lcid=1043', 'nl', 'Aanmelden', 'ltr'],
      ['&lc=3073', 'ar', 'تسجيل الدخول', 'rtl'],
    ] as const) {
      const browser = new Browser({ 'accept-language': 'de' });
      const login = await browser.get(wsfed(query));
      expect(lang(login), query).toEqual([expected, dir]);
      expect(login.text('h1')).toBe(heading);
      const error = await wrongPassword(browser, login);
      expect(lang(error), query).toEqual([expected, dir]);
    }
  });

  it('an lc inside wctx counts when the URL has none of its own', async () => {
    const login = await new Browser().get(wsfed('&wctx=MEST%3D0%26LoginOptions%3D2%26lc%3D1036%26id%3D271346'));
    expect(lang(login)).toEqual(['fr', 'ltr']);
  });

  it('unknown values fall back to Accept-Language, then to English', async () => {
    const junk = '&lc=9999&mkt=xx-YY&ui_locales=zz%20tlh';
    const pt = await new Browser({ 'accept-language': 'ja, pt-BR;q=0.8' }).get(wsfed(junk));
    expect(lang(pt)).toEqual(['pt', 'ltr']);
    const browser = new Browser({ 'accept-language': 'ja' });
    const en = await browser.get(wsfed(`${junk}&lcid=%3Cscript%3E`));
    expect(lang(en)).toEqual(['en', 'ltr']);
    expect(en.body).not.toContain('<script>');
    const error = await wrongPassword(browser, en);
    expect(error.text('#error')).toBe('The user name or password is incorrect.');
  });
});

describe('SAML 2.0: the hints go with the request to the sign-in page', () => {
  it('mkt on the AuthnRequest\'s URL: the sign-in page it is sent to and its error page speak German', async () => {
    const browser = new Browser({ 'accept-language': 'en' });
    const url = `${await sp.saml.getAuthorizeUrlAsync('relay', undefined, {})}&mkt=de-DE`;
    const first = await browser.get(url);
    expect(first.status).toBe(303);
    const next = new URL(first.headers.get('location')!);
    expect(next.searchParams.get('mkt')).toBe('de-DE');
    const login = await browser.get(next.toString());
    expect(lang(login)).toEqual(['de', 'ltr']);
    expect(login.text('p.muted strong')).toBe('Wiki');
    const error = await wrongPassword(browser, login);
    expect(error.status).toBe(401);
    expect(lang(error)).toEqual(['de', 'ltr']);
    expect(error.text('#error')).toBe('Benutzername oder Kennwort ist falsch.');
  });

  it('ui_locales (and lcid) travel the same way; without a hint the URL carries none', async () => {
    const browser = new Browser();
    const withHint = await browser.get(`${await sp.saml.getAuthorizeUrlAsync('', undefined, {})}&ui_locales=nl-BE%20en&lcid=1031`);
    const next = new URL(withHint.headers.get('location')!);
    expect([next.searchParams.get('ui_locales'), next.searchParams.get('lc')]).toEqual(['nl-BE en', '1031']);
    expect(lang(await browser.get(next.toString()))).toEqual(['nl', 'ltr']);
    const plain = await new Browser().get(await sp.saml.getAuthorizeUrlAsync('', undefined, {}));
    expect([...new URL(plain.headers.get('location')!).searchParams.keys()]).toEqual(['ctx']);
  });
});

describe('the portal\'s change-password page', () => {
  it('ui_locales=fr: the form and the error after its post are French', async () => {
    const browser = new Browser({ 'accept-language': 'de' });
    const page = await browser.get(`${gh.url}/adfs/portal/updatepassword?ui_locales=fr`);
    expect(lang(page)).toEqual(['fr', 'ltr']);
    const form = page.form();
    const error = await browser.post(new URL(form.action, gh.url).toString(), {
      ...form.fields,
      UserName: NOBODY,
      OldPassword: 'old one',
      NewPassword: 'Passw0rd!New1',
      ConfirmPassword: 'Passw0rd!New2',
    });
    expect(lang(error)).toEqual(['fr', 'ltr']);
    expect(error.text('#error')).toBe('Les nouveaux mots de passe ne correspondent pas.');
  });
});
