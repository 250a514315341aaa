import { GatehouseError, type ErrorCode } from '../errors.js';
import type { SignInContext } from './sign-in.js';

/** Why a request is refused, in terms every protocol can say (SAML 2.0 maps them to its status codes). */
export type RefusalReason = 'requestDenied' | 'invalidNameIdPolicy' | 'noPassive';

/**
 * A request refused for a reason the relying party should hear in its own protocol (a SAML error status)
 * rather than the user on an error page. It still is a GatehouseError: when the relying party cannot be
 * told (no registered endpoint chosen yet), the error page shows its code's message.
 */
export class Refusal extends GatehouseError {
  /** Said to the relying party too (a SAML StatusMessage); never more than the error page would say. */
  readonly statusMessage: string | undefined;

  constructor(
    code: ErrorCode,
    readonly reason: RefusalReason,
    opts: { detail: string; statusMessage?: string },
  ) {
    super(code, { detail: opts.detail });
    this.statusMessage = opts.statusMessage;
  }
}

/**
 * The one error policy of the sign-in pipeline: who hears about an error.
 * - Without a browser (WS-Trust), the relying party's client always does: a SOAP fault.
 * - A refusal goes to the relying party once its reply endpoint is chosen from what it registered, so an
 *   error answer never goes to an address the request made up.
 * - Everything else is the browser's: the app's error handler renders the error page (it is rethrown).
 *   So is a user Microsoft 365 would not accept (GH_DOMAIN_NOT_FEDERATED, GH_LOGIN_AMBIGUOUS): the user
 *   must read what to do, which a relying party's error screen would not say.
 */
export function errorGoesTo(ctx: Pick<SignInContext, 'adapter'> & Partial<SignInContext>, err: unknown): 'relying-party' | 'browser' {
  if (!ctx.adapter.browser) return 'relying-party';
  if (err instanceof Refusal && ctx.replyTo !== undefined) return 'relying-party';
  return 'browser';
}

export async function answerError(ctx: SignInContext, err: unknown) {
  if (ctx.adapter.encodeError && errorGoesTo(ctx, err) === 'relying-party') return ctx.adapter.encodeError(ctx, err);
  throw err;
}
