// The second factor's parts without a DC: the policy rules, TOTP steps and skew, recovery codes, and the
// MfaService on an in-memory SQLite store (codes once, lockout, factors sealed at rest).
import { randomBytes } from 'node:crypto';
import Database from 'better-sqlite3';
import { Secret, TOTP } from 'otpauth';
import { describe, expect, it } from 'vitest';
import { Value } from '@sinclair/typebox/value';
import { MfaConfigSchema, type MfaConfig } from '../../src/config/schema/mfa.js';
import { alwaysRequired, inGracePeriod, mfaReason } from '../../src/mfa/policy.js';
import { hashRecoveryCode, newRecoveryCodes } from '../../src/mfa/recovery-codes.js';
import { MfaService } from '../../src/mfa/service.js';
import { SqliteMfaStore } from '../../src/mfa/store.js';
import { webAuthnRp } from '../../src/mfa/webauthn.js';
import { matchingStep, newTotpSecret, qrSvg, totpUri } from '../../src/mfa/totp.js';
import { SqliteReplayCache } from '../../src/state/replay-cache.js';
import { SoftAuthenticator } from '../support/soft-authenticator.js';
import type { DirectoryUser } from '../../src/directory/user.js';

const config = (over: Record<string, unknown> = {}): MfaConfig => Value.Default(MfaConfigSchema, structuredClone({ enabled: true, ...over })) as MfaConfig;
const user = { dn: 'CN=u,DC=x', sAMAccountName: 'u', userPrincipalName: 'u@x.test', objectGUID: randomBytes(16) } as DirectoryUser;
const code = (secret: string, at: number) => new TOTP({ secret: Secret.fromBase32(secret), digits: 6, period: 30, algorithm: 'SHA1' }).generate({ timestamp: at });

describe('mfa policy', () => {
  const q = { relyingParty: 'urn:rp', user, insideCorporateNetwork: true, requested: false };
  const never = async () => false;
  it('any rule that applies asks; groups are read only when nothing else decided', async () => {
    let asked = 0;
    const member = async () => (asked++, true);
    expect(await mfaReason(config(), q, never)).toBeUndefined();
    expect(await mfaReason(config(), { ...q, requested: true }, never)).toBe('requested');
    expect(await mfaReason(config({ require: { whenRequested: false } }), { ...q, requested: true }, never)).toBeUndefined();
    expect(await mfaReason(config({ require: { always: true, groups: ['CN=g'] } }), q, member)).toBe('always');
    expect(asked).toBe(0);
    expect(await mfaReason(config({ require: { relyingParties: ['urn:rp'] } }), q, never)).toBe('relyingParty');
    expect(await mfaReason(config({ require: { outsideCorporateNetwork: true } }), q, never)).toBeUndefined();
    expect(await mfaReason(config({ require: { outsideCorporateNetwork: true } }), { ...q, insideCorporateNetwork: false }, never)).toBe('outsideCorporateNetwork');
    expect(await mfaReason(config({ require: { groups: ['CN=g'] } }), q, member)).toBe('group');
    expect(await mfaReason(config({ require: { groups: ['CN=g'] } }), q, never)).toBeUndefined();
  });

  it('the grace period lasts to the end of its UTC day', () => {
    expect(inGracePeriod(config())).toBe(false);
    const c = config({ enrolment: { graceUntil: '2026-12-31' } });
    expect(inGracePeriod(c, new Date('2026-12-31T23:59:59Z'))).toBe(true);
    expect(inGracePeriod(c, new Date('2027-01-01T00:00:00Z'))).toBe(false);
  });
});

describe('TOTP', () => {
  it('accepts the current step and ±skew steps, and says which step a code belongs to', () => {
    const secret = newTotpSecret();
    expect(secret).toMatch(/^[A-Z2-7]{32}$/);
    const now = 1_800_000_000_000;
    const step = Math.floor(now / 30_000);
    expect(matchingStep(secret, code(secret, now), 1, now)).toBe(step);
    expect(matchingStep(secret, code(secret, now - 30_000), 1, now)).toBe(step - 1);
    expect(matchingStep(secret, code(secret, now + 30_000), 1, now)).toBe(step + 1);
    expect(matchingStep(secret, code(secret, now + 60_000), 1, now)).toBeUndefined();
    expect(matchingStep(secret, code(secret, now - 30_000), 0, now)).toBeUndefined();
    expect(matchingStep(secret, 'abcdef', 1, now)).toBeUndefined();
    const spaced = code(secret, now).replace(/^(\d{3})/, '$1 ');
    expect(matchingStep(secret, spaced, 1, now)).toBe(step);
  });

  it('draws the otpauth URI as an SVG QR code with presentation attributes only (no style, no script)', async () => {
    const uri = totpUri(newTotpSecret(), 'Gatehouse', 'alice@corp.example.com');
    expect(uri).toMatch(/^otpauth:\/\/totp\/Gatehouse:alice%40corp\.example\.com\?issuer=Gatehouse&secret=/);
    const svg = await qrSvg(uri);
    expect(svg).toMatch(/^<svg role="img" aria-label="[^"]+"/);
    expect(svg).not.toMatch(/style=|<script|href=/i);
  });
});

