import type { FastifyReply, FastifyRequest } from 'fastify';
import type {} from '@fastify/csrf-protection';
import { errorText, pageText, renderPage } from '../http/pages.js';
import type { ErrorCode, GatehouseError } from '../errors.js';
import { publicUrlOf } from '../http/public-url.js';
import type { Config } from '../config/load.js';

/** What the pages need from the configuration: the public URL their forms post to, and whether to offer "keep me signed in". */
export type PageConfig = Pick<Config, 'publicUrl' | 'session'>;

/** The relying party as the sign-in page names it: its display name, and its own line of text if it has one. */
export interface PageRelyingParty {
  id: string;
  name?: string | undefined;
  signInText?: string | undefined;
}

/**
 * Which fields an error is about: they get aria-invalid and point at the message. Errors about the
 * account as a whole (disabled, locked) are about no field.
 */
const FIELDS_AT_FAULT: Partial<Record<ErrorCode, string[]>> = {
  GH_AUTHN_FAILED: ['UserName', 'Password', 'OldPassword'],
  GH_EXTRANET_LOCKOUT: ['UserName', 'Password', 'OldPassword'],
  GH_PASSWORD_EMPTY: ['Password', 'OldPassword'],
  GH_PASSWORD_MISMATCH: ['NewPassword', 'ConfirmPassword'],
  GH_PASSWORD_REJECTED: ['NewPassword', 'ConfirmPassword'],
};

/** The password form. It posts back to the URL that showed it, so the protocol request travels with it. */
export function renderLogin(
  request: FastifyRequest,
  reply: FastifyReply,
  config: PageConfig,
  opts: { rp: PageRelyingParty; username?: string | undefined; error?: GatehouseError | undefined },
) {
  const action = publicUrlOf(request, config.publicUrl);
  // Windows sign-in offered (pipeline/authn/negotiate.ts): the form is the body of the 401 Negotiate answer.
  const negotiating = reply.getHeader('www-authenticate') === 'Negotiate';
  return renderPage(
    reply,
    'login',
    {
      rpName: opts.rp.name ?? opts.rp.id,
      rpText: opts.rp.signInText,
      action,
      username: opts.username ?? '',
      error: opts.error && errorText(reply, opts.error),
      invalid: (opts.error && FIELDS_AT_FAULT[opts.error.code]) ?? [],
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
const CHANGE_REASONS: Record<ChangeReason, ErrorCode> = {
  expired: 'GH_PASSWORD_EXPIRED',
  mustChange: 'GH_PASSWORD_MUST_CHANGE',
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
      action: publicUrlOf(request, config.publicUrl),
      username: opts.username ?? '',
      reason: opts.reason ? pageText(reply).t(`errors.${CHANGE_REASONS[opts.reason]}`) : undefined,
      reasonCode: opts.reason,
      correlationId: opts.error && opts.error.status >= 500 ? request.id : undefined,
      error: opts.error && errorText(reply, opts.error),
      invalid: (opts.error && FIELDS_AT_FAULT[opts.error.code]) ?? [],
      done: opts.done ?? false,
      csrf: reply.generateCsrf(),
    },
    opts.error?.status ?? 200,
  );
}
