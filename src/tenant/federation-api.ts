import pino from 'pino';
import type { Config } from '../config/load.js';
import { ConfigError } from '../errors.js';
import { graphAppSettings, graphClientFor, GraphTokenError, type GraphAppSettings } from '../graph/auth.js';
import { GraphError, type GraphClient } from '../graph/client.js';
import type { InternalDomainFederation } from './federation.js';

export interface TenantSettings extends GraphAppSettings {
  /** Which section the app came from, for messages. */
  section: 'tenant' | 'sync';
}

/**
 * The app registration tenant-setup uses: the `tenant` section when present (whole), else the sync
 * section's app. One source per run, never a mix of the two.
 */
export function tenantSettings(config: Config): TenantSettings {
  const t = config.tenant ?? config.sync;
  const section = config.tenant ? 'tenant' : 'sync';
  if (!t) {
    throw new ConfigError(
      'tenant: --apply and --check need an app registration with Domain-InternalFederation.ReadWrite.All: set tenant.tenantId, tenant.clientId and tenant.clientSecret (or tenant.clientSecretFile / tenant.clientCertificateFile); see "Set up your Microsoft 365 domain" in the README',
    );
  }
  return { section, ...graphAppSettings(section, t) };
}

/** What the tenant holds for a domain: Graph's object (with its id), or none. */
export type TenantFederation = Record<string, unknown> & { id: string };

/** Graph's /domains/{id}/federationConfiguration, with errors an admin can act on. */
export class FederationApi {
  constructor(
    private readonly graph: GraphClient,
    private readonly settings: TenantSettings,
  ) {}

  static create(settings: TenantSettings): FederationApi {
    const graph = graphClientFor(settings, { maxRetries: 3, log: pino({ level: 'warn' }, process.stderr) });
    return new FederationApi(graph, settings);
  }

  private path(domain: string): string {
    return `/domains/${encodeURIComponent(domain)}/federationConfiguration`;
  }

  private explain(err: unknown, domain: string, write: boolean): Error {
    const s = this.settings;
    const app = `app ${s.clientId} (${s.section}.clientId) in tenant ${s.tenantId}`;
    if (err instanceof GraphError) {
      if (err.status === 403 || err.code === 'Authorization_RequestDenied') {
        return new Error(
          `Microsoft Graph refused: ${err.message}\n  The ${app} needs the application permission ${write ? 'Domain-InternalFederation.ReadWrite.All' : 'Domain-InternalFederation.ReadWrite.All (or Domain.Read.All to check only)'} with admin consent (Entra admin centre > App registrations > API permissions > Grant admin consent).` +
            (write ? ' Some versions of the Graph documentation list Domain.ReadWrite.All for creating the configuration: grant it if creating is still refused.' : ''),
        );
      }
      if (err.status === 404) {
        return new Error(`Microsoft Graph: ${err.message}\n  Is ${domain} added and verified in tenant ${s.tenantId}? (Microsoft 365 admin centre > Settings > Domains)`);
      }
      if (err.status === 401) return new Error(`Microsoft Graph refused the token: ${err.message}\n  Check ${s.section}.graphUrl (${s.graphUrl}) and ${s.section}.authorityHost belong to the same cloud.`);
      return new Error(`Microsoft Graph: ${err.message}`);
    }
    const msg = ((err as Error).message ?? String(err)).split('\n')[0];
    if (err instanceof GraphTokenError) {
      return new Error(
        `cannot get a token for the ${app} from ${s.authorityHost}: ${msg}\n  Check ${s.section}.tenantId, ${s.section}.clientId, the secret or certificate, and that ${s.section}.authorityHost is reachable from here.`,
      );
    }
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    return new Error(`cannot reach Microsoft Graph at ${s.graphUrl}: ${msg}${cause ? ` (${cause.code ?? cause.message})` : ''}\n  Check ${s.section}.graphUrl and the network (proxy, firewall).`);
  }

  /** The domain's configuration (Graph returns at most one), or undefined when the domain is not federated. */
  async get(domain: string): Promise<TenantFederation | undefined> {
    try {
      const page = await this.graph.call('GET', this.path(domain));
      return (page?.value ?? [])[0] as TenantFederation | undefined;
    } catch (err) {
      throw this.explain(err, domain, false);
    }
  }

  async create(domain: string, body: InternalDomainFederation): Promise<TenantFederation> {
    try {
      return (await this.graph.call('POST', this.path(domain), body)) as TenantFederation;
    } catch (err) {
      throw this.explain(err, domain, true);
    }
  }

  async update(domain: string, id: string, body: Record<string, unknown>): Promise<void> {
    try {
      await this.graph.call('PATCH', `${this.path(domain)}/${encodeURIComponent(id)}`, body);
    } catch (err) {
      throw this.explain(err, domain, true);
    }
  }
}
