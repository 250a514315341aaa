// The smart-lockout policy on its own (no directory): derived thresholds for AD thresholds 3, 5 and 10, and
// the guarantee that unknown locations never lock the AD account, over random interleavings.
import { describe, expect, it } from 'vitest';
import {
  EMPTY_ACTIVITY, derivePolicy, locationOf, reserve, settle, type AccountActivity, type LockoutPolicy,
} from '../../src/lockout/smart-lockout.js';

function policyFor(adThreshold: number): LockoutPolicy {
  const d = derivePolicy({ observationWindowMinutes: 30 }, { lockoutThreshold: adThreshold, observationWindowMinutes: 10 });
  return {
    threshold: d.threshold, familiarThreshold: d.familiarThreshold, observationWindowMs: d.observationWindowMinutes * 60_000,
    maxFamiliarAddresses: 20, adThreshold, adObservationWindowMs: 10 * 60_000,
  };
}

describe('derived defaults', () => {
  it.each([
    [3, 1, 2],
    [5, 2, 3],
    [10, 5, 5],
    [0, 5, 5],
  ])('AD threshold %i: %i bad passwords from unknown locations, %i from familiar ones', (ad, unknown, familiar) => {
    const d = derivePolicy({ observationWindowMinutes: 30 }, { lockoutThreshold: ad });
    expect(d).toMatchObject({ threshold: unknown, familiarThreshold: familiar, observationWindowMinutes: 30 });
    expect(d.problem).toBeUndefined();
    expect(d.explanation.join('\n')).toContain('unknown locations');
  });

  it("takes AD's observation window when it is shorter, and says so", () => {
    const d = derivePolicy({ observationWindowMinutes: 30 }, { lockoutThreshold: 5, observationWindowMinutes: 1 });
    expect(d.observationWindowMinutes).toBe(1);
    expect(d.explanation.join('\n')).toMatch(/reset account lockout counter after/);
    expect(derivePolicy({ observationWindowMinutes: 15 }, { lockoutThreshold: 5, observationWindowMinutes: 60 }).observationWindowMinutes).toBe(15);
  });

  it('names the key when a configured threshold would let AD lock first', () => {
    expect(derivePolicy({ threshold: 3, observationWindowMinutes: 30 }, { lockoutThreshold: 3 }).problem).toContain('lockout.threshold: 3 is not below');
    expect(derivePolicy({ familiarThreshold: 5, observationWindowMinutes: 30 }, { lockoutThreshold: 5 }).problem).toContain('lockout.familiarThreshold: 5');
  });
});

describe.each([3, 5, 10])('AD threshold %i', (T) => {
  const p = policyFor(T);
  const HOME = ['198.51.100.1'];

  it('a typo and then the right password from a familiar address always go through', () => {
    let a: AccountActivity = { ...EMPTY_ACTIVITY, familiarAddresses: HOME };
    // Even after a sprayer used up the unknown locations' attempts.
    for (let i = 0; i < p.threshold; i++) {
      const r = reserve(a, 'unknown', p, { badPwdCount: i, badPasswordTime: 1000 }, `s${i}`, 1000);
      expect(r.refusal).toBeUndefined();
      a = settle(r.next, 'unknown', `s${i}`, 'bad-password', ['203.0.113.9'], p, 1000);
    }
    const typo = reserve(a, locationOf(a, HOME), p, { badPwdCount: p.threshold, badPasswordTime: 1000 }, 't', 2000);
    expect(typo.refusal).toBeUndefined();
    a = settle(typo.next, 'familiar', 't', 'bad-password', HOME, p, 2000);
    const right = reserve(a, locationOf(a, HOME), p, { badPwdCount: p.threshold + 1, badPasswordTime: 2000 }, 'r', 3000);
    expect(right.refusal).toBeUndefined();
  });

  it('over random interleavings of concurrent spray attempts and a user who makes at most one typo in a row, AD never locks', () => {
    let seed = T * 7919;
    const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    for (let run = 0; run < 300; run++) {
      let a: AccountActivity = { ...EMPTY_ACTIVITY, familiarAddresses: HOME };
      let adBad = 0;
      let adTime = 0;
      let now = 10_000;
      let lastWasTypo = false;
      const flying: { ticket: string; where: 'familiar' | 'unknown'; right: boolean }[] = [];
      for (let step = 0; step < 80; step++) {
        now += Math.floor(rand() * 2000);
        if (flying.length && rand() < 0.5) {
          // A bind finishes: AD counts it, then Gatehouse settles.
          const f = flying.splice(Math.floor(rand() * flying.length), 1)[0]!;
          if (f.right) adBad = 0;
          else {
            adBad++;
            adTime = now;
            expect(adBad, `AD locked by an attempt from ${f.where} (run ${run}, step ${step})`).toBeLessThan(T);
          }
          a = settle(a, f.where, f.ticket, f.right ? 'success' : 'bad-password', f.where === 'familiar' ? HOME : ['203.0.113.5'], p, now);
          continue;
        }
        // The user signs in one attempt at a time; the sprayer fires whenever it likes.
        const userBusy = flying.some((f) => f.where === 'familiar');
        const where = userBusy || rand() < 0.8 ? 'unknown' : 'familiar';
        const ticket = `${run}-${step}`;
        const r = reserve(a, where, p, { badPwdCount: adBad, badPasswordTime: adTime }, ticket, now);
        if (r.refusal) continue;
        a = r.next;
        let right = false;
        if (where === 'familiar') {
          right = lastWasTypo || rand() < 0.7;
          lastWasTypo = !right;
        }
        flying.push({ ticket, where, right });
      }
    }
  });

  it('a spray alone never brings AD closer than two attempts to its threshold', () => {
    let a: AccountActivity = EMPTY_ACTIVITY;
    let adBad = 0;
    for (let i = 0; i < 50; i++) {
      const r = reserve(a, 'unknown', p, { badPwdCount: adBad, badPasswordTime: 1000 }, `t${i}`, 1000 + i);
      if (r.refusal) continue;
      adBad++;
      a = settle(r.next, 'unknown', `t${i}`, 'bad-password', ['203.0.113.5'], p, 1000 + i);
    }
    expect(adBad).toBeLessThanOrEqual(T - 2);
  });
});
