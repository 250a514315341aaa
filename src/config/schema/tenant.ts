import { Type, type Static } from '@sinclair/typebox';
import { graphAppProperties } from './graph-app.js';

/**
 * The `tenant` section: the app registration `gatehouse tenant-setup --apply/--check` uses to read and write
 * the domain's federation configuration in Microsoft Graph. Optional: without it, tenant-setup uses the
 * sync section's app (tenantId, clientId, credential, graphUrl, authorityHost). When it is present it is
 * used whole; the two are never mixed.
 */
export const TenantConfigSchema = Type.Object(
  {
    ...graphAppProperties('Domain-InternalFederation.ReadWrite.All'),
    displayName: Type.Optional(
      Type.String({ minLength: 1, description: "The federation configuration's displayName (ADFS: FederationBrandName). Default: the domain name." }),
    ),
  },
  { additionalProperties: false },
);

export type TenantConfig = Static<typeof TenantConfigSchema>;
