import { ClientCertificateCredential, ClientSecretCredential, type TokenCredential } from '@azure/identity';
import { appCredential, type AppCredential } from './credential.js';
import { GraphClient, type GraphClientOptions } from './client.js';

/** What an app-only Graph token needs (the sync worker's settings and tenant-setup's both fit). */
export interface GraphAppSettings {
  tenantId: string;
  clientId: string;
  credential: AppCredential;
  graphUrl: string;
  authorityHost: string;
}

/** The app registration of a configuration section (`sync`, `tenant`), its credential read, URLs without a trailing slash. */
export function graphAppSettings(
  section: string,
  s: { tenantId: string; clientId: string; graphUrl: string; authorityHost: string } & Parameters<typeof appCredential>[1],
): GraphAppSettings {
  return {
    tenantId: s.tenantId,
    clientId: s.clientId,
    credential: appCredential(section, s),
    graphUrl: s.graphUrl.replace(/\/+$/, ''),
    authorityHost: s.authorityHost.replace(/\/+$/, ''),
  };
}

/** The authority did not give a token (wrong tenant, client, secret or certificate, or unreachable). */
export class GraphTokenError extends Error {
  override name = 'GraphTokenError';
}

/** Microsoft's own authority hosts (public and national clouds): MSAL knows them without asking. */
const MICROSOFT_AUTHORITY_HOSTS = new Set([
  'login.microsoftonline.com',
  'login.windows.net',
  'login.microsoft.com',
  'sts.windows.net',
  'login.microsoftonline.us',
  'login.usgovcloudapi.net',
  'login.chinacloudapi.cn',
  'login.partner.microsoftonline.cn',
  'login.microsoftonline.de',
]);

/** Whether MSAL's instance discovery (a call to login.microsoftonline.com) must be skipped for this host. */
export function needsDisableInstanceDiscovery(authorityHost: string): boolean {
  return !MICROSOFT_AUTHORITY_HOSTS.has(new URL(authorityHost).hostname.toLowerCase());
}

/**
 * Client-credentials token source for Graph (app-only, scope {graphUrl}/.default); MSAL caches the token.
 * @throws GraphTokenError
 */
export function graphTokenProvider(settings: GraphAppSettings): () => Promise<string> {
  const options = {
    authorityHost: settings.authorityHost,
    disableInstanceDiscovery: needsDisableInstanceDiscovery(settings.authorityHost),
  };
  const credential: TokenCredential =
    settings.credential.kind === 'secret'
      ? new ClientSecretCredential(settings.tenantId, settings.clientId, settings.credential.secret, options)
      : new ClientCertificateCredential(settings.tenantId, settings.clientId, { certificate: settings.credential.pem }, options);
  const scope = `${settings.graphUrl}/.default`;
  return async () => {
    let token;
    try {
      token = await credential.getToken(scope);
    } catch (err) {
      throw new GraphTokenError((err as Error).message ?? String(err), { cause: err });
    }
    if (!token) throw new GraphTokenError('no access token from the authority');
    return token.token;
  };
}

/** A Graph client for the app, with a token from its credential. */
export function graphClientFor(settings: GraphAppSettings, opts: Omit<GraphClientOptions, 'graphUrl' | 'token'>): GraphClient {
  return new GraphClient({ ...opts, graphUrl: settings.graphUrl, token: graphTokenProvider(settings) });
}
