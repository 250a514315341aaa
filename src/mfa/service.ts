import { SealedBox, Sealer } from '../crypto/sealed.js';
import type { MfaConfig } from '../config/schema/mfa.js';
import type { DirectoryUser } from '../directory/user.js';
import { GatehouseError } from '../errors.js';
import type { ReplayCache } from '../state/replay-cache.js';
import { ReplayStoreUnavailable } from '../state/replay-cache.js';
import { hashRecoveryCode, newRecoveryCodes } from './recovery-codes.js';
import { MfaStoreUnavailable, type MfaStore, type StoredEnrolment } from './store.js';
import { matchingStep, newTotpSecret, stepMemoryMs } from './totp.js';
import { authenticationOptions, registrationOptions, verifyAuthentication, verifyRegistration, type StoredKey, type WebAuthnRp } from './webauthn.js';

/** A user's factors, as sealed in the store. */
export interface Factors {
  totp?: { secret: string; added: number };
  /** SHA-256 of the recovery codes not used yet. */
  recovery?: { hashes: string[]; added: number };
  /** Passkeys and security keys (WebAuthn), each named by the user. */
  webauthn?: { keys: StoredKey[] };
}

/** A user's factors as the self-service page lists them (no secrets). */
export interface FactorSummary {
  totp: { added: number } | undefined;
  keys: { id: string; name: string; added: number; lastUsed: number | undefined }[];
  recoveryLeft: number;
}

/** A WebAuthn ceremony waiting for the browser's answer, sealed into the page. */
interface PendingCeremony {
  account: string;
  challenge: string;
  kind: 'register' | 'authenticate';
}

const CEREMONY_TTL_SECONDS = 5 * 60;

/** A TOTP secret shown on the enrolment page and waiting for its first code, sealed into the page. */
interface PendingTotp {
  account: string;
  secret: string;
}

/** The message of a refused passkey registration (pages.ts shows it as mfaEnrol.passkeyRefused). */
export const WEBAUTHN_REFUSED = 'Your passkey or security key was not accepted. Try again, or use another way to sign in.';

/** How long the enrolment page's secret stays valid. */
const ENROLMENT_TTL_SECONDS = 15 * 60;

/** The account key: objectGUID in hex (stable across renames; the UPN is only for listings). */
export const accountKey = (user: Pick<DirectoryUser, 'objectGUID'>): string => user.objectGUID.toString('hex');

/** Turns the stores' "unreachable" into the user's "try again in a few minutes". */
async function available<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof MfaStoreUnavailable || err instanceof ReplayStoreUnavailable) throw new GatehouseError('GH_MFA_UNAVAILABLE', { detail: err.message, cause: err });
    throw err;
  }
}

/**
 * The second factor: enrolled factors (sealed with the MFA key, in the MfaStore), TOTP codes accepted
 * once (the replay cache remembers used time steps, farm-wide with Redis), recovery codes that work
 * once, and a lockout of its own after mfa.lockout.threshold wrong codes.
 */
export class MfaService {
  private readonly box: SealedBox;
  private readonly pending: Sealer;

  constructor(
    readonly config: MfaConfig,
    private readonly store: MfaStore,
    keys: Buffer[],
    private readonly replay: ReplayCache,
    /** The WebAuthn relying party: publicUrl's host and origin. */
    readonly rp: WebAuthnRp,
  ) {
    this.box = new SealedBox(keys, { info: 'gatehouse mfa factors v1', version: 1, maxLength: 1 << 20 });
    this.pending = new Sealer(keys, 'mfa enrolment');
  }

  async factorsOf(user: DirectoryUser): Promise<Factors | undefined> {
    const stored = await available(() => this.store.get(accountKey(user)));
    if (!stored) return undefined;
    const factors = this.box.open<Factors>(stored.sealed);
    if (!factors) throw new GatehouseError('GH_INTERNAL', { detail: `the factors of ${stored.upn} do not open with mfa.keyFile (another key?)` });
    return factors;
  }

