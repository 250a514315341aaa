import { GatehouseError } from '../errors.js';
import { outcomeOf, signIns } from '../metrics/metrics.js';
import type { SignInContext } from './sign-in.js';

/** The protocol label when the request could not even be decoded (the adapter is known). */
const BY_ADAPTER: Record<string, string> = { 'WS-Federation': 'wsfed', 'WS-Trust': 'ws-trust', 'SAML 2.0': 'saml2' };

/**
 * Counts one sign-in request that ended (gatehouse_signins_total): a token sent is a success; an error,
 * or a refusal the login form answered itself, is counted under its reason. A login page shown to a
 * user who has not tried yet is no outcome. Relying parties are labelled only once found in the
 * registry (a configured one), so a request cannot add label values of its own.
 */
export function countSignIn(ctx: SignInContext, err?: unknown): void {
  let outcome: string | undefined;
  if (err !== undefined) outcome = err instanceof GatehouseError ? outcomeOf(err.code) : 'internal';
  else if (ctx.token !== undefined) outcome = 'success';
  else if (ctx.refusedWith) outcome = outcomeOf(ctx.refusedWith.code);
  if (!outcome) return;
  const protocol = ctx.request?.protocol ?? BY_ADAPTER[ctx.adapter.name] ?? 'unknown';
  signIns.inc({ protocol, relying_party: ctx.rp?.id ?? 'unknown', outcome });
}
