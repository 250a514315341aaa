import { ClientCertificateCredential, ClientSecretCredential, type TokenCredential } from '@azure/identity';
import type { AppCredential } from './settings.js';

/** What an app-only Graph token needs (the sync worker's settings and tenant-setup's both fit). */
export interface GraphAppSettings {
  tenantId: string;
  clientId: string;
  credential: AppCredential;
  graphUrl: string;
  authorityHost: string;
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

/** Client-credentials token source for Graph (app-only, scope {graphUrl}/.default); MSAL caches the token. */
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
    const token = await credential.getToken(scope);
    if (!token) throw new Error('no access token from the authority');
    return token.token;
  };
}
