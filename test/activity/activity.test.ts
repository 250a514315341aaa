// The help desk's activity view on one server (SQLite): the page refuses users outside activity.adminGroup,
// shows a password spray once one is run (from its own address, through a trusted proxy), resets a
// user's smart lockout with a CSRF-protected POST; `gatehouse activity` shows the same from the state.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { startGatehouse, type RunningGatehouse } from '../support/gatehouse.js';
import { Browser } from '../support/http.js';
import { freshUser } from '../support/users.js';
import { attempt, helpDeskGroup, openActivityPage, PAGE, rows, SPRAYER } from './support.js';

describe('activity view', () => {
  let gh: RunningGatehouse;
  let admin: ReturnType<typeof freshUser>;
  let clerk: ReturnType<typeof freshUser>;
  let victim: ReturnType<typeof freshUser>;
  const sprayed = Array.from({ length: 5 }, (_, i) => `spray-target-${i}@corp.example.test`);

  beforeAll(async () => {
    admin = freshUser('act-admin', 'Passw0rd!Admin1');
    clerk = freshUser('act-clerk', 'Passw0rd!Clerk1');
    victim = freshUser('act-victim', 'Passw0rd!Victim1');
    const group = helpDeskGroup('act-helpdesk', [admin.sam]);
    gh = await startGatehouse((c) => {
      c.trustedProxies = ['127.0.0.1'];
      c.activity = { adminGroup: group, retentionDays: 7 };
    });
    // The victim signs in from the office (familiar from now on).
    expect((await attempt(gh, '198.51.100.20', victim.upn, victim.password)).body).toContain('wresult');
    // The spray: five names that match no account and the real user, one bad password each, from SPRAYER.
    for (const name of [...sprayed, victim.upn]) expect((await attempt(gh, SPRAYER, name, 'Summer2026!')).status).toBe(401);
    await gh.app.gatehouse.activity.flush();
  }, 60_000);

  afterAll(async () => {
    await gh?.close();
  });

  it('asks for a sign-in, and refuses a user outside the help-desk group with a clear message', async () => {
    const first = await new Browser().get(`${gh.url}${PAGE}`);
    expect(first.status).toBe(200);
    expect(first.form().fields).toHaveProperty('UserName');
    const { page } = await openActivityPage(gh, clerk.upn, clerk.password);
    expect(page.status).toBe(403);
    expect(page.text('#error')).toContain(`You are signed in as ${clerk.upn}, who is not in the help desk's group`);
    expect(page.body).not.toContain(SPRAYER);
  });

  it('a wrong password on its form is refused like any sign-in', async () => {
    const browser = new Browser();
    const login = await browser.get(`${gh.url}${PAGE}`);
    const form = login.form();
    // The clerk, whose address is familiar since the test above (the admin's must stay clear of AD's counter).
    const page = await browser.post(new URL(form.action, gh.url).toString(), { ...form.fields, UserName: clerk.upn, Password: 'not-it' });
    expect(page.status).toBe(401);
    expect(page.text('#error')).toBe('The user name or password is incorrect.');
  });

  it('shows the spray: one source, six bad passwords, six user names; and the events with reason and correlation ID', async () => {
    const { page } = await openActivityPage(gh, admin.upn, admin.password);
    expect(page.status).toBe(200);
    expect(page.text('#admin')).toBe(admin.upn);
    const spray = rows(page, 'spray');
    expect(spray[0]!.slice(0, 3)).toEqual([SPRAYER, '6', '6']);
    const events = rows(page, 'events');
    const refused = events.filter((e) => e[1] === `${sprayed[0]} (no such account)`);
    expect(refused).toHaveLength(1);
    // Kinds, reasons and protocols in words, the refusal's code beside its reason (as the log has it).
    expect(refused[0]!.slice(2, 6)).toEqual(['Password check', 'Wrong password or no such user GH_AUTHN_FAILED', 'urn:federation:MicrosoftOnline WS-Federation', SPRAYER]);
    expect(refused[0]![6]).toMatch(/^[0-9a-f-]{36}$/);
    // The victim's success: the password check and the token, both with the request's correlation ID.
    const ok = events.filter((e) => e[1] === victim.upn && e[3] === 'Succeeded').map((e) => e[2]);
    expect(ok).toEqual(expect.arrayContaining(['Password check', 'Token issued']));
    // Times in the page's language, UTC, with the machine form in <time datetime>.
    expect(page.body).toMatch(/<time datetime="\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z">\d{1,2}\/\d{1,2}\/\d{2}, \d{1,2}:\d\d:\d\d\s?[AP]M<\/time>/);
    // Smart lockout: the victim's bad password from the unknown address is counted.
    expect(rows(page, 'lockouts').find((l) => l[0] === victim.upn)?.slice(1, 3)).toEqual(['1', '0']);
  });

  it('resets a lockout with the button (a POST with the CSRF token), and refuses one without the token', async () => {
    const { browser, page } = await openActivityPage(gh, admin.upn, admin.password);
    const resetUrl = `${gh.url}${PAGE}/reset`;
    expect((await browser.post(resetUrl, { user: victim.upn, location: 'all' })).status).toBe(403);
    const csrf = /name="_csrf" value="([^"]+)"/.exec(page.body)![1]!;
    const done = await browser.post(resetUrl, { _csrf: csrf, user: victim.upn, location: 'all' });
    expect(done.status).toBe(303);
    const after = await browser.get(done.headers.get('location')!);
    expect(after.text('#reset-done')).toContain(victim.upn);
    expect(rows(after, 'lockouts').find((l) => l[0] === victim.upn)?.slice(1, 3)).toEqual(['0', '0']);
    const rowsOf = await gh.app.gatehouse.state.lockout.list(victim.upn);
    expect(rowsOf[0]).toMatchObject({ badUnknown: 0, badFamiliar: 0 });
    await gh.app.gatehouse.activity.flush();
    const reset = (await gh.app.gatehouse.state.activity.recent({ user: victim.upn, limit: 10 })).find((e) => e.kind === 'lockout_reset');
    expect(reset).toMatchObject({ outcome: 'success', detail: `by ${admin.upn}` });
  });

  it('speaks the browser\'s language (German dates), or the one lc asks for (Arabic, right to left), through a reset', async () => {
    const { browser } = await openActivityPage(gh, admin.upn, admin.password);
    browser.headers['accept-language'] = 'de-CH,de;q=0.9';
    const de = await browser.get(`${gh.url}${PAGE}`);
    expect(de.headers.get('content-language')).toBe('de');
    expect(de.text('h1')).toBe('Anmeldeaktivität');
    expect(de.text('#spray-heading')).toBe('Häufigste Quellen falscher Kennwörter, letzte Stunde');
    expect(de.body).toMatch(/<time datetime="[^"]+Z">\d\d\.\d\d\.\d\d, \d\d:\d\d:\d\d<\/time>/);
    const refused = rows(de, 'events').find((e) => e[1] === `${sprayed[1]} (kein solches Konto)`);
    expect(refused?.slice(2, 4)).toEqual(['Kennwortprüfung', 'Falsches Kennwort oder unbekannter Benutzer GH_AUTHN_FAILED']);

    const ar = await browser.get(`${gh.url}${PAGE}?lc=1025&user=${encodeURIComponent(victim.upn)}`);
    expect(/<html lang="([^"]+)" dir="([^"]+)"/.exec(ar.body)?.slice(1)).toEqual(['ar', 'rtl']);
    expect(ar.text('h1')).toBe('نشاط تسجيل الدخول');
    // The hint goes with the "Show" form (a field) and the reset (its URL, then the redirect back).
    expect(ar.body).toContain('<input type="hidden" name="lc" value="1025">');
    const reset = /<form method="post" action="([^"]+)">/.exec(ar.body)![1]!.replace(/&amp;/g, '&');
    expect(new URL(reset).searchParams.get('lc')).toBe('1025');
    const csrf = /name="_csrf" value="([^"]+)"/.exec(ar.body)![1]!;
    const done = await browser.post(reset, { _csrf: csrf, user: victim.upn, location: 'all' });
    expect(new URL(done.headers.get('location')!).searchParams.get('lc')).toBe('1025');
    const after = await browser.get(done.headers.get('location')!);
    expect(after.text('#reset-done')).toBe(`تمت إعادة تعيين عدّادات القفل الذكي للمستخدم ${victim.upn}.`);
  });

  it('a non-admin cannot reset either, even with a valid CSRF token', async () => {
    const { browser } = await openActivityPage(gh, clerk.upn, clerk.password);
    // A valid CSRF token of the clerk's own browser (any form of Gatehouse gives one).
    const page = await browser.get(`${gh.url}/adfs/portal/updatepassword`);
    const csrf = /name="_csrf" value="([^"]+)"/.exec(page.body)![1]!;
    const r = await browser.post(`${gh.url}${PAGE}/reset`, { _csrf: csrf, user: victim.upn });
    expect(r.status).toBe(403);
    expect(r.text('#error')).toContain('not in the help desk');
  });

  it('gatehouse activity show: the same spray, events and counters from the state database', () => {
    const cfg = join(gh.dir, 'gatehouse.yaml');
    const text = runCli(['activity', 'show', '-c', cfg], { cwd: gh.dir });
    expect(text.stderr).toBe('');
    expect(text.status).toBe(0);
    expect(text.stdout).toContain(`  ${SPRAYER}  6 bad passwords, 6 user names`);
    expect(text.stdout).toMatch(new RegExp(`${sprayed[2]} \\(no such account\\)  signin_attempt  GH_AUTHN_FAILED  urn:federation:MicrosoftOnline  from ${SPRAYER.replace(/\./g, '\\.')}  correlation [0-9a-f-]{36}`));
    const json = JSON.parse(runCli(['activity', 'show', '-c', cfg, '--user', victim.upn, '--json'], { cwd: gh.dir }).stdout);
    expect(json.spray[0]).toMatchObject({ address: SPRAYER, failures: 6, users: 6 });
    expect(json.events.map((e: { kind: string }) => e.kind)).toEqual(expect.arrayContaining(['lockout_reset', 'token_issued', 'signin_attempt']));
    expect(json.events.every((e: { user: string }) => e.user === victim.upn)).toBe(true);
    expect(json.lockouts).toHaveLength(1);
  });

  it('gatehouse activity reset: clears the counters, and says so when there are none', async () => {
    expect((await attempt(gh, SPRAYER, victim.upn, 'Autumn2026!')).status).toBe(401);
    const cfg = join(gh.dir, 'gatehouse.yaml');
    const r = runCli(['activity', 'reset', victim.upn, '-c', cfg], { cwd: gh.dir });
    expect(r.stdout).toBe(`reset all counters of ${victim.upn}\n`);
    expect((await gh.app.gatehouse.state.lockout.list(victim.upn))[0]).toMatchObject({ badUnknown: 0 });
    const none = runCli(['activity', 'reset', 'nobody@nowhere', '-c', cfg], { cwd: gh.dir });
    expect(none.status).toBe(1);
    expect(none.stderr).toContain('no lockout state for nobody@nowhere');
  });
});

describe('activity page without activity.adminGroup', () => {
  it('says it is not set up', async () => {
    const gh = await startGatehouse();
    try {
      const page = await new Browser().get(`${gh.url}${PAGE}`);
      expect(page.status).toBe(404);
      expect(page.text('h1')).toBe('The activity page is not set up');
    } finally {
      await gh.close();
    }
  });
});
