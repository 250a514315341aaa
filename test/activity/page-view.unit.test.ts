// The activity page's values in the page's language: kinds, outcomes, reasons and protocols from every
// shipped catalogue (none falls back to its key), times in UTC formatted for the language, codes kept.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { activityView, LABELLED_REASONS } from '../../src/activity/page-view.js';
import type { ActivityReport } from '../../src/activity/report.js';
import type { ActivityEvent } from '../../src/activity/events.js';
import { fill, readCatalogues } from '../../src/i18n/catalogue.js';

const catalogues = readCatalogues(join(import.meta.dirname, '../../locales'));
const T = Date.UTC(2026, 10, 30, 14, 5, 9);

const event = (e: Partial<ActivityEvent>): ActivityEvent => ({ time: T, kind: 'signin_attempt', user: 'ann@corp.example', outcome: 'success', addresses: ['198.51.100.7'], ...e });

const report: ActivityReport = {
  events: [
    event({ kind: 'signin_attempt', outcome: 'failure', reason: 'GH_AUTHN_FAILED', protocol: 'wsfed', realm: 'urn:federation:MicrosoftOnline', noAccount: true, correlationId: 'c-1' }),
    event({ kind: 'token_issued', protocol: 'saml2', realm: 'urn:wiki' }),
    event({ kind: 'password_change', outcome: 'failure', reason: 'GH_INTERNAL', protocol: 'portal' }),
    event({ kind: 'lockout_reset', protocol: 'cli', addresses: [] }),
    event({ kind: 'signin_attempt', protocol: 'ws-trust-1.3' }),
    event({ kind: 'signin_attempt', protocol: 'something-new' }),
  ],
  lockouts: [
    { account: 'a', userName: 'ann@corp.example', badUnknown: 1234, badFamiliar: 0, lastBadUnknown: T, lastBadFamiliar: 0, familiarAddresses: [] },
    { account: 'b', userName: 'bob@corp.example', badUnknown: 0, badFamiliar: 0, lastBadUnknown: 0, lastBadFamiliar: 0, familiarAddresses: [] },
  ],
  spray: [{ address: '203.0.113.9', failures: 6, users: 6, first: T, last: T + 60_000 }],
  since: T - 3_600_000,
};

const textsIn = (lang: string, locale = lang) => {
  const c = catalogues.get(lang)!;
  return { locale, t: (key: string, params?: Record<string, string>) => fill(c[key] ?? key, params) };
};

describe('activity page view', () => {
  it('in English: words for kinds, outcomes, reasons and protocols; the refusal code beside; times in UTC', () => {
    const v = activityView(report, textsIn('en'), (r) => ({ unknown: r.badUnknown > 1000, familiar: false }));
    expect(v.events.map((e) => [e.kind, e.result, e.code, e.protocol])).toEqual([
      ['Password check', 'Wrong password or no such user', 'GH_AUTHN_FAILED', 'WS-Federation'],
      ['Token issued', 'Succeeded', undefined, 'SAML 2.0'],
      ['Password change', 'Refused', 'GH_INTERNAL', 'Change-password page'],
      ['Lockout reset', 'Succeeded', undefined, 'Command line'],
      ['Password check', 'Succeeded', undefined, 'WS-Trust 1.3'],
      // A protocol the catalogue does not know yet is shown as recorded.
      ['Password check', 'Succeeded', undefined, 'something-new'],
    ]);
    expect(v.events[0]).toMatchObject({ noAccount: true, source: '198.51.100.7', correlationId: 'c-1', when: { iso: '2026-11-30T14:05:09Z' } });
    expect(v.events[0]!.when.text).toMatch(/^11\/30\/26, 2:05:09\sPM$/);
    expect(v.lockouts.map((l) => [l.user, l.badUnknown, l.locked, l.lastBad?.iso])).toEqual([
      ['ann@corp.example', '1,234', 'at unknown locations', '2026-11-30T14:05:09Z'],
      ['bob@corp.example', '0', 'no', undefined],
    ]);
    expect(v.spray[0]).toMatchObject({ address: '203.0.113.9', failures: '6', users: '6' });
  });

  it('a regional locale formats the dates its way (en-GB, de-CH); counts are grouped for the language', () => {
    expect(activityView(report, textsIn('en', 'en-GB'), () => ({ unknown: false, familiar: false })).events[0]!.when.text).toBe('30/11/2026, 14:05:09');
    const de = activityView(report, textsIn('de'), () => ({ unknown: true, familiar: true }));
    expect(de.events[0]!.when.text).toBe('30.11.26, 14:05:09');
    expect(de.lockouts[0]).toMatchObject({ badUnknown: '1.234', locked: 'überall' });
    expect(de.events[0]).toMatchObject({ kind: 'Kennwortprüfung', result: 'Falsches Kennwort oder unbekannter Benutzer' });
  });

  for (const lang of catalogues.keys()) {
    it(`${lang}: every kind, outcome, labelled reason, protocol and lock state has its text`, () => {
      const { t } = textsIn(lang);
      const all = [...report.events, ...LABELLED_REASONS.map((reason) => event({ outcome: 'failure', reason }))];
      const views = [
        activityView({ ...report, events: all }, textsIn(lang), () => ({ unknown: true, familiar: false })),
        activityView(report, textsIn(lang), () => ({ unknown: false, familiar: true })),
        activityView(report, textsIn(lang), () => ({ unknown: true, familiar: true })),
        activityView(report, textsIn(lang), () => ({ unknown: false, familiar: false })),
      ];
      for (const v of views) {
        for (const e of v.events) for (const text of [e.kind, e.result, e.protocol ?? '']) expect(text).not.toMatch(/^activity\./);
        for (const l of v.lockouts) expect(l.locked).not.toMatch(/^activity\./);
      }
      expect(new Set(views[0]!.events.slice(report.events.length).map((e) => e.result)).size).toBe(LABELLED_REASONS.length);
      expect(t('activity.outcome.success')).not.toBe(t('activity.outcome.failure'));
    });
  }
});
