import type { FastifyReply, FastifyRequest } from 'fastify';
import type { RelyingPartyConfig } from '../config/schema.js';
import { renderPage } from '../http/pages.js';
import type { GatehouseError } from '../errors.js';

/** The password form. It posts back to the URL that showed it, so the protocol request travels with it. */
export function renderLogin(
  request: FastifyRequest,
  reply: FastifyReply,
  opts: { rp: RelyingPartyConfig; username?: string | undefined; error?: GatehouseError },
) {
  return renderPage(
    reply,
    'login',
    {
      title: 'Sign in',
      rpName: opts.rp.name ?? opts.rp.id,
      action: request.url,
      username: opts.username ?? '',
      error: opts.error?.message,
    },
    opts.error?.status ?? 200,
  );
}
