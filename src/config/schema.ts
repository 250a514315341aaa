import { Type, type Static } from '@sinclair/typebox';
import { SyncConfigSchema } from './schema/sync.js';
import { RelyingPartySchema } from './schema/relying-party.js';
import { TenantConfigSchema } from './schema/tenant.js';
import { StateConfigSchema } from './schema/state.js';
import { MfaConfigSchema } from './schema/mfa.js';
import { BrandingSchema, LanguagesSchema } from './schema/branding.js';
import { KerberosConfigSchema } from './schema/kerberos.js';
import { MetricsConfigSchema } from './schema/metrics.js';
import { ActivityConfigSchema } from './schema/activity.js';

/**
 * The one configuration schema. Every option has its description and default here; the README's
 * configuration table is written from this file. Keys are camelCase; each one can be overridden by an
 * environment variable `GATEHOUSE_` + the key path in upper snake case (see load.ts).
 */

export const ConfigSchema = Type.Object(
  {
    publicUrl: Type.String({
      format: 'uri',
      pattern: '^https?://',
      description: 'External base URL that users and Microsoft see (Gatehouse normally runs behind a TLS proxy), e.g. https://sts.corp.example.com.',
    }),
    listen: Type.Object(
      {
        host: Type.String({ default: '127.0.0.1', description: 'Address to listen on.' }),
        port: Type.Integer({ minimum: 0, maximum: 65535, default: 8080, description: 'Port to listen on.' }),
      },
      { additionalProperties: false, default: {} },
    ),
    issuer: Type.Optional(
      Type.String({
        minLength: 1,
        description: 'Entity ID and token Issuer. Default http://<host of publicUrl>/adfs/services/trust, as ADFS, so tenants moving from ADFS keep their IssuerUri.',
      }),
    ),
    federatedDomains: Type.Array(Type.String({ minLength: 1 }), {
      default: [],
      description:
        'The Microsoft 365 domains federated with Gatehouse (corp.example.com; their subdomains follow them). More than one: each domain has its own IssuerUri http://<domain>/adfs/services/trust/ (ADFS\'s -SupportMultipleDomain), chosen per user from the UPN suffix. One or none: every token has `issuer`. A user whose UPN is in no listed domain is refused for Microsoft 365. Empty: no check.',
    }),
    trustedProxies: Type.Array(Type.String({ format: 'address-range' }), {
      default: [],
      description: 'Addresses or CIDR ranges of reverse proxies whose X-Forwarded-For (and, on WS-Trust, X-MS-Forwarded-Client-IP) is believed. Empty: the client address is the TCP peer.',
    }),
    network: Type.Object(
      {
        corporate: Type.Array(Type.String({ format: 'address-range' }), {
          default: [],
          description:
            'Addresses or CIDR ranges of the corporate network (10.0.0.0/8, 2001:db8::/32). A sign-in from them is inside the corporate network: the insidecorporatenetwork claim, MFA and access policies, Windows sign-in. Empty: every client is outside.',
        }),
        extranetHeader: Type.String({
          default: 'x-ms-proxy',
          pattern: '^[A-Za-z0-9-]*$',
          description:
            'Header an extranet reverse proxy adds to what it forwards (ADFS\'s Web Application Proxy sets X-MS-Proxy): a request carrying it from a trusted proxy is outside the corporate network whatever its address. Empty: no such marker.',
        }),
      },
      { additionalProperties: false, default: {} },
    ),
    kerberos: KerberosConfigSchema,
    workers: Type.Integer({
      minimum: 0,
      maximum: 64,
      default: 0,
      description:
        'Server processes sharing the port (node:cluster). 0 = one per CPU core this process may use; 1 = a single process (no cluster). `gatehouse serve --workers N` overrides it. Rate limits are split between them; smart-lockout counters are shared.',
    }),
    logLevel: Type.Union(
      [Type.Literal('fatal'), Type.Literal('error'), Type.Literal('warn'), Type.Literal('info'), Type.Literal('debug'), Type.Literal('trace')],
      { default: 'info', description: 'Log level (pino).' },
    ),
    directory: Type.Object(
      {
        urls: Type.Array(Type.String({ pattern: '^ldaps?://' }), {
          minItems: 1,
          description: 'Domain controllers, ldap:// or ldaps://, tried in order.',
        }),
        baseDn: Type.String({ minLength: 1, description: 'Search base for users, e.g. DC=corp,DC=example,DC=com.' }),
        bindDn: Type.String({ minLength: 1, description: 'Service account for look-ups (DN, UPN or DOMAIN\\name).' }),
        bindPassword: Type.Optional(Type.String({ minLength: 1, description: 'Service account password (or use bindPasswordFile).' })),
        bindPasswordFile: Type.Optional(Type.String({ minLength: 1, description: 'File holding the service account password.' })),
        netbiosName: Type.Optional(
          Type.String({ description: 'NetBIOS domain name (CORP). When set, DOMAIN\\user logins must use it.' }),
        ),
        caFile: Type.Optional(Type.String({ description: 'PEM CA bundle to verify the DCs\' LDAPS/StartTLS certificates.' })),
        tlsServerName: Type.Optional(
          Type.String({ description: 'Name expected in the DC certificate when it differs from the URL host.' }),
        ),
        startTls: Type.Boolean({ default: false, description: 'Upgrade ldap:// connections with StartTLS.' }),
        timeoutMs: Type.Integer({ minimum: 100, default: 5000, description: 'Connect and operation timeout per DC.' }),
        bindConnections: Type.Integer({
          minimum: 0,
          maximum: 1000,
          default: 64,
          description:
            'Idle connections kept per DC (and server process) for password checks, which bind on them again and again instead of connecting each time. 0 = a new connection for every check.',
        }),
        retryDownAfterSeconds: Type.Integer({
          minimum: 1,
          default: 30,
          description: 'A DC that did not answer is tried last for this long, then tried again.',
        }),
        tlsVerify: Type.Boolean({
          default: true,
          description: 'Verify DC certificates (LDAPS, StartTLS). Turning this off is logged as a warning at every start.',
        }),
        userFilter: Type.String({
          default: '(&(objectCategory=person)(objectClass=user))',
          description: 'LDAP filter that every signed-in user must match (ANDed with the name look-up).',
        }),
        loginAttribute: Type.String({
          default: 'userPrincipalName',
          pattern: '^[A-Za-z][A-Za-z0-9-]*$',
          description:
            "The attribute holding the user's Microsoft 365 sign-in name (ADFS's alternate login ID), e.g. mail when the UPNs are not routable (.local). Users sign in with it (DOMAIN\\name and sAMAccountName still work); it goes out as the UPN / IDPEmail claims and, when not userPrincipalName, as alternateloginid; the sync uses it for the cloud UPN.",
        }),
      },
      { additionalProperties: false },
    ),
    signing: Type.Object(
      {
        certFile: Type.String({ default: 'certs/signing.crt', description: 'Token-signing certificate (PEM).' }),
        keyFile: Type.String({ default: 'certs/signing.key', description: 'Token-signing private key (PEM, mode 0600).' }),
        nextCertFile: Type.Optional(
          Type.String({
            minLength: 1,
            description:
              'Next token-signing certificate, made by `certs rollover`: published in the metadata beside the current one, signs nothing until `certs promote`. Default: beside certFile with -next (certs/signing-next.crt). The replaced one is kept with -previous.',
          }),
        ),
        nextKeyFile: Type.Optional(
          Type.String({ minLength: 1, description: 'Private key of the next certificate. Default: beside keyFile with -next (certs/signing-next.key).' }),
        ),
        warnDaysBefore: Type.Integer({
          minimum: 1,
          maximum: 365,
          default: 30,
          description: 'Log a warning at start and every day once the token-signing certificate expires within this many days.',
        }),
        autoRollover: Type.Object(
          {
            enabled: Type.Boolean({
              default: false,
              description: "Automatic certificate rollover (ADFS's AutoCertificateRollover): the server makes and promotes the next certificate itself.",
            }),
            generateDaysBefore: Type.Integer({
              minimum: 2,
              maximum: 365,
              default: 20,
              description: 'Make the next certificate this many days before the current one expires (ADFS: CertificateGenerationThreshold).',
            }),
            promoteDaysAfter: Type.Integer({
              minimum: 0,
              maximum: 364,
              default: 5,
              description: 'Sign with the next certificate this many days after it was made (ADFS: CertificatePromotionThreshold). Must be below generateDaysBefore.',
            }),
          },
          { additionalProperties: false, default: {} },
        ),
      },
      { additionalProperties: false, default: {} },
    ),
    session: Type.Object(
      {
        keyFile: Type.String({ default: 'certs/session.key', description: 'Secret that encrypts session cookies; made by `certs init`.' }),
        lifetimeMinutes: Type.Integer({ minimum: 1, default: 480, description: 'Single sign-on lifetime (ADFS default 8 h).' }),
        cookieName: Type.String({ default: 'gatehouse_session', pattern: '^[A-Za-z0-9_-]+$', description: 'Session cookie name.' }),
        accountRecheckSeconds: Type.Integer({
          minimum: 0,
          maximum: 3600,
          default: 60,
          description: 'Single sign-on re-reads the account from AD (disabled, deleted?) at most this often per user; 0 reads it for every token.',
        }),
        keepMeSignedIn: Type.Boolean({ default: false, description: 'Offer "Keep me signed in" on the login page (a persistent cookie).' }),
        keepMeSignedInMinutes: Type.Integer({ minimum: 1, default: 1440, description: 'Session lifetime when "Keep me signed in" is ticked (ADFS default 24 h).' }),
      },
      { additionalProperties: false, default: {} },
    ),
    tokens: Type.Object(
      {
        lifetimeSeconds: Type.Integer({ minimum: 60, maximum: 86400, default: 3600, description: 'Token validity (NotOnOrAfter - NotBefore).' }),
        clockSkewSeconds: Type.Integer({ minimum: 0, maximum: 600, default: 0, description: 'NotBefore is set this many seconds in the past to absorb RP clock drift.' }),
      },
      { additionalProperties: false, default: {} },
    ),
    lockout: Type.Object(
      {
        mode: Type.Union([Type.Literal('enforce'), Type.Literal('log-only'), Type.Literal('off')], {
          default: 'enforce',
          description: 'Smart lockout: enforce refuses attempts for a locked location without asking AD; log-only only logs what it would refuse.',
        }),
        threshold: Type.Optional(
          Type.Integer({ minimum: 1, description: "Bad passwords from unknown locations before they are refused. Default: half of AD's lockoutThreshold (at least 1), or 5 when AD has none. Must stay below AD's." }),
        ),
        familiarThreshold: Type.Optional(
          Type.Integer({
            minimum: 1,
            description: "Bad passwords from the user's familiar locations before they are refused. Default: AD's lockoutThreshold minus threshold, at least 2 (a typo and then the right password always go through). Must stay below AD's.",
          }),
        ),
        observationWindowMinutes: Type.Integer({
          minimum: 1, default: 30,
          description: 'A locked location may try once more after this long since its last attempt. AD\'s own "reset account lockout counter after" is used instead when it is shorter.',
        }),
        familiarAddresses: Type.Integer({ minimum: 1, maximum: 100, default: 20, description: 'How many addresses of successful sign-ins are remembered per user.' }),
      },
      { additionalProperties: false, default: {} },
    ),
    http: Type.Object(
      {
        requestTimeoutSeconds: Type.Integer({
          minimum: 1, maximum: 600, default: 30,
          description: 'A request (headers and body) must arrive within this time, or its connection is closed: slow-body attacks hold no connection open, even without a buffering proxy in front.',
        }),
        headersTimeoutSeconds: Type.Integer({ minimum: 1, maximum: 600, default: 15, description: 'The request headers must arrive within this time.' }),
        keepAliveTimeoutSeconds: Type.Integer({ minimum: 1, maximum: 600, default: 5, description: 'An idle keep-alive connection is closed after this time.' }),
        drainSeconds: Type.Number({
          minimum: 0, maximum: 300, default: 0,
          description: 'On SIGTERM, /adfs/probe answers 503 for this long before the server stops taking requests (a load balancer takes it out first); requests in flight are always finished. Set it above the balancer\'s health-check interval times its fall count.',
        }),
        maxConnectionsPerAddress: Type.Integer({
          minimum: 0, default: 64,
          description: 'Open connections allowed per client address (TCP peer; trustedProxies are exempt, since every user arrives through them). 0 = no limit.',
        }),
      },
      { additionalProperties: false, default: {} },
    ),
    rateLimit: Type.Object(
      {
        perAddressPerMinute: Type.Integer({ minimum: 1, default: 30, description: 'Credential posts allowed per client address per minute.' }),
        globalPerMinute: Type.Integer({ minimum: 1, default: 1800, description: 'Credential posts allowed per minute in all (per server).' }),
      },
      { additionalProperties: false, default: {} },
    ),
    passwordExpiry: Type.Object(
      {
        notifyDays: Type.Integer({ minimum: 0, maximum: 90, default: 14, description: "Send Microsoft's password-expiry claims when the password expires within this many days (0: never)." }),
        changeUrl: Type.Optional(Type.String({ format: 'uri', description: 'Where users change their password; default <publicUrl>/adfs/portal/updatepassword.' })),
        noticeDays: Type.Integer({
          minimum: 0,
          maximum: 90,
          default: 0,
          description:
            'After a browser sign-in with the password, show "your password expires in N days" (with a link to changeUrl and a Continue button) when it expires within this many days (0: never).',
        }),
      },
      { additionalProperties: false, default: {} },
    ),
    branding: BrandingSchema,
    languages: LanguagesSchema,
    stateDir: Type.String({ default: './var', description: 'Where embedded state lives (sessions, counters, sync state).' }),
    state: StateConfigSchema,
    mfa: MfaConfigSchema,
    metrics: MetricsConfigSchema,
    activity: ActivityConfigSchema,
    sync: Type.Optional(SyncConfigSchema),
    tenant: Type.Optional(TenantConfigSchema),
    relyingParties: Type.Array(RelyingPartySchema, {
      default: [],
      description: 'Extra relying parties. Microsoft 365 (urn:federation:MicrosoftOnline) is built in; an entry with its id overrides it (e.g. national clouds).',
    }),
  },
  { additionalProperties: false },
);

export type RawConfig = Static<typeof ConfigSchema>;
