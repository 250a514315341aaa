import type { FastifyReply, FastifyRequest } from 'fastify';
import type {} from '@fastify/csrf-protection';
import { renderPage } from '../http/pages.js';
import { ERRORS, type GatehouseError } from '../errors.js';
import { publicUrlOf } from '../http/public-url.js';
import type { Config } from '../config/load.js';

/** What the pages need from the configuration: the public URL their forms post to, and whether to offer "keep me signed in". */
export type PageConfig = Pick<Config, 'publicUrl' | 'session'>;

/** The password form. It posts back to the URL that showed it, so the protocol request travels with it. */
export function renderLogin(
  request: FastifyRequest,
  reply: FastifyReply,
  config: PageConfig,
  opts: { rpName: string; username?: string | undefined; error?: GatehouseError | undefined },
) {
  const action = publicUrlOf(request, config.publicUrl);
  // Windows sign-in offered (pipeline/authn/negotiate.ts): the form is the body of the 401 Negotiate answer.
  const negotiating = reply.getHeader('www-authenticate') === 'Negotiate';
  return renderPage(
    reply,
    'login',
    {
      title: 'Sign in',
      rpName: opts.rpName,
      action,
      username: opts.username ?? '',
      error: opts.error?.message,
      differentUserUrl: negotiating ? `${action}${action.includes('?') ? '&' : '?'}signin=form` : undefined,
      // Only problems worth a call to the help desk carry the reference; a wrong password does not need one.
      correlationId: opts.error && opts.error.status >= 500 ? request.id : undefined,
      csrf: reply.generateCsrf(),
      offerKmsi: config.session.keepMeSignedIn,
    },
    opts.error?.status ?? (negotiating ? 401 : 200),
  );
}

/** Why the change-password page is shown; travels with the form so a retry keeps the explanation. */
export type ChangeReason = 'expired' | 'mustChange';
const CHANGE_REASONS: Record<ChangeReason, string> = {
  expired: ERRORS.GH_PASSWORD_EXPIRED[1],
  mustChange: ERRORS.GH_PASSWORD_MUST_CHANGE[1],
};

/**
 * Old password, new password twice. Shown when AD says the password has expired or must be changed
 * (it only says so when the password was right), and by the portal's update-password page.
 */
export function renderChangePassword(
  request: FastifyRequest,
  reply: FastifyReply,
  config: PageConfig,
  opts: { username?: string | undefined; reason?: ChangeReason | undefined; error?: GatehouseError | undefined; done?: boolean },
) {
  return renderPage(
    reply,
    'change-password',
    {
      title: 'Change your password',
      action: publicUrlOf(request, config.publicUrl),
      username: opts.username ?? '',
      reason: opts.reason ? CHANGE_REASONS[opts.reason] : undefined,
      reasonCode: opts.reason,
      correlationId: opts.error && opts.error.status >= 500 ? request.id : undefined,
      error: opts.error?.message,
      done: opts.done ?? false,
      csrf: reply.generateCsrf(),
    },
    opts.error?.status ?? 200,
  );
}
