import { Type, type Static } from '@sinclair/typebox';

/**
 * The `tenant` section: the app registration `gatehouse tenant-setup --apply/--check` uses to read and write
 * the domain's federation configuration in Microsoft Graph. Optional: without it, tenant-setup uses the
 * sync section's app (tenantId, clientId, credential, graphUrl, authorityHost). When it is present it is
 * used whole; the two are never mixed.
 */
export const TenantConfigSchema = Type.Object(
  {
    tenantId: Type.String({ minLength: 1, description: 'Entra tenant ID (GUID) or primary domain, for tenant-setup --apply/--check. Required when the tenant section is set.' }),
    clientId: Type.String({
      minLength: 1,
      description: 'Application (client) ID of the app registration that holds Domain-InternalFederation.ReadWrite.All (application permission, admin consent). Required.',
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
    displayName: Type.Optional(
      Type.String({ minLength: 1, description: "The federation configuration's displayName (ADFS: FederationBrandName). Default: the domain name." }),
    ),
  },
  { additionalProperties: false },
);

export type TenantConfig = Static<typeof TenantConfigSchema>;
