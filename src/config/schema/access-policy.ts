import { Type, type Static } from '@sinclair/typebox';

/**
 * Client access policy of one relying party (ADFS's issuance authorization rules over x-ms-client-application,
 * x-ms-forwarded-client-ip, x-ms-endpoint-absolute-path, x-ms-proxy, group membership): rules tried in order, the first whose
 * conditions all hold allows or denies; when none does, `default`. Evaluated once the user is known, the
 * same way for every protocol.
 */
const Protocol = Type.Unsafe<'wsfed' | 'saml2' | 'ws-trust'>({ type: 'string', enum: ['wsfed', 'saml2', 'ws-trust'] });

const nonEmptyList = <T extends Parameters<typeof Type.Array>[0]>(item: T, description: string) => Type.Optional(Type.Array(item, { minItems: 1, description }));

export const AccessRuleSchema = Type.Object(
  {
    name: Type.Optional(Type.String({ minLength: 1, description: 'Names the rule in the audit line of a refusal (default: its position, rule 1, rule 2 …).' })),
    effect: Type.Unsafe<'allow' | 'deny'>({ type: 'string', enum: ['allow', 'deny'], description: 'What the rule decides when all its conditions hold.' }),
    protocol: nonEmptyList(Protocol, 'The request came in over one of these protocols: wsfed, saml2, ws-trust.'),
    endpoint: nonEmptyList(
      Type.String({ minLength: 1 }),
      'The request came in at one of these endpoints: wsfed, saml2, ws-trust-2005, ws-trust-1.3 (ADFS: x-ms-endpoint-absolute-path).',
    ),
    network: Type.Optional(
      Type.Unsafe<'inside' | 'outside'>({
        type: 'string',
        enum: ['inside', 'outside'],
        description: 'The client is inside (network.corporate, no extranet proxy marker) or outside the corporate network.',
      }),
    ),
    clientNetwork: Type.Optional(
      Type.Unsafe<'inside' | 'outside'>({
        type: 'string',
        enum: ['inside', 'outside'],
        description:
          "Where the client itself is. For a rich client Exchange Online relays over WS-Trust, its own address (X-MS-Forwarded-Client-IP, believed through trustedProxies) is inside when in network.corporate (list the office's public addresses there); any other request is judged as for network. What the caller says, like clientApplication: it narrows a deny.",
      }),
    ),
    clientApplication: nonEmptyList(
      Type.String({ minLength: 1 }),
      'The X-MS-Client-Application header (what Exchange Online says the rich client is, e.g. Microsoft.Exchange.ActiveSync) is one of these (case-insensitive). A request without the header never matches.',
    ),
    memberOf: nonEmptyList(Type.String({ minLength: 1 }), 'The user is a member (nested groups included) of at least one of these groups (DNs).'),
    notMemberOf: nonEmptyList(Type.String({ minLength: 1 }), 'The user is a member of none of these groups (DNs).'),
    message: Type.Optional(
      Type.String({ minLength: 1, maxLength: 300, description: 'For a deny rule: what the user is told (default: that access to the application is not allowed from here, and to contact the help desk).' }),
    ),
  },
  { additionalProperties: false },
);

export const AccessPolicySchema = Type.Object(
  {
    default: Type.Optional(
      Type.Unsafe<'allow' | 'deny'>({ type: 'string', enum: ['allow', 'deny'], description: 'When no rule matches (default allow).' }),
    ),
    rules: Type.Array(AccessRuleSchema, { description: 'Tried in order; the first rule whose conditions all hold decides.' }),
  },
  {
    additionalProperties: false,
    description:
      'Who may get a token for this relying party: rules on group, corporate network, protocol, endpoint and client application, the first that matches decides (docs/microsoft365.md).',
  },
);

export type AccessRule = Static<typeof AccessRuleSchema>;
export type AccessPolicy = Static<typeof AccessPolicySchema>;
