import { Type, type Static } from '@sinclair/typebox';

/**
 * Claim rules: what one relying party receives, declared under the relying party as `claims`.
 * Resolution (what is true about the user) reads the attributes and group memberships these rules
 * name; release applies them. Nothing a rule does not name is released.
 */

/** A claim type is a full URI (`scheme:` then anything): SAML 1.1 splits it at the last '/'. */
const CLAIM_TYPE_PATTERN = '^[A-Za-z][A-Za-z0-9+.-]*:\\S+$';

/** A string from a fixed list, as JSON Schema `enum` (the validator then names the allowed values). */
function stringEnum<const T extends string>(values: readonly T[], options: { default?: T; description?: string } = {}) {
  return Type.Unsafe<T>({ type: 'string', enum: [...values], ...options });
}

/** A regex replacement, applied to every value (all matches, JavaScript syntax). */
const ReplaceTransform = Type.Object(
  {
    replace: Type.String({ minLength: 1, format: 'regex', description: 'Regular expression (JavaScript syntax); every match is replaced.' }),
    // Defaults inside a union are not filled in by the validator, so these are optional and defaulted in code.
    with: Type.Optional(Type.String({ description: 'Replacement (default empty); $1, $2 … and $<name> refer to capture groups.' })),
    ignoreCase: Type.Optional(Type.Boolean({ description: 'Match without regard to case (default false).' })),
  },
  { additionalProperties: false },
);

export const ClaimTransformSchema = Type.Union(
  [
    stringEnum(['lowercase', 'uppercase', 'base64'] as const),
    ReplaceTransform,
  ],
  {
    description:
      'lowercase, uppercase, base64 (the raw bytes of a binary attribute such as objectGUID; a text value is taken as UTF-8), or { replace, with }. Applied in order; a value that ends up empty is left out.',
  },
);

/** The sources a rule can take its values from; exactly one per rule. */
const SOURCE_KEYS = ['attribute', 'value'] as const;

export const ClaimRuleSchema = Type.Object(
  {
    type: Type.String({
      pattern: CLAIM_TYPE_PATTERN,
      description: 'Claim type, a full URI (e.g. http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress). SAML 1.1 sends it as AttributeNamespace + AttributeName, split at the last "/".',
    }),
    attribute: Type.Optional(
      Type.String({
        minLength: 1,
        pattern: '^[A-Za-z][A-Za-z0-9-]*$',
        description: 'Directory attribute whose values the claim carries (LDAP name, any case), or immutableId (the Microsoft 365 source anchor: base64 ms-DS-ConsistencyGuid, else objectGUID).',
      }),
    ),
    value: Type.Optional(Type.String({ minLength: 1, description: 'A constant value instead of an attribute.' })),
    transform: Type.Array(ClaimTransformSchema, { default: [], description: 'Transforms applied to each value, in order.' }),
    ifMemberOf: Type.Optional(
      Type.String({
        minLength: 3,
        description: "Issue the claim only when the user is a member of this group (DN), directly or through nested groups (AD's LDAP_MATCHING_RULE_IN_CHAIN). The primary group (Domain Users) does not count.",
      }),
    ),
    name: Type.Optional(
      Type.String({ minLength: 1, description: 'SAML 2.0 Attribute Name when it is not the claim type (e.g. IDPEmail, or urn:oid:0.9.2342.19200300.100.1.3).' }),
    ),
    nameFormat: Type.Optional(
      Type.String({
        pattern: CLAIM_TYPE_PATTERN,
        description: 'SAML 2.0 Attribute NameFormat (e.g. urn:oasis:names:tc:SAML:2.0:attrname-format:uri).',
      }),
    ),
  },
  {
    additionalProperties: false,
    // Exactly one source. Written as JSON Schema so a bad rule is refused when the configuration loads.
    oneOf: SOURCE_KEYS.map((k) => ({ required: [k] })),
    description: 'One claim: its type, where its values come from (attribute or value, exactly one), transforms and condition.',
  },
);

export const ClaimRulesSchema = Type.Object(
  {
    preset: stringEnum(['microsoft365', 'none'] as const, {
      default: 'microsoft365',
      description:
        "Built-in claims released before `rules`: microsoft365 = UPN (SAML 2.0 name IDPEmail), ImmutableID, the password-expiry claims and the claims about the sign-in (insidecorporatenetwork, psso, authenticationinstant); none = only `rules`. The NameID is the relying party's `nameId` (default: ImmutableID, persistent).",
    }),
    rules: Type.Array(ClaimRuleSchema, { default: [], description: 'Claims released to this relying party besides the preset.' }),
  },
  {
    additionalProperties: false,
    description: 'What this relying party receives. Without it, the microsoft365 preset.',
  },
);

export type ClaimTransform = Static<typeof ClaimTransformSchema>;
export type ClaimRule = Static<typeof ClaimRuleSchema>;
export type ClaimRules = Static<typeof ClaimRulesSchema>;
