import type { FastifyReply, FastifyRequest } from 'fastify';
import type {} from '@fastify/csrf-protection';
import { renderPage } from '../http/pages.js';
import type { GatehouseError } from '../errors.js';
import { publicUrlOf } from '../http/public-url.js';

/** The password form. It posts back to the URL that showed it, so the protocol request travels with it. */
export function renderLogin(
  request: FastifyRequest,
  reply: FastifyReply,
  opts: { rpName: string; username?: string | undefined; error?: GatehouseError | undefined },
) {
  return renderPage(
    reply,
    'login',
    {
      title: 'Sign in',
      rpName: opts.rpName,
      action: publicUrlOf(request, request.server.gatehouse.config.publicUrl),
      username: opts.username ?? '',
      error: opts.error?.message,
      csrf: reply.generateCsrf(),
      offerKmsi: request.server.gatehouse.config.session.keepMeSignedIn,
    },
    opts.error?.status ?? 200,
  );
}

/**
 * Old password, new password twice. Shown when AD says the password has expired or must be changed
 * (it only says so when the password was right), and by the portal's update-password page.
 */
export function renderChangePassword(
  request: FastifyRequest,
  reply: FastifyReply,
  opts: { username?: string | undefined; reason?: string | undefined; error?: GatehouseError | undefined; done?: boolean },
) {
  return renderPage(
    reply,
    'change-password',
    {
      title: 'Change your password',
      action: publicUrlOf(request, request.server.gatehouse.config.publicUrl),
      username: opts.username ?? '',
      reason: opts.reason,
      error: opts.error?.message,
      done: opts.done ?? false,
      csrf: reply.generateCsrf(),
    },
    opts.error?.status ?? 200,
  );
}
