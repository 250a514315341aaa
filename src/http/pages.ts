import { createHash } from 'node:crypto';
import type {} from '@fastify/view';
import type { FastifyReply } from 'fastify';

/** The only script Gatehouse ever runs in a page; allowed by its hash, so the CSP needs no 'unsafe-inline'. */
export const AUTO_POST_SCRIPT = "document.getElementById('autopost').submit();";
const AUTO_POST_HASH = `'sha256-${createHash('sha256').update(AUTO_POST_SCRIPT).digest('base64')}'`;

/**
 * Strict CSP for every page; `formAction` adds the relying party's origin for the auto-post page, and
 * `scripts` allows this server's own script files (the passkey pages), never inline script.
 */
export function contentSecurityPolicy(formAction?: string, scripts = false): string {
  return [
    "default-src 'none'",
    "style-src 'self'",
    "img-src 'self'",
    `script-src ${formAction ? AUTO_POST_HASH : scripts ? "'self'" : "'none'"}`,
    `form-action 'self'${formAction ? ' ' + formAction : ''}`,
    "frame-ancestors 'none'",
    "base-uri 'none'",
  ].join('; ');
}

function noStore(reply: FastifyReply): FastifyReply {
  return reply.header('cache-control', 'no-store').header('pragma', 'no-cache');
}

export function renderPage(reply: FastifyReply, view: string, data: Record<string, unknown>, status = 200, opts: { scripts?: boolean } = {}) {
  return noStore(reply).code(status).header('content-security-policy', contentSecurityPolicy(undefined, opts.scripts)).view(view, data);
}

/** Shown instead of the automatic post when the user's password expires soon (passwordExpiry.noticeDays). */
export interface PasswordExpiryNotice {
  /** Whole days left (0: expires today). */
  daysLeft: number;
  /** The change-password page (passwordExpiry.changeUrl, default /adfs/portal/updatepassword). */
  changeUrl: string;
}

/**
 * The HTML form that POSTs a token to the relying party (works without JavaScript: a visible button). With a
 * password-expiry notice it is not posted automatically: the page tells the user and waits for Continue.
 */
export function renderFormPost(reply: FastifyReply, action: string, fields: { name: string; value: string }[], notice?: PasswordExpiryNotice) {
  noStore(reply).header('content-security-policy', contentSecurityPolicy(new URL(action).origin));
  if (notice) return reply.view('password-expiry-notice', { title: 'Your password expires soon', action, fields, ...notice });
  return reply.view('form-post', { title: 'Signing you in', action, fields, autoPostScript: AUTO_POST_SCRIPT });
}
