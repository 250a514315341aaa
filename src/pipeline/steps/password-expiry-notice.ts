import type { SignInContext } from '../sign-in.js';

const DAY_MS = 86_400_000;

/**
 * ADFS 2016's "your password expires in N days" on sign-in: when the user has just typed a password that
 * AD will expire within passwordExpiry.noticeDays, the browser gets a page that says so, links to the
 * change-password page and posts the token only on Continue. Single sign-on never shows it again, so it
 * is once per session, not once per application.
 */
export function passwordExpiryNotice(ctx: SignInContext): void {
  const { config } = ctx.services;
  const days = config.passwordExpiry.noticeDays;
  const { authentication: authn } = ctx;
  if (!ctx.adapter.browser || days <= 0 || !authn.newSession) return;
  const expires = authn.user.passwordExpires;
  if (!expires) return;
  const msLeft = expires.getTime() - Date.now();
  if (msLeft < 0 || msLeft > days * DAY_MS) return;
  const base = config.passwordExpiry.changeUrl ?? `${config.publicUrl}/adfs/portal/updatepassword`;
  const changeUrl = new URL(base);
  const username = authn.user.userPrincipalName ?? authn.user.sAMAccountName;
  if (!config.passwordExpiry.changeUrl) changeUrl.searchParams.set('username', username);
  ctx.passwordNotice = { daysLeft: Math.floor(msLeft / DAY_MS), changeUrl: changeUrl.toString() };
  ctx.http.request.log.info({ event: 'password_expiry_notice', user: username, daysLeft: ctx.passwordNotice.daysLeft }, 'password expiry notice shown');
}