  private async save(user: DirectoryUser, factors: Factors): Promise<void> {
    const kinds = (['totp', 'webauthn', 'recovery'] as const).filter((k) => (k === 'webauthn' ? Boolean(factors.webauthn?.keys.length) : factors[k] !== undefined));
    const e: StoredEnrolment = {
      account: accountKey(user),
      upn: user.userPrincipalName ?? user.sAMAccountName,
      factors: kinds,
      sealed: this.box.seal(factors),
      updated: Date.now(),
    };
    await available(() => this.store.put(e));
  }

  /** @throws GH_MFA_LOCKED while the user's wrong codes are at the threshold */
  async checkNotLocked(user: DirectoryUser): Promise<void> {
    if ((await available(() => this.store.failures(accountKey(user)))) >= this.config.lockout.threshold) {
      throw new GatehouseError('GH_MFA_LOCKED', { detail: `${user.userPrincipalName}: second factor locked` });
    }
  }

  private async wrongCode(user: DirectoryUser, what: string): Promise<never> {
    const count = await available(() => this.store.fail(accountKey(user), this.config.lockout.minutes * 60_000));
    if (count >= this.config.lockout.threshold) throw new GatehouseError('GH_MFA_LOCKED', { detail: `${user.userPrincipalName}: ${what}, second factor now locked (${count})` });
    throw new GatehouseError('GH_MFA_CODE_WRONG', { detail: `${user.userPrincipalName}: ${what} (${count} of ${this.config.lockout.threshold})` });
  }

  /** A TOTP code that is right now and not used before. */
  private async totpAccepts(account: string, secret: string, code: string): Promise<boolean> {
    const skew = this.config.totp.skewSteps;
    const step = matchingStep(secret, code, skew);
    if (step === undefined) return false;
    return available(() => this.replay.firstUse(`mfa-totp:${account}:${step}`, stepMemoryMs(skew), 'refuse'));
  }

  /**
   * The authenticator app's code (or, with `recovery`, a recovery code, then spent).
   * @returns the method that succeeded, for the session and the audit line
   * @throws GH_MFA_CODE_WRONG (counted), GH_MFA_LOCKED, GH_MFA_UNAVAILABLE
   */
  async verify(user: DirectoryUser, code: string, kind: 'totp' | 'recovery'): Promise<string> {
    await this.checkNotLocked(user);
    const factors = await this.factorsOf(user);
    const account = accountKey(user);
    if (kind === 'totp') {
      if (!factors?.totp || !(await this.totpAccepts(account, factors.totp.secret, code))) return this.wrongCode(user, 'wrong or reused TOTP code');
    } else {
      const hash = hashRecoveryCode(code);
      const hashes = factors?.recovery?.hashes ?? [];
      // The replay cache closes the race of two posts of one code before the first one is saved.
      if (!hashes.includes(hash) || !(await available(() => this.replay.firstUse(`mfa-recovery:${account}:${hash}`, 86_400_000, 'refuse')))) {
        return this.wrongCode(user, 'wrong or used recovery code');
      }
      await this.save(user, { ...factors, recovery: { ...factors!.recovery!, hashes: hashes.filter((h) => h !== hash) } });
    }
    await available(() => this.store.clearFailures(account));
    return kind;
  }

  /** A new secret for the enrolment page, and the sealed form of it that the page posts back. */
  startTotpEnrolment(user: DirectoryUser): { secret: string; token: string } {
    const secret = newTotpSecret();
    return { secret, token: this.pending.seal({ account: accountKey(user), secret } satisfies PendingTotp, ENROLMENT_TTL_SECONDS) };
  }

  /** The secret of an enrolment page posted back by the same user, or undefined (expired, forged, someone else's). */
  pendingSecret(user: DirectoryUser, token: string | undefined): string | undefined {
    const p = this.pending.open<PendingTotp>(token);
    return p && p.account === accountKey(user) ? p.secret : undefined;
  }

