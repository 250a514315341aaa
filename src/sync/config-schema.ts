import { Type, type Static } from '@sinclair/typebox';

/** The `sync` section: provisioning of AD users into Microsoft Entra ID (the sync worker). */
export const SyncConfigSchema = Type.Object(
  {
    intervalMinutes: Type.Integer({ minimum: 1, default: 30, description: 'Time between sync cycles.' }),
  },
  { additionalProperties: false },
);

export type SyncConfig = Static<typeof SyncConfigSchema>;
