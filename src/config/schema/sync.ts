import { Type, type Static } from '@sinclair/typebox';
import { graphAppProperties } from './graph-app.js';

/** The `sync` section: provisioning of AD users into Microsoft Entra ID (the sync worker). */
export const SyncConfigSchema = Type.Object(
  {
    intervalMinutes: Type.Integer({ minimum: 1, default: 30, description: 'Time between sync cycles.' }),
    ...graphAppProperties('User.ReadWrite.All'),
    domains: Type.Array(Type.String({ minLength: 1 }), {
      minItems: 1,
      description: 'Federated (verified) UPN suffixes users are created under, e.g. ["corp.example.com"]. Required.',
    }),
    upnSuffixMap: Type.Record(Type.String(), Type.String(), {
      default: {},
      description: 'UPN suffixes that are not federated, mapped to one that is, e.g. {"corp.local": "corp.example.com"}. Users with any other suffix are skipped.',
    }),
    scope: Type.Object(
      {
        ous: Type.Array(Type.String({ minLength: 1 }), {
          default: [],
          description: 'DNs of the OUs (subtrees) whose users are synced; empty = directory.baseDn.',
        }),
        group: Type.Optional(
          Type.String({ minLength: 1, description: 'DN of a group: only its members (nested membership counts) are synced.' }),
        ),
        filter: Type.String({
          default: '(&(objectCategory=person)(objectClass=user)(!(isCriticalSystemObject=TRUE)))',
          description: 'LDAP filter every synced user must match.',
        }),
      },
      { additionalProperties: false, default: {} },
    ),
    attributeMap: Type.Record(Type.String(), Type.String(), {
      default: {},
      description:
        'Overrides of the Graph property <- AD attribute mapping, e.g. {"jobTitle": "title", "employeeId": "employeeNumber"}; "" stops syncing a property. See the README for the defaults.',
    }),
    usageLocation: Type.Optional(
      Type.String({ pattern: '^[A-Z]{2}$', description: 'Two-letter country code set as usageLocation on every user (needed before licences).' }),
    ),
    usageLocationAttribute: Type.Optional(
      Type.String({ minLength: 1, description: 'AD attribute holding the usageLocation (e.g. "c"); wins over usageLocation when set on the user.' }),
    ),
    softMatch: Type.Boolean({
      default: false,
      description: 'Adopt an existing cloud user with the same UPN and no onPremisesImmutableId (soft match).',
    }),
    deleteAction: Type.Union([Type.Literal('disable'), Type.Literal('delete')], {
      default: 'disable',
      description: 'What happens in Entra to users deleted in AD or moved out of scope: disable (accountEnabled false) or delete (soft delete, restorable for 30 days).',
    }),
    deletionThreshold: Type.Integer({
      minimum: 0,
      default: 500,
      description: 'A cycle that would disable or delete more users than this stops before writing anything (override: --allow-deletions).',
    }),
    stagingMode: Type.Boolean({ default: false, description: 'Read AD and plan, but never write to Entra (a standby server).' }),
    batchSize: Type.Integer({ minimum: 1, maximum: 20, default: 20, description: 'Requests per Graph $batch (Graph allows at most 20).' }),
    pageSize: Type.Integer({ minimum: 10, maximum: 1000, default: 500, description: 'LDAP paged-search page size.' }),
    writeLimit: Type.Object(
      {
        writes: Type.Integer({
          minimum: 1,
          default: 3000,
          description: "Graph's write limit per app per tenant: writes per window. The sync paces its writes under it instead of bouncing off 429s.",
        }),
        windowSeconds: Type.Number({ exclusiveMinimum: 0, default: 150, description: "Graph's write limit: length of its sliding window in seconds." }),
      },
      {
        additionalProperties: false,
        default: {},
        description:
          "Graph's write limit per app per tenant (3,000 per 150 s): the sync paces its writes under it instead of bouncing off 429 Too Many Requests.",
      },
    ),
    maxRetries: Type.Integer({ minimum: 0, maximum: 20, default: 8, description: 'Retries of a Graph request answered 429 or 5xx.' }),
    progressSeconds: Type.Integer({ minimum: 1, default: 10, description: 'Interval of progress lines in the log when not on a terminal.' }),
  },
  { additionalProperties: false },
);

export type SyncConfig = Static<typeof SyncConfigSchema>;