  /**
   * Saves the TOTP factor once its first code is right (the app was set up correctly), and new recovery
   * codes when the user has none.
   * @returns the recovery codes to show once, or [] when the user already had some
   * @throws GH_MFA_CODE_WRONG (not counted: the password is known and nothing is saved yet)
   */
  async confirmTotp(user: DirectoryUser, secret: string, code: string): Promise<string[]> {
    if (!(await this.totpAccepts(accountKey(user), secret, code))) {
      throw new GatehouseError('GH_MFA_CODE_WRONG', { detail: `${user.userPrincipalName}: wrong first code at enrolment` });
    }
    const factors = (await this.factorsOf(user)) ?? {};
    const codes = factors.recovery?.hashes.length ? [] : newRecoveryCodes();
    await this.save(user, {
      ...factors,
      totp: { secret, added: Date.now() },
      ...(codes.length ? { recovery: { hashes: codes.map(hashRecoveryCode), added: Date.now() } } : {}),
    });
    return codes;
  }

  /** Whether the user has a factor to sign in with (recovery codes alone are not one). */
  static hasFactor(factors: Factors | undefined): boolean {
    return Boolean(factors?.totp || factors?.webauthn?.keys.length);
  }

  private sealCeremony(user: DirectoryUser, challenge: string, kind: PendingCeremony['kind']): string {
    return this.pending.seal({ account: accountKey(user), challenge, kind } satisfies PendingCeremony, CEREMONY_TTL_SECONDS);
  }

  /** The challenge of a ceremony this user started, once (a second use of the same page is refused). */
  private async openCeremony(user: DirectoryUser, token: string | undefined, kind: PendingCeremony['kind']): Promise<string | undefined> {
    const p = this.pending.open<PendingCeremony>(token);
    if (!p || p.account !== accountKey(user) || p.kind !== kind) return undefined;
    const first = await available(() => this.replay.firstUse(`mfa-webauthn:${p.challenge}`, CEREMONY_TTL_SECONDS * 1000, 'refuse'));
    return first ? p.challenge : undefined;
  }

  /** Options for the browser to make a new passkey, and the sealed challenge the page posts back. */
  async startWebauthnRegistration(user: DirectoryUser, factors: Factors | undefined): Promise<{ options: unknown; token: string }> {
    const options = await registrationOptions(
      this.rp,
      { account: accountKey(user), upn: user.userPrincipalName ?? user.sAMAccountName, displayName: user.displayName },
      factors?.webauthn?.keys ?? [],
    );
    return { options, token: this.sealCeremony(user, options.challenge, 'register') };
  }

  /**
   * Saves a new passkey when the browser's answer verifies (user verification required); new recovery
   * codes when the user has none. @returns the recovery codes to show once, or []
   * @throws GH_MFA_CODE_WRONG (the key was not accepted; not counted, nothing is saved)
   */
  async confirmWebauthn(user: DirectoryUser, token: string | undefined, responseJson: string, name: string): Promise<string[]> {
    const challenge = await this.openCeremony(user, token, 'register');
    let key: StoredKey | undefined;
    try {
      key = challenge ? await verifyRegistration(this.rp, challenge, JSON.parse(responseJson), name.trim() || 'Passkey') : undefined;
    } catch (err) {
      throw new GatehouseError('GH_MFA_CODE_WRONG', { detail: `${user.userPrincipalName}: passkey registration refused (${(err as Error).message})`, message: WEBAUTHN_REFUSED });
    }
    if (!key) throw new GatehouseError('GH_MFA_CODE_WRONG', { detail: `${user.userPrincipalName}: passkey registration expired or refused`, message: WEBAUTHN_REFUSED });
    const factors = (await this.factorsOf(user)) ?? {};
    const codes = factors.recovery?.hashes.length ? [] : newRecoveryCodes();
    await this.save(user, {
      ...factors,
      webauthn: { keys: [...(factors.webauthn?.keys ?? []), key] },
      ...(codes.length ? { recovery: { hashes: codes.map(hashRecoveryCode), added: Date.now() } } : {}),
    });
    return codes;
  }

