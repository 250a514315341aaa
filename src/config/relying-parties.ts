import { ConfigError } from '../errors.js';
import { SAML2_ONLY_KEYS, type RelyingPartyConfig, type RelyingPartyInput } from './schema/relying-party.js';

/**
 * Microsoft 365 / Entra ID, worldwide cloud. Like ADFS's Office 365 trust it answers WS-Federation (and
 * WS-Trust) and SAML 2.0 at once, with the same claims: a tenant may federate one domain with each
 * protocol, or move a domain from one to the other. Override by listing the same id in `relyingParties`
 * (`protocol: wsfed` or `saml2` narrows it to one).
 */
export const MICROSOFT_365: RelyingPartyInput = {
  id: 'urn:federation:MicrosoftOnline',
  name: 'Microsoft 365',
  protocol: 'wsfed+saml2',
  replyUrls: ['https://login.microsoftonline.com/login.srf'],
};

export const builtInRelyingParties: readonly RelyingPartyInput[] = [MICROSOFT_365];

/**
 * The relying parties by realm: the built-in ones, then the configured ones (an entry with a built-in id
 * is merged over it: Microsoft 365's reply URL comes from there). The one place a relying party is
 * validated beyond the schema.
 * @throws ConfigError naming `relyingParties[i]` and the key
 */
export function resolveRelyingParties(configured: readonly RelyingPartyInput[]): Map<string, RelyingPartyConfig> {
  const rps = new Map<string, RelyingPartyConfig>();
  for (const rp of builtInRelyingParties) rps.set(rp.id, checkRelyingParty(rp, `built-in relying party ${rp.id}`));
  const builtIn = new Map(builtInRelyingParties.map((rp) => [rp.id, rp]));
  const seen = new Set<string>();
  configured.forEach((rp, i) => {
    if (seen.has(rp.id)) throw new ConfigError(`relyingParties[${i}].id: "${rp.id}" is listed twice`);
    seen.add(rp.id);
    (rp.replyUrls ?? []).forEach((u, j) => {
      const url = new URL(u);
      if (url.protocol !== 'https:' && url.protocol !== 'http:') {
        throw new ConfigError(`relyingParties[${i}].replyUrls[${j}]: must be an http(s) URL`);
      }
    });
    rps.set(rp.id, checkRelyingParty({ ...builtIn.get(rp.id), ...rp }, `relyingParties[${i}]`));
  });
  return rps;
}

/**
 * What the schema cannot say about one relying party, by protocol; the entry comes back as its protocol's
 * shape, with `protocol` set.
 * @throws ConfigError naming `where` and the key
 */
export function checkRelyingParty(rp: RelyingPartyInput, where: string): RelyingPartyConfig {
  if (rp.protocol === 'wsfed+saml2') {
    const { replyUrls } = rp;
    if (!replyUrls?.length) throw new ConfigError(`${where}.replyUrls: required for a relying party with protocol wsfed+saml2 (WS-Federation needs them)`);
    if (rp.metadataSigningCertFile && !rp.metadataUrl && !rp.metadataFile) {
      throw new ConfigError(`${where}.metadataSigningCertFile: only with metadataFile or metadataUrl`);
    }
    if (rp.metadataFile && rp.metadataUrl) throw new ConfigError(`${where}.metadataUrl: set either metadataFile or metadataUrl, not both`);
    return { ...rp, protocol: 'wsfed+saml2', replyUrls };
  }
  if (rp.protocol !== 'saml2') {
    const samlOnly = SAML2_ONLY_KEYS.find((k) => rp[k] !== undefined);
    if (samlOnly) throw new ConfigError(`${where}.${samlOnly}: only for SAML 2.0 relying parties (set protocol: saml2)`);
    const { replyUrls } = rp;
    if (!replyUrls?.length) throw new ConfigError(`${where}.replyUrls: required for a WS-Federation relying party (protocol wsfed, the default)`);
    return { ...(rp as Omit<RelyingPartyInput, (typeof SAML2_ONLY_KEYS)[number]>), protocol: 'wsfed', replyUrls };
  }
  if (rp.metadataFile && rp.metadataUrl) throw new ConfigError(`${where}.metadataUrl: set either metadataFile or metadataUrl, not both`);
  if (!rp.metadataFile && !rp.metadataUrl && !rp.replyUrls?.length) {
    throw new ConfigError(`${where}.metadataFile: a SAML 2.0 relying party needs metadataFile, metadataUrl or replyUrls (its AssertionConsumerService URLs)`);
  }
  if (rp.metadataSigningCertFile && !rp.metadataUrl && !rp.metadataFile) {
    throw new ConfigError(`${where}.metadataSigningCertFile: only with metadataFile or metadataUrl`);
  }
  return { ...rp, protocol: 'saml2' };
}
