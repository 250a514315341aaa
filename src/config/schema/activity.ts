import { Type, type Static } from '@sinclair/typebox';

/**
 * The `activity` section: the help desk's view of sign-ins (docs/operations.md#activity-view). Audit
 * events are kept in the state store (SQLite, or Redis in a farm) for `retentionDays`.
 */
export const ActivityConfigSchema = Type.Object(
  {
    retentionDays: Type.Integer({
      minimum: 0,
      maximum: 365,
      default: 14,
      description: 'Days sign-in events are kept for `gatehouse activity` and the activity page; 0 keeps none (both then show only the lockout state).',
    }),
    adminGroup: Type.Optional(
      Type.String({
        minLength: 1,
        description:
          'DN of the AD group (nested membership counts) whose members may open the activity page at /adfs/portal/activity and reset lockouts there. Unset: the page answers that it is not set up.',
      }),
    ),
  },
  { additionalProperties: false, default: {} },
);

export type ActivityConfig = Static<typeof ActivityConfigSchema>;