  /** Options for signing in with one of the user's keys, or undefined when they have none. */
  async startWebauthnAuthentication(user: DirectoryUser, factors: Factors | undefined): Promise<{ options: unknown; token: string } | undefined> {
    const keys = factors?.webauthn?.keys ?? [];
    if (!keys.length) return undefined;
    const options = await authenticationOptions(this.rp, keys);
    return { options, token: this.sealCeremony(user, options.challenge, 'authenticate') };
  }

  /** @throws GH_MFA_CODE_WRONG (counted toward the lockout), GH_MFA_LOCKED */
  async verifyWebauthn(user: DirectoryUser, token: string | undefined, responseJson: string): Promise<string> {
    await this.checkNotLocked(user);
    const factors = await this.factorsOf(user);
    const keys = factors?.webauthn?.keys ?? [];
    const challenge = await this.openCeremony(user, token, 'authenticate');
    let used: StoredKey | undefined;
    try {
      used = challenge ? await verifyAuthentication(this.rp, challenge, JSON.parse(responseJson), keys) : undefined;
    } catch {
      used = undefined;
    }
    if (!used) return this.wrongCode(user, 'passkey not accepted');
    const signedWith = { ...used, lastUsed: Date.now() };
    await this.save(user, { ...factors, webauthn: { keys: keys.map((k) => (k.id === used.id ? signedWith : k)) } });
    await available(() => this.store.clearFailures(accountKey(user)));
    return 'webauthn';
  }

  /** What the self-service page lists of the user's factors: names and dates, never a secret. */
  static summary(factors: Factors | undefined): FactorSummary {
    return {
      totp: factors?.totp ? { added: factors.totp.added } : undefined,
      keys: (factors?.webauthn?.keys ?? []).map((k) => ({ id: k.id, name: k.name, added: k.added, lastUsed: k.lastUsed })),
      recoveryLeft: factors?.recovery?.hashes.length ?? 0,
    };
  }

  /** A passkey's new name. @returns false when the user has no key of that id */
  async renameKey(user: DirectoryUser, id: string, name: string): Promise<boolean> {
    const factors = await this.factorsOf(user);
    const keys = factors?.webauthn?.keys ?? [];
    if (!keys.some((k) => k.id === id)) return false;
    await this.save(user, { ...factors, webauthn: { keys: keys.map((k) => (k.id === id ? { ...k, name: name.trim() || k.name } : k)) } });
    return true;
  }

  /**
   * Removes the authenticator app or one passkey. The last factor goes only when `mayRemoveLast` (the
   * policy does not require MFA for this user); the recovery codes go with it, as they only stand in for
   * a factor. @returns what happened
   */
  async removeFactor(user: DirectoryUser, which: 'totp' | { key: string }, mayRemoveLast: boolean): Promise<'removed' | 'notFound' | 'lastFactor'> {
    const factors = await this.factorsOf(user);
    if (!factors) return 'notFound';
    const keys = factors.webauthn?.keys ?? [];
    let next: Factors;
    if (which === 'totp') {
      if (!factors.totp) return 'notFound';
      const { totp: _removed, ...rest } = factors;
      next = rest;
    } else {
      if (!keys.some((k) => k.id === which.key)) return 'notFound';
      next = { ...factors, webauthn: { keys: keys.filter((k) => k.id !== which.key) } };
    }
    if (!MfaService.hasFactor(next)) {
      if (!mayRemoveLast) return 'lastFactor';
      const { recovery: _codes, ...without } = next;
      next = without;
    }
    await this.save(user, next);
    return 'removed';
  }

  /** Ten new recovery codes in place of the old ones. @returns the codes, to show once */
  async newRecoveryCodes(user: DirectoryUser): Promise<string[]> {
    const factors = (await this.factorsOf(user)) ?? {};
    const codes = newRecoveryCodes();
    await this.save(user, { ...factors, recovery: { hashes: codes.map(hashRecoveryCode), added: Date.now() } });
    return codes;
  }
}
