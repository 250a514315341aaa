import { SAML2 } from '../../constants.js';
import { GatehouseError } from '../../errors.js';
import type { SamlServiceProvider, SpEndpoint } from '../../relying-parties/sp-metadata.js';

/** What an AuthnRequest asks about where its answer goes (absent fields: the metadata's default). */
export interface RequestedAcs {
  url?: string | undefined;
  index?: number | undefined;
  binding?: string | undefined;
}

/**
 * The ACS the Response goes to: the one the request names by index or URL only when the metadata
 * registers it for HTTP-POST; otherwise the metadata's default. A request never names its own.
 * @throws GH_SAML_ENDPOINT_UNREGISTERED
 */
export function chooseAcs(sp: SamlServiceProvider, req: RequestedAcs): SpEndpoint {
  const post = sp.acs.filter((e) => e.binding === SAML2.bindingPost);
  if (req.binding && req.binding !== SAML2.bindingPost) {
    throw new GatehouseError('GH_SAML_ENDPOINT_UNREGISTERED', { detail: `ProtocolBinding ${req.binding} is not supported` });
  }
  if (req.index !== undefined) {
    const e = post.find((x) => x.index === req.index);
    if (!e) throw new GatehouseError('GH_SAML_ENDPOINT_UNREGISTERED', { detail: `ACS index ${req.index} is not registered for ${sp.entityId}` });
    return e;
  }
  if (req.url !== undefined) {
    const e = post.find((x) => x.location === req.url);
    if (!e) throw new GatehouseError('GH_SAML_ENDPOINT_UNREGISTERED', { detail: `ACS URL ${req.url} is not registered for ${sp.entityId}` });
    return e;
  }
  return post.find((x) => x.isDefault) ?? post[0]!;
}

/** Where a logout message goes: the SP's Redirect SingleLogoutService if it has one, else POST. */
export function sloEndpoint(sp: SamlServiceProvider): SpEndpoint | undefined {
  return sp.slo.find((e) => e.binding === SAML2.bindingRedirect) ?? sp.slo.find((e) => e.binding === SAML2.bindingPost);
}