describe('recovery codes', () => {
  it('ten different codes; the hash ignores case, spaces and dashes', () => {
    const codes = newRecoveryCodes();
    expect(codes).toHaveLength(10);
    expect(new Set(codes).size).toBe(10);
    for (const c of codes) expect(c).toMatch(/^[a-z2-9]{5}-[a-z2-9]{5}$/);
    expect(hashRecoveryCode(codes[0]!.toUpperCase().replace('-', ' '))).toBe(hashRecoveryCode(codes[0]!));
    expect(hashRecoveryCode(codes[0]!)).not.toBe(hashRecoveryCode(codes[1]!));
  });
});

describe('MfaService on SQLite', () => {
  function service(over: Record<string, unknown> = {}) {
    const db = new Database(':memory:');
    const store = new SqliteMfaStore(db);
    return { db, store, mfa: new MfaService(config({ lockout: { threshold: 3 }, ...over }), store, [randomBytes(32)], new SqliteReplayCache(db), webAuthnRp('https://sts.corp.example.com', 'Gatehouse')) };
  }

  it('enrols with a first code, stores the factors sealed, accepts a code once and a recovery code once', async () => {
    const { db, mfa } = service();
    const { secret, token } = mfa.startTotpEnrolment(user);
    expect(mfa.pendingSecret(user, token)).toBe(secret);
    expect(mfa.pendingSecret({ ...user, objectGUID: randomBytes(16) }, token)).toBeUndefined();
    await expect(mfa.confirmTotp(user, secret, '000000' === code(secret, Date.now()) ? '111111' : '000000')).rejects.toMatchObject({ code: 'GH_MFA_CODE_WRONG' });
    const codes = await mfa.confirmTotp(user, secret, code(secret, Date.now()));
    expect(codes).toHaveLength(10);
    const row = JSON.stringify(db.prepare('SELECT * FROM mfa_enrolments').all());
    expect(row).toContain('totp,recovery');
    expect(row).not.toContain(secret);
    expect(row).not.toContain(hashRecoveryCode(codes[0]!));

    const next = code(secret, Date.now() + 30_000);
    expect(await mfa.verify(user, next, 'totp')).toBe('totp');
    await expect(mfa.verify(user, next, 'totp')).rejects.toMatchObject({ code: 'GH_MFA_CODE_WRONG' });
    expect(await mfa.verify(user, codes[3]!, 'recovery')).toBe('recovery');
    await expect(mfa.verify(user, codes[3]!, 'recovery')).rejects.toMatchObject({ code: 'GH_MFA_CODE_WRONG' });
    expect((await mfa.factorsOf(user))!.recovery!.hashes).toHaveLength(9);
  });

  it('locks after the threshold of wrong codes; a success before it clears the count', async () => {
    const { mfa } = service();
    const { secret } = mfa.startTotpEnrolment(user);
    await mfa.confirmTotp(user, secret, code(secret, Date.now()));
    const wrong = (n: number) => String((Number(code(secret, Date.now())) + n) % 1_000_000).padStart(6, '0');
    await expect(mfa.verify(user, wrong(7), 'totp')).rejects.toMatchObject({ code: 'GH_MFA_CODE_WRONG' });
    await expect(mfa.verify(user, wrong(8), 'totp')).rejects.toMatchObject({ code: 'GH_MFA_CODE_WRONG' });
    await mfa.verify(user, code(secret, Date.now() - 30_000), 'totp');
    await expect(mfa.verify(user, wrong(7), 'totp')).rejects.toMatchObject({ code: 'GH_MFA_CODE_WRONG' });
    await expect(mfa.verify(user, wrong(8), 'totp')).rejects.toMatchObject({ code: 'GH_MFA_CODE_WRONG' });
    await expect(mfa.verify(user, wrong(9), 'totp')).rejects.toMatchObject({ code: 'GH_MFA_LOCKED' });
    await expect(mfa.verify(user, code(secret, Date.now() + 30_000), 'totp')).rejects.toMatchObject({ code: 'GH_MFA_LOCKED' });
  });

  it('another key cannot open the factors: an internal error, not a silent "no factor"', async () => {
    const { store, mfa, db } = service();
    const { secret } = mfa.startTotpEnrolment(user);
    await mfa.confirmTotp(user, secret, code(secret, Date.now()));
    const other = new MfaService(config(), store, [randomBytes(32)], new SqliteReplayCache(db), webAuthnRp('https://sts.corp.example.com', 'Gatehouse'));
    await expect(other.factorsOf(user)).rejects.toMatchObject({ code: 'GH_INTERNAL' });
  });

  describe('what the self-service page changes', () => {
    /** A passkey registered through the service's own ceremony, with a key made here. */
    async function addKey(mfa: MfaService, name: string) {
      const started = (await mfa.startWebauthnRegistration(user, await mfa.factorsOf(user))) as { options: { challenge: string }; token: string };
      return mfa.confirmWebauthn(user, started.token, JSON.stringify(new SoftAuthenticator().register(started.options, 'https://sts.corp.example.com')), name);
    }

    it('lists names and dates, renames and removes a passkey; the last factor only when allowed, and the recovery codes go with it', async () => {
      const { mfa, db } = service();
      expect(await addKey(mfa, 'Laptop')).toHaveLength(10);
      expect(await addKey(mfa, 'Phone')).toEqual([]);
      let summary = MfaService.summary(await mfa.factorsOf(user));
      expect(summary).toMatchObject({ totp: undefined, recoveryLeft: 10 });
      expect(summary.keys.map((k) => [k.name, k.lastUsed])).toEqual([
        ['Laptop', undefined],
        ['Phone', undefined],
      ]);
      // Nothing of a key but its id, name and dates reaches the page.
      expect(Object.keys(summary.keys[0]!).sort()).toEqual(['added', 'id', 'lastUsed', 'name']);

      const [laptop, phone] = summary.keys;
      expect(await mfa.renameKey(user, phone!.id, '  YubiKey  ')).toBe(true);
      expect(await mfa.renameKey(user, 'no-such-key', 'x')).toBe(false);
      expect(await mfa.removeFactor(user, { key: laptop!.id }, false)).toBe('removed');
      expect(await mfa.removeFactor(user, { key: laptop!.id }, false)).toBe('notFound');
      expect(await mfa.removeFactor(user, 'totp', true)).toBe('notFound');
      summary = MfaService.summary(await mfa.factorsOf(user));
      expect(summary.keys.map((k) => k.name)).toEqual(['YubiKey']);

      expect(await mfa.removeFactor(user, { key: phone!.id }, false)).toBe('lastFactor');
      expect(MfaService.summary(await mfa.factorsOf(user)).keys).toHaveLength(1);
      expect(await mfa.removeFactor(user, { key: phone!.id }, true)).toBe('removed');
      expect(MfaService.summary(await mfa.factorsOf(user))).toEqual({ totp: undefined, keys: [], recoveryLeft: 0 });
      expect(JSON.stringify(db.prepare('SELECT factors FROM mfa_enrolments').all())).toBe('[{"factors":""}]');
    });

    it('new recovery codes replace the old ones', async () => {
      const { mfa } = service();
      const { secret } = mfa.startTotpEnrolment(user);
      const old = await mfa.confirmTotp(user, secret, code(secret, Date.now()));
      const fresh = await mfa.newRecoveryCodes(user);
      await expect(mfa.verify(user, old[0]!, 'recovery')).rejects.toMatchObject({ code: 'GH_MFA_CODE_WRONG' });
      expect(await mfa.verify(user, fresh[0]!, 'recovery')).toBe('recovery');
    });

    it('a user whom every sign-in asks for MFA (always, or a group) keeps the last factor', async () => {
      const member = async () => true;
      const never = async () => false;
      expect(await alwaysRequired(config({ require: { always: true } }), user, never)).toBe(true);
      expect(await alwaysRequired(config({ require: { groups: ['CN=g'] } }), user, member)).toBe(true);
      expect(await alwaysRequired(config({ require: { groups: ['CN=g'] } }), user, never)).toBe(false);
      expect(await alwaysRequired(config({ require: { relyingParties: ['urn:x'], outsideCorporateNetwork: true } }), user, member)).toBe(false);
    });
  });
});
