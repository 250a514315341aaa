import { createHash, X509Certificate } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyBaseLogger } from 'fastify';
import type { RelyingPartyConfig } from '../config/schema/relying-party.js';
import { SAML2 } from '../constants.js';
import { ConfigError, GatehouseError } from '../errors.js';
import { MetadataError, parseSpMetadata, type SamlServiceProvider } from './sp-metadata.js';

export interface RegistryOptions {
  /** Where fetched SP metadata is cached (survives a restart while the SP's server is down). */
  stateDir?: string;
  log?: FastifyBaseLogger;
  fetch?: typeof fetch;
}

const DEFAULT_REFRESH_MINUTES = 60;
const MAX_METADATA_BYTES = 1024 * 1024;

export function protocolOf(rp: RelyingPartyConfig): RelyingPartyConfig['protocol'] {
  return rp.protocol;
}

/** Takes SAML 2.0 (protocol saml2, or wsfed+saml2 as Microsoft 365 does). */
export function speaksSaml2(rp: RelyingPartyConfig): boolean {
  return rp.protocol === 'saml2' || rp.protocol === 'wsfed+saml2';
}

/** Takes SAML 1.1 tokens over WS-Federation and WS-Trust (protocol wsfed, or wsfed+saml2). */
export function speaksWsFederation(rp: RelyingPartyConfig): boolean {
  return rp.protocol === 'wsfed' || rp.protocol === 'wsfed+saml2';
}

/**
 * The relying parties from configuration (Microsoft 365 built in), and for SAML 2.0 ones what their
 * metadata says: ACS and SLO endpoints, the certificates that may sign their requests, their encryption
 * key. Metadata from a file is read at start; from a URL it is fetched at start and then every
 * `metadataRefreshMinutes`, cached in stateDir, and a failed fetch keeps the last good copy.
 */
export class RelyingPartyRegistry {
  private readonly sps = new Map<string, SamlServiceProvider>();
  private readonly unavailable = new Map<string, string>();
  private readonly timers: NodeJS.Timeout[] = [];

  constructor(
    private readonly parties: Map<string, RelyingPartyConfig>,
    private readonly opts: RegistryOptions = {},
  ) {
    // The entries were checked when the configuration loaded (config/relying-parties.ts): here only what
    // needs a file or the network.
    for (const rp of parties.values()) {
      if (!speaksSaml2(rp)) continue;
      const where = `relyingParties (${rp.id})`;
      if (!rp.metadataFile && !rp.metadataUrl) this.sps.set(rp.id, spFromConfig(rp));
      if (rp.metadataFile) {
        let xml: string;
        try {
          xml = readFileSync(rp.metadataFile, 'utf8');
        } catch (err) {
          throw new ConfigError(`${where}.metadataFile: cannot read ${rp.metadataFile} (${(err as NodeJS.ErrnoException).code})`);
        }
        try {
          this.accept(rp, parseSpMetadata(xml, this.metadataChecks(rp)));
        } catch (err) {
          if (err instanceof MetadataError) throw new ConfigError(`${where}.metadataFile: ${err.message}`);
          throw err;
        }
      }
    }
  }

  /** What parseSpMetadata checks the entry's metadata against: its pinned signer, its id, its SHA-1 setting. */
  private metadataChecks(rp: RelyingPartyConfig) {
    return { pinned: this.pinned(rp), expectedEntityId: rp.id, acceptSha1: rp.acceptSha1Signatures === true };
  }

  private pinned(rp: RelyingPartyConfig): X509Certificate | undefined {
    if (!rp.metadataSigningCertFile) return undefined;
    try {
      return new X509Certificate(readFileSync(rp.metadataSigningCertFile));
    } catch (err) {
      throw new ConfigError(`relyingParties (${rp.id}).metadataSigningCertFile: cannot read a PEM certificate from ${rp.metadataSigningCertFile} (${(err as Error).message})`);
    }
  }

  private accept(rp: RelyingPartyConfig, sp: SamlServiceProvider): void {
    if (rp.encryptAssertion === true && !sp.encryptionCert) {
      throw new MetadataError('encryptAssertion is true but the metadata has no encryption key');
    }
    this.sps.set(rp.id, sp);
    this.unavailable.delete(rp.id);
  }

  /** Fetches metadata URLs (start-up) and schedules their refresh. Call once; `stop` clears the timers. */
  async start(): Promise<void> {
    const remote = [...this.parties.values()].filter((rp) => speaksSaml2(rp) && rp.metadataUrl);
    await Promise.all(remote.map((rp) => this.refresh(rp, true)));
    for (const rp of remote) {
      const t = setInterval(() => void this.refresh(rp, false), (rp.metadataRefreshMinutes ?? DEFAULT_REFRESH_MINUTES) * 60_000);
      t.unref();
      this.timers.push(t);
    }
  }

  stop(): void {
    for (const t of this.timers) clearInterval(t);
    this.timers.length = 0;
  }

  private cacheFile(rp: RelyingPartyConfig): string | undefined {
    if (!this.opts.stateDir) return undefined;
    return join(this.opts.stateDir, 'saml-metadata', `${createHash('sha256').update(rp.id).digest('hex').slice(0, 32)}.xml`);
  }

