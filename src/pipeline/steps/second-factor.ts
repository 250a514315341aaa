import { GatehouseError } from '../../errors.js';
import type { Session } from '../../authn/session.js';
import { isSecondFactorForm } from '../../authn/forms.js';
import { mfaReason, inGracePeriod } from '../../mfa/policy.js';
import { accountKey, MfaService } from '../../mfa/service.js';
import { renderCodePage, renderEnrolPage, renderRecoveryCodesPage } from '../../mfa/pages.js';
import { groupedSecret, qrSvg, totpUri } from '../../mfa/totp.js';
import { Refusal } from '../error-policy.js';
import { ANSWERED, type SignInContext, type StepResult } from '../sign-in.js';

/** Errors the user can act on are shown on the page itself; others go to the error page. */
const onPage = (err: unknown): err is GatehouseError => err instanceof GatehouseError && (err.code === 'GH_MFA_CODE_WRONG' || err.code === 'GH_MFA_LOCKED');

function audit(ctx: SignInContext, event: string, extra: Record<string, unknown> = {}): void {
  ctx.http.request.log.info(
    { event, user: ctx.authentication.user.userPrincipalName, realm: ctx.rp.id, addresses: ctx.request.addresses, sid: ctx.authentication.session?.sid, ...extra },
    event.replace(/_/g, ' '),
  );
}

/** The second factor passed: remembered in the session, and the token will say multipleauthn. */
function passed(ctx: SignInContext, session: Session, methods: string[]): void {
  const at = Date.now();
  session.mfa = { at, methods };
  Object.assign(ctx.authentication, { context: 'multipleAuthn', mfa: session.mfa, instant: at, newSession: true });
}

/** The session's second factor, when it still counts for this request (its own lifetime, ForceAuthn, wfresh). */
function rememberedMfa(ctx: SignInContext, mfa: MfaService, session: Session | undefined): Session['mfa'] {
  const m = session?.mfa;
  if (!m || m.at + mfa.config.rememberMinutes * 60_000 <= Date.now()) return undefined;
  // A fresh password was asked for, and this session's password is fresh: its second factor must be too.
  if (session.authInstant > m.at) return undefined;
  return m;
}

/**
 * The second factor, when mfa.require (or the relying party) asks for it: remembered in the session,
 * or asked now on a page of its own that posts back to this URL (enrolment first when the user has no
 * factor). WS-Trust cannot ask: the relying parties of mfa.wsTrustPasswordOnly get a password-only token,
 * the others a refusal. MFA off: nothing happens here.
 * @throws GH_MFA_NOT_POSSIBLE, GH_MFA_ENROL_INSIDE_ONLY, GH_MFA_UNAVAILABLE, GH_DIRECTORY_UNAVAILABLE, Refusal (noPassive)
 */
