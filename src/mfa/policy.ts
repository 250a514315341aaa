import type { MfaConfig } from '../config/schema/mfa.js';
import type { DirectoryUser } from '../directory/user.js';

/** Why a sign-in needs the second factor (for the audit line), or undefined when it does not. */
export type MfaReason = 'requested' | 'always' | 'relyingParty' | 'outsideCorporateNetwork' | 'group';

export interface MfaQuestion {
  relyingParty: string;
  user: DirectoryUser;
  insideCorporateNetwork: boolean;
  /** The relying party asked for it (wauth, RequestedAuthnContext). */
  requested: boolean;
}

/**
 * The mfa.require rules: any rule that applies asks for the second factor. Group membership is read
 * last (it is the only one that asks AD), and only when no other rule decided.
 * @throws GH_DIRECTORY_UNAVAILABLE from the group look-up
 */
export async function mfaReason(
  cfg: Pick<MfaConfig, 'require'>,
  q: MfaQuestion,
  isMemberOf: (dn: string, groupDn: string) => Promise<boolean>,
): Promise<MfaReason | undefined> {
  const r = cfg.require;
  if (q.requested && r.whenRequested) return 'requested';
  if (r.always) return 'always';
  if (r.relyingParties.includes(q.relyingParty)) return 'relyingParty';
  if (r.outsideCorporateNetwork && !q.insideCorporateNetwork) return 'outsideCorporateNetwork';
  for (const group of r.groups) if (await isMemberOf(q.user.dn, group)) return 'group';
  return undefined;
}

/** Whether users without a factor may still skip enrolment (mfa.enrolment.graceUntil, a UTC date, inclusive). */
export function inGracePeriod(cfg: Pick<MfaConfig, 'enrolment'>, now = new Date()): boolean {
  const until = cfg.enrolment.graceUntil;
  return until !== undefined && now.toISOString().slice(0, 10) <= until;
}

/**
 * Whether every sign-in of this user needs the second factor (mfa.require.always, or a member of
 * mfa.require.groups): the self-service page then keeps their last factor. The other rules depend on the
 * sign-in (relying party, network, request), so a user they cover may remove it and enrols again when
 * one of them next asks.
 * @throws GH_DIRECTORY_UNAVAILABLE from the group look-up
 */
export async function alwaysRequired(cfg: Pick<MfaConfig, 'require'>, user: DirectoryUser, isMemberOf: (dn: string, groupDn: string) => Promise<boolean>): Promise<boolean> {
  if (cfg.require.always) return true;
  for (const group of cfg.require.groups) if (await isMemberOf(user.dn, group)) return true;
  return false;
}
