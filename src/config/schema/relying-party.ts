import { Type, type Static } from '@sinclair/typebox';
import { ClaimRulesSchema } from './claim-rules.js';
import { AccessPolicySchema } from './access-policy.js';

/**
 * One entry of `relyingParties`. The JSON schema is one object for every protocol, so that a mistake gets
 * one message naming the key; what depends on the protocol is checked in config/relying-parties.ts, which
 * turns each entry into a `RelyingPartyConfig`, the union of the two protocols' shapes.
 */
export const RelyingPartySchema = Type.Object(
  {
    id: Type.String({ minLength: 1, description: 'Realm / entity ID (wtrealm, Audience). For SAML 2.0, the entityID of the SP metadata.' }),
    name: Type.Optional(Type.String({ description: 'Display name shown on pages ("to continue to <name>"); default the id.' })),
    signInText: Type.Optional(
      Type.String({ minLength: 1, maxLength: 300, description: 'A line shown under the heading of the sign-in page for this relying party only (as ADFS\'s per relying party description), e.g. "Use your staff account."' }),
    ),
    protocol: Type.Optional(
      Type.Union([Type.Literal('wsfed'), Type.Literal('saml2'), Type.Literal('wsfed+saml2')], {
        description:
          'wsfed (default): WS-Federation with SAML 1.1 tokens. saml2: SAML 2.0 Web Browser SSO and single logout. wsfed+saml2: both, with the same claims (the built-in Microsoft 365 entry\'s default, so that a tenant may federate one domain with each).',
      }),
    ),
    replyUrls: Type.Optional(
      Type.Array(Type.String({ format: 'uri' }), {
        minItems: 1,
        description:
          'Registered reply URLs. WS-Federation: required; the first is the default and a wreply is honoured only if listed. SAML 2.0 without metadata: the AssertionConsumerService URLs (HTTP-POST, index 0, 1, ...).',
      }),
    ),
    metadataFile: Type.Optional(Type.String({ minLength: 1, description: 'SAML 2.0: the SP metadata file (ACS, SLO, certificates, AuthnRequestsSigned, WantAssertionsSigned).' })),
    metadataUrl: Type.Optional(
      Type.String({ format: 'uri', pattern: '^https?://', description: 'SAML 2.0: where to fetch the SP metadata; cached in stateDir and refreshed every metadataRefreshMinutes.' }),
    ),
    metadataRefreshMinutes: Type.Optional(Type.Integer({ minimum: 1, maximum: 10080, description: 'SAML 2.0: how often metadataUrl is fetched again (default 60).' })),
    metadataSigningCertFile: Type.Optional(
      Type.String({ minLength: 1, description: 'SAML 2.0: PEM certificate that must have signed the metadata; metadata whose signature fails is refused.' }),
    ),
    singleLogoutUrl: Type.Optional(
      Type.String({ format: 'uri', description: 'SAML 2.0 without metadata: the SP\'s SingleLogoutService (HTTP-Redirect).' }),
    ),
    nameId: Type.Optional(
      Type.Object(
        {
          source: Type.Union([Type.Literal('immutableId'), Type.Literal('upn'), Type.Literal('mail'), Type.Literal('sAMAccountName')], {
            description: 'SAML 2.0 NameID value: immutableId (base64 objectGUID / ms-DS-ConsistencyGuid), upn, mail or sAMAccountName.',
          }),
          format: Type.Optional(
            Type.String({ minLength: 1, description: 'NameID Format URI; default persistent for immutableId, emailAddress for upn and mail, unspecified otherwise.' }),
          ),
        },
        { additionalProperties: false },
      ),
    ),
    tokenLifetimeSeconds: Type.Optional(
      Type.Integer({ minimum: 60, maximum: 86400, description: 'Token validity for this relying party; default tokens.lifetimeSeconds.' }),
    ),
    claims: Type.Optional(ClaimRulesSchema),
    accessPolicy: Type.Optional(AccessPolicySchema),
    idpInitiated: Type.Optional(Type.Boolean({ description: 'SAML 2.0: list it on /adfs/ls/idpinitiatedsignon and allow unsolicited responses.' })),
    signResponse: Type.Optional(
      Type.Boolean({ description: 'SAML 2.0: also sign the samlp:Response. The assertion is always signed (which satisfies WantAssertionsSigned).' }),
    ),
    acceptSha1Signatures: Type.Optional(
      Type.Boolean({
        description:
          "SAML 2.0: also accept this SP's requests, logout messages and signed metadata signed with RSA-SHA1 (as ADFS's relying-party signature algorithm SHA-1). Default false: SHA-256 and SHA-512 only; a SHA-1 signature is refused and the log names this key.",
      }),
    ),
    encryptAssertion: Type.Optional(
      Type.Boolean({
        description: 'SAML 2.0: encrypt the assertion (AES-256-GCM, RSA-OAEP) to the metadata\'s encryption key. Default: when the metadata has one. true without a key is a configuration error.',
      }),
    ),
  },
  { additionalProperties: false },
);

/** An entry as written in the configuration (and as the built-in ones are declared). */
export type RelyingPartyInput = Static<typeof RelyingPartySchema>;

/** The keys that only a SAML 2.0 relying party may set. */
export const SAML2_ONLY_KEYS = [
  'metadataFile', 'metadataUrl', 'metadataRefreshMinutes', 'metadataSigningCertFile', 'singleLogoutUrl', 'idpInitiated', 'signResponse', 'encryptAssertion', 'acceptSha1Signatures',
] as const;
type Saml2OnlyKey = (typeof SAML2_ONLY_KEYS)[number];

/** WS-Federation (SAML 1.1 tokens): the default protocol. Reply URLs are required; no SAML 2.0 key is set. */
export type WsFedRelyingParty = Omit<RelyingPartyInput, 'protocol' | 'replyUrls' | Saml2OnlyKey> & {
  protocol: 'wsfed';
  replyUrls: string[];
} & { [K in Saml2OnlyKey]?: undefined };

/** SAML 2.0: its endpoints come from metadataFile, metadataUrl or (without metadata) replyUrls. */
export type Saml2RelyingParty = Omit<RelyingPartyInput, 'protocol'> & { protocol: 'saml2' };

/** Both at once (Microsoft 365): WS-Federation's required reply URLs, and every SAML 2.0 key. */
export type DualProtocolRelyingParty = Omit<RelyingPartyInput, 'protocol' | 'replyUrls'> & { protocol: 'wsfed+saml2'; replyUrls: string[] };

/** A relying party after the checks of config/relying-parties.ts, by protocol. */
export type RelyingPartyConfig = WsFedRelyingParty | Saml2RelyingParty | DualProtocolRelyingParty;