  /** One fetch of a metadata URL; on failure the previous copy (or, at start, the cached one) stays. */
  async refresh(rp: RelyingPartyConfig, atStart: boolean): Promise<void> {
    const log = this.opts.log;
    const cache = this.cacheFile(rp);
    try {
      const res = await (this.opts.fetch ?? fetch)(rp.metadataUrl!, { signal: AbortSignal.timeout(10_000), redirect: 'error' });
      if (!res.ok) throw new MetadataError(`HTTP ${res.status}`);
      const xml = await res.text();
      if (xml.length > MAX_METADATA_BYTES) throw new MetadataError('metadata larger than 1 MiB');
      this.accept(rp, parseSpMetadata(xml, this.metadataChecks(rp)));
      if (cache) {
        mkdirSync(join(cache, '..'), { recursive: true });
        writeFileSync(cache, xml);
      }
      log?.info({ event: 'sp_metadata_loaded', rp: rp.id, url: rp.metadataUrl }, 'SAML SP metadata loaded');
    } catch (err) {
      const reason = (err as Error).message;
      log?.warn({ event: 'sp_metadata_failed', rp: rp.id, url: rp.metadataUrl, reason }, 'SAML SP metadata could not be refreshed');
      if (atStart && cache && !this.sps.has(rp.id)) {
        try {
          this.accept(rp, parseSpMetadata(readFileSync(cache, 'utf8'), this.metadataChecks(rp)));
          log?.warn({ event: 'sp_metadata_cached', rp: rp.id }, 'using the cached SAML SP metadata');
          return;
        } catch {
          // no usable cache
        }
      }
      if (!this.sps.has(rp.id)) this.unavailable.set(rp.id, reason);
    }
  }

  /** @throws GH_RP_UNKNOWN */
  get(realm: string): RelyingPartyConfig {
    const rp = this.parties.get(realm);
    if (!rp) throw new GatehouseError('GH_RP_UNKNOWN', { detail: `realm ${JSON.stringify(realm)} is not registered` });
    return rp;
  }

  /**
   * A relying party that takes SAML 1.1 tokens (WS-Federation, and WS-Trust for its rich clients). A SAML 2.0
   * relying party gets tokens only over SAML 2.0: it never registered for the other formats, and a token
   * it was not set up to expect is one a confused or hostile request could make it accept.
   * @throws GH_RP_UNKNOWN
   */
  wsFederation(realm: string, via: 'wsfed' | 'ws-trust'): RelyingPartyConfig {
    const rp = this.get(realm);
    if (!speaksWsFederation(rp)) {
      throw new GatehouseError('GH_RP_UNKNOWN', { detail: `${rp.id} is registered for SAML 2.0, not for ${via === 'wsfed' ? 'WS-Federation' : 'WS-Trust'}` });
    }
    return rp;
  }

  /** A SAML 2.0 relying party by entity ID, with its metadata. @throws GH_RP_UNKNOWN, GH_RP_METADATA_UNAVAILABLE */
  saml(entityId: string): { rp: RelyingPartyConfig; sp: SamlServiceProvider } {
    const rp = this.get(entityId);
    if (!speaksSaml2(rp)) throw new GatehouseError('GH_RP_UNKNOWN', { detail: `${entityId} is not a SAML 2.0 relying party` });
    const sp = this.sps.get(rp.id);
    if (!sp) throw new GatehouseError('GH_RP_METADATA_UNAVAILABLE', { detail: `${rp.id}: ${this.unavailable.get(rp.id) ?? 'no metadata'}` });
    return { rp, sp };
  }

  /**
   * The reply URL for a response: the requested one only when it is registered for this relying party,
   * otherwise the first registered one. A request never chooses where a token goes.
   */
  replyUrl(rp: RelyingPartyConfig, requested?: string): string {
    const urls = rp.replyUrls ?? [];
    if (requested && urls.includes(requested)) return requested;
    const first = urls[0];
    if (!first) throw new GatehouseError('GH_RP_UNKNOWN', { detail: `${rp.id} has no reply URL for WS-Federation` });
    return first;
  }

  /** True when `url` is a registered reply URL of any relying party (for sign-out returns). */
  isRegisteredReply(url: string): boolean {
    for (const rp of this.parties.values()) if (rp.replyUrls?.includes(url)) return true;
    return false;
  }

  all(): RelyingPartyConfig[] {
    return [...this.parties.values()];
  }
}

/** A SAML 2.0 SP without metadata (Microsoft 365 does not publish one we may fetch here): ACS from replyUrls. */
function spFromConfig(rp: RelyingPartyConfig): SamlServiceProvider {
  return {
    entityId: rp.id,
    acs: (rp.replyUrls ?? []).map((location, index) => ({ binding: SAML2.bindingPost, location, index, isDefault: index === 0 })),
    slo: rp.singleLogoutUrl ? [{ binding: SAML2.bindingRedirect, location: rp.singleLogoutUrl }] : [],
    signingCerts: [],
    encryptionCert: undefined,
    authnRequestsSigned: false,
    wantAssertionsSigned: true,
    nameIdFormats: [],
    acceptSha1: rp.acceptSha1Signatures === true,
  };
}
