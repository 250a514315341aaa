import { GatehouseError } from '../../errors.js';
import { clientInsideCorporateNetwork } from '../../http/network-location.js';
import { decideAccess } from '../access-policy.js';
import type { SignInContext } from '../sign-in.js';

/**
 * The relying party's client access policy (relyingParties[].accessPolicy), once the user is known and
 * before any claim is resolved: the same decision for every protocol. A refusal is audited with the rule
 * that decided and told to the user (an error page; a WS-Trust fault), never as a token.
 * @throws GH_ACCESS_DENIED, GH_DIRECTORY_UNAVAILABLE
 */
export async function checkAccess(ctx: SignInContext): Promise<void> {
  const policy = ctx.rp.accessPolicy;
  if (!policy) return;
  const { request, authentication, services } = ctx;
  const header = ctx.http.request.headers['x-ms-client-application'];
  const clientApplication = Array.isArray(header) ? header[0] : header;
  const inside = request.insideCorporateNetwork === true;
  // addresses[0] is the request's own client address; any after it are X-MS-Forwarded-Client-IP's (WS-Trust
  // through a trusted proxy only: see clientAddresses).
  const clientInside = clientInsideCorporateNetwork(request.addresses.slice(1), inside, services.config.network);
  const decision = await decideAccess(policy, {
    protocol: request.protocol,
    endpoint: request.endpoint,
    insideCorporateNetwork: inside,
    clientInsideCorporateNetwork: clientInside,
    clientApplication,
    isMemberOf: (dn) => services.directory.isMemberOf(authentication.user.dn, dn),
  });
  if (decision.allowed) return;
  ctx.http.request.log.warn(
    {
      event: 'access_denied',
      protocol: request.protocol,
      endpoint: request.endpoint,
      realm: ctx.rp.id,
      user: authentication.user.userPrincipalName ?? authentication.user.sAMAccountName,
      addresses: request.addresses,
      insideCorporateNetwork: inside,
      clientInsideCorporateNetwork: clientInside,
      clientApplication,
      rule: decision.rule,
    },
    `access policy of ${ctx.rp.id}: refused by ${decision.rule}`,
  );
  throw new GatehouseError('GH_ACCESS_DENIED', {
    detail: `${ctx.rp.id}: access policy ${decision.rule}`,
    ...(decision.message ? { message: decision.message } : {}),
  });
}
