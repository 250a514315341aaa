import { Type, type Static } from '@sinclair/typebox';

/**
 * The `mfa` section: multi-factor authentication, all of its policy in one place (docs/mfa.md). Absent or
 * `enabled: false`, sign-in is the password alone, exactly as before.
 */
export const MfaConfigSchema = Type.Object(
  {
    enabled: Type.Boolean({ default: false, description: 'Turn on the second factor (TOTP authenticator apps, recovery codes). Off: the password alone, and no MFA page is reachable.' }),
    keyFile: Type.Optional(
      Type.String({
        minLength: 1,
        description:
          'Secret that encrypts the enrolled factors at rest (one or more lines of 32 random bytes in base64, like session.keyFile; the first encrypts, all decrypt). Made by `gatehouse mfa init-key`. Default: beside session.keyFile, mfa.key.',
      }),
    ),
    require: Type.Object(
      {
        always: Type.Boolean({ default: false, description: 'Every browser sign-in needs the second factor.' }),
        groups: Type.Array(Type.String({ minLength: 1 }), {
          default: [],
          description: 'Distinguished names of AD groups (nested membership counts) whose members always need the second factor.',
        }),
        relyingParties: Type.Array(Type.String({ minLength: 1 }), { default: [], description: 'Relying-party ids (wtrealm, SAML entity id) that always need the second factor.' }),
        outsideCorporateNetwork: Type.Boolean({
          default: false,
          description: 'A sign-in from outside network.corporate needs the second factor (combined with the rules above: any rule that applies asks for it).',
        }),
        whenRequested: Type.Boolean({
          default: true,
          description:
            'The relying party may ask for it: WS-Fed wauth or a SAML RequestedAuthnContext naming http://schemas.microsoft.com/claims/multipleauthn (Microsoft Entra with federatedIdpMfaBehavior enforceMfaByFederatedIdp).',
        }),
      },
      { additionalProperties: false, default: {} },
    ),
    rememberMinutes: Type.Integer({
      minimum: 1,
      default: 480,
      description: 'The second factor is remembered in the single sign-on session this long; after it (or with ForceAuthn, wfresh, prompt=login) it is asked again.',
    }),
    enrolment: Type.Object(
      {
        graceUntil: Type.Optional(
          Type.String({
            format: 'date',
            description:
              'Until this date (YYYY-MM-DD, UTC) a user in scope without a factor may skip enrolment and sign in with the password (the token then claims no MFA; a relying party that asks for MFA still gets none without it). Unset: enrolment is required.',
          }),
        ),
        onlyFromCorporateNetwork: Type.Boolean({
          default: false,
          description: 'A first factor can only be enrolled from inside network.corporate; outside, a user without one is told to enrol from the office.',
        }),
      },
      { additionalProperties: false, default: {} },
    ),
    selfService: Type.Object(
      {
        enabled: Type.Boolean({
          default: true,
          description: 'The page where users manage their own factors (/adfs/portal/mfa): add an authenticator app or a passkey, rename or remove one, new recovery codes.',
        }),
        freshMinutes: Type.Integer({
          minimum: 1,
          maximum: 60,
          default: 10,
          description:
            'The self-service page needs a sign-in this recent: the password and, for a user with a factor, the second factor given at most this many minutes ago (a stolen or old session cookie alone cannot change factors). Older: the page asks again.',
        }),
      },
      { additionalProperties: false, default: {} },
    ),
    totp: Type.Object(
      {
        issuer: Type.String({ default: 'Gatehouse', minLength: 1, maxLength: 64, description: 'Name the authenticator app shows next to the account.' }),
        skewSteps: Type.Integer({ minimum: 0, maximum: 2, default: 1, description: 'Codes this many 30-second steps before or after the current one are accepted (clock drift of the phone).' }),
      },
      { additionalProperties: false, default: {} },
    ),
    lockout: Type.Object(
      {
        threshold: Type.Integer({ minimum: 1, maximum: 100, default: 5, description: 'Wrong codes in a row (per user, across the farm) before the second factor is locked. Not counted in AD.' }),
        minutes: Type.Integer({ minimum: 1, maximum: 1440, default: 15, description: 'How long a locked second factor stays locked.' }),
      },
      { additionalProperties: false, default: {} },
    ),
    federatedIdpMfaBehavior: Type.Optional(
      Type.Union([Type.Literal('enforceMfaByFederatedIdp'), Type.Literal('acceptIfMfaDoneByFederatedIdp'), Type.Literal('rejectMfaByFederatedIdp')], {
        description:
          "What `gatehouse tenant-setup` sets in Microsoft Entra (and --check expects): enforceMfaByFederatedIdp sends users back here for MFA when Entra needs it (Microsoft's recommendation with an IdP that does MFA); acceptIfMfaDoneByFederatedIdp lets Entra do its own MFA when the token has none; rejectMfaByFederatedIdp ignores this server's MFA (Entra always does its own). Default: enforceMfaByFederatedIdp when mfa.enabled, else rejectMfaByFederatedIdp.",
      }),
    ),
    wsTrustPasswordOnly: Type.Array(Type.String({ minLength: 1 }), {
      default: [],
      description:
        'WS-Trust (rich clients) cannot ask for a second factor. When the policy asks for MFA, these relying parties still get a token on the password alone (one that claims no MFA); the others are refused.',
    }),
  },
  { additionalProperties: false, default: {} },
);

export type MfaConfig = Static<typeof MfaConfigSchema>;