export async function secondFactor(ctx: SignInContext): Promise<StepResult> {
  const mfa = ctx.services.mfa;
  if (!mfa) return undefined;
  const { user, session } = ctx.authentication;
  // A computer (the hybrid join) has no second factor; its Kerberos ticket is what Entra asks of it.
  if (user.computer) return undefined;
  const { authn } = ctx.request;
  const form = authn.form;
  const inside = ctx.request.insideCorporateNetwork === true;
  // wiaormultiauthn: Windows authentication is enough, anything else needs the second factor.
  const requested = authn.mfa === true || (authn.wiaOrMfa === true && ctx.authentication.context !== 'windows');
  const reason = await mfaReason(
    mfa.config,
    { relyingParty: ctx.rp.id, user, insideCorporateNetwork: inside, requested },
    (dn, group) => ctx.services.directory.isMemberOf(dn, group),
  );
  if (!reason) return undefined;

  if (!ctx.adapter.browser || !session) {
    if (mfa.config.wsTrustPasswordOnly.includes(ctx.rp.id)) {
      audit(ctx, 'mfa_skipped', { reason, why: 'ws-trust password only' });
      return undefined;
    }
    throw new GatehouseError('GH_MFA_NOT_POSSIBLE', { detail: `${ctx.rp.id} needs MFA (${reason}); WS-Trust cannot ask for it` });
  }

  const remembered = rememberedMfa(ctx, mfa, session);
  if (remembered) {
    Object.assign(ctx.authentication, { context: 'multipleAuthn', mfa: remembered, instant: remembered.at });
    return undefined;
  }
  if (ctx.request.authn.passive) throw new Refusal('GH_BAD_REQUEST', 'noPassive', { detail: 'a passive request needs the second factor' });
  // The pages post back to where the request travels (SAML 2.0: its sign-in page).
  if (ctx.adapter.moveToSignInPage && !form) {
    await ctx.adapter.moveToSignInPage(ctx);
    return ANSWERED;
  }
  const { request, reply } = ctx.http;
  const { publicUrl } = ctx.services.config;
  // A page after the password: the session cookie (password only) must reach the browser with it.
  const answer = async (page: Promise<unknown> | unknown): Promise<StepResult> => {
    if (ctx.authentication.newSession) ctx.services.sessions.write(reply, session);
    await page;
    return ANSWERED;
  };

  const factors = await mfa.factorsOf(user);
  const enrolled = MfaService.hasFactor(factors);
  const action = isSecondFactorForm(form) ? form.Action : undefined;
  const code = form?.Code ?? '';
  const codePage = async (opts: { error?: GatehouseError; recoveryOpen?: boolean } = {}) =>
    renderCodePage(request, reply, publicUrl, { ...opts, totp: Boolean(factors?.totp), webauthn: await mfa.startWebauthnAuthentication(user, factors) });

  if ((action === 'mfaCode' || action === 'mfaRecovery' || action === 'mfaWebauthn') && (enrolled || factors?.recovery)) {
    const kind = action === 'mfaCode' ? 'totp' : action === 'mfaRecovery' ? 'recovery' : 'webauthn';
    try {
      const method = kind === 'webauthn' ? await mfa.verifyWebauthn(user, form?.WebauthnState, form?.WebauthnResponse ?? '') : await mfa.verify(user, code, kind);
      passed(ctx, session, [method]);
      audit(ctx, 'mfa_verified', { method, reason });
      return undefined;
    } catch (err) {
      if (!onPage(err)) throw err;
      audit(ctx, err.code === 'GH_MFA_LOCKED' ? 'mfa_locked' : 'mfa_failed', { method: kind, detail: err.detail });
      return answer(codePage({ error: err, recoveryOpen: kind === 'recovery' }));
    }
  }
  if (enrolled) return answer(codePage());

  // No factor yet: enrolment (or, in the grace period and when the relying party did not ask, a way past it).
  const canSkip = inGracePeriod(mfa.config) && reason !== 'requested';
  if (action === 'mfaSkip' && canSkip) {
    audit(ctx, 'mfa_skipped', { reason, why: 'grace period' });
    return undefined;
  }
  if (mfa.config.enrolment.onlyFromCorporateNetwork && !inside) {
    if (canSkip) return undefined;
    throw new GatehouseError('GH_MFA_ENROL_INSIDE_ONLY', { detail: `${user.userPrincipalName} has no factor and is outside the corporate network` });
  }
  const label = user.userPrincipalName ?? user.sAMAccountName;
  const showEnrolment = async (secret: string, token: string, error?: GatehouseError) =>
    renderEnrolPage(request, reply, publicUrl, {
      qrSvg: await qrSvg(totpUri(secret, mfa.config.totp.issuer, label)),
      secret: groupedSecret(secret),
      token,
      canSkip,
      webauthn: await mfa.startWebauthnRegistration(user, factors),
      error,
    });
  const enrolledNow = (method: string, codes: string[]): StepResult | Promise<StepResult> => {
    passed(ctx, session, [method]);
    audit(ctx, 'mfa_enrolled', { method, account: accountKey(user) });
    return codes.length ? answer(renderRecoveryCodesPage(request, reply, publicUrl, codes)) : undefined;
  };

  if (action === 'mfaEnrolWebauthn') {
    try {
      return await enrolledNow('webauthn', await mfa.confirmWebauthn(user, form?.WebauthnState, form?.WebauthnResponse ?? '', form?.KeyName ?? ''));
    } catch (err) {
      if (!onPage(err)) throw err;
      audit(ctx, 'mfa_failed', { method: 'webauthn', detail: err.detail });
      const fresh = mfa.startTotpEnrolment(user);
      return answer(showEnrolment(fresh.secret, fresh.token, err));
    }
  }

  if (action === 'mfaEnrol') {
    const secret = mfa.pendingSecret(user, form?.Enrolment);
    if (secret) {
      try {
        return await enrolledNow('totp', await mfa.confirmTotp(user, secret, code));
      } catch (err) {
        if (!onPage(err)) throw err;
        return answer(showEnrolment(secret, form!.Enrolment!, err));
      }
    }
  }
  const fresh = mfa.startTotpEnrolment(user);
  return answer(showEnrolment(fresh.secret, fresh.token));
}
