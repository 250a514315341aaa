import { Type } from '@sinclair/typebox';

/**
 * The Entra app registration a feature signs in to Microsoft Graph with (client credentials): the same
 * keys in `sync` and `tenant`, each section naming the Graph permission its app needs.
 */
export function graphAppProperties(permission: string) {
  return {
    tenantId: Type.String({ minLength: 1, description: 'Entra tenant ID (GUID) or primary domain. Required when the section is set.' }),
    clientId: Type.String({
      minLength: 1,
      description: `Application (client) ID of the app registration that holds ${permission} (application permission, admin consent). Required.`,
    }),
    clientSecret: Type.Optional(Type.String({ minLength: 1, description: 'Client secret of that app (or use clientSecretFile or clientCertificateFile).' })),
    clientSecretFile: Type.Optional(Type.String({ minLength: 1, description: 'File holding the client secret.' })),
    clientCertificateFile: Type.Optional(
      Type.String({ minLength: 1, description: 'PEM file with the certificate and its private key registered on the app (instead of a secret).' }),
    ),
    graphUrl: Type.String({
      pattern: '^https?://',
      default: 'https://graph.microsoft.com',
      description: 'Microsoft Graph base URL (national clouds: e.g. https://graph.microsoft.us).',
    }),
    authorityHost: Type.String({
      pattern: '^https://',
      default: 'https://login.microsoftonline.com',
      description: 'Entra sign-in authority for the app token (national clouds: e.g. https://login.microsoftonline.us).',
    }),
  };
}
