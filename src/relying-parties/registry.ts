import type { RelyingPartyConfig } from '../config/schema.js';
import { GatehouseError } from '../errors.js';

export class RelyingPartyRegistry {
  constructor(private readonly parties: Map<string, RelyingPartyConfig>) {}

  /** @throws GH_RP_UNKNOWN */
  get(realm: string): RelyingPartyConfig {
    const rp = this.parties.get(realm);
    if (!rp) throw new GatehouseError('GH_RP_UNKNOWN', { detail: `realm ${JSON.stringify(realm)} is not registered` });
    return rp;
  }

  /**
   * The reply URL for a response: the requested one only when it is registered for this relying party,
   * otherwise the first registered one. A request never chooses where a token goes.
   */
  replyUrl(rp: RelyingPartyConfig, requested?: string): string {
    if (requested && rp.replyUrls.includes(requested)) return requested;
    return rp.replyUrls[0]!;
  }

  /** True when `url` is a registered reply URL of any relying party (for sign-out returns). */
  isRegisteredReply(url: string): boolean {
    for (const rp of this.parties.values()) if (rp.replyUrls.includes(url)) return true;
    return false;
  }

  all(): RelyingPartyConfig[] {
    return [...this.parties.values()];
  }
}
