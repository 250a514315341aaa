import type { SignInContext } from '../sign-in.js';
import { tokensIssued } from '../../metrics/metrics.js';

/**
 * One audit line for every token, of one shape whatever the protocol: who, for which relying party, from
 * where, how they authenticated, in which session, and which assertion (its ID is in the relying party's
 * logs too).
 */
export function audit(ctx: SignInContext): void {
  const { request, rp, authentication, assertion } = ctx;
  tokensIssued.inc({ protocol: request.protocol, relying_party: rp.id, authn_method: authentication.method });
  ctx.services.activity?.record({
    time: Date.now(), kind: 'token_issued', user: authentication.user.userPrincipalName ?? authentication.user.sAMAccountName, outcome: 'success',
    protocol: request.endpoint, realm: rp.id, addresses: request.addresses, correlationId: ctx.http.request.id, detail: authentication.method,
  });
  ctx.http.request.log.info(
    {
      event: 'token_issued',
      protocol: request.protocol,
      endpoint: request.endpoint,
      realm: rp.id,
      user: authentication.user.userPrincipalName ?? authentication.user.sAMAccountName,
      addresses: request.addresses,
      authnMethod: authentication.method,
      sid: authentication.session?.sid,
      assertionId: assertion.id,
      inResponseTo: request.messageId,
      encrypted: Boolean(ctx.encryptedTo),
    },
    `${ctx.adapter.name} token issued`,
  );
}
