import { Type } from '@sinclair/typebox';

/**
 * User agents that sign in with the Windows ticket silently when a server answers `401 Negotiate`:
 * Edge, Chrome and Firefox on Windows and macOS (Edge's user agent names Chrome too), Internet Explorer
 * 11, and Microsoft's own clients (the Office sign-in host, Rights Management). Regular expressions,
 * matched without case against User-Agent.
 */
export const DEFAULT_NEGOTIATE_USER_AGENTS = [
  'Windows NT [0-9.]+;.*Chrome/',
  'Windows NT [0-9.]+;.*Firefox/',
  'Macintosh;.*Chrome/',
  'Macintosh;.*Firefox/',
  'Trident/7\\.0',
  'MSAuthHost/',
  'MSIPC',
  'Windows Rights Management Client',
];

/**
 * The `kerberos` section: Windows Integrated Authentication (HTTP Negotiate with a Kerberos ticket) on
 * the browser sign-in endpoints, for clients inside the corporate network (see docs/kerberos.md).
 */
export const KerberosConfigSchema = Type.Object(
  {
    enabled: Type.Boolean({
      default: false,
      description:
        'Offer Windows sign-in (HTTP Negotiate, Kerberos) to browsers inside the corporate network (network.corporate) whose user agent is in kerberos.userAgents. Needs kerberos.keytab.',
    }),
    keytab: Type.Optional(
      Type.String({
        minLength: 1,
        description:
          "Keytab holding the key of the service principal (kerberos.servicePrincipal), readable by Gatehouse only. Made with ktpass on Windows or samba-tool domain exportkeytab on Samba (docs/kerberos.md); `gatehouse check-config` checks it.",
      }),
    ),
    servicePrincipal: Type.Optional(
      Type.String({
        pattern: '^HTTP/[^/@\\s]+(@[^/@\\s]+)?$',
        description:
          'The service principal browsers ask tickets for: HTTP/<host>[@REALM]. Default HTTP/<host of publicUrl>, which is what browsers ask for; the realm defaults to kerberos.realm.',
      }),
    ),
    realm: Type.Optional(
      Type.String({
        pattern: '^[A-Za-z0-9.-]+$',
        description:
          "The AD domain's Kerberos realm (CORP.EXAMPLE.COM). Default: from directory.baseDn (DC=corp,DC=example,DC=com). Tickets of users of other realms are not accepted.",
      }),
    ),
    userAgents: Type.Array(Type.String({ minLength: 1 }), {
      default: DEFAULT_NEGOTIATE_USER_AGENTS,
      description:
        'Regular expressions (case-insensitive) for the User-Agent of browsers known to answer Negotiate silently; others get the login form only, as with ADFS\'s WIASupportedUserAgents.',
    }),
    windowsTransport: Type.Union([Type.Literal('intranet'), Type.Literal('off')], {
      default: 'intranet',
      description:
        "WS-Trust windowstransport (/adfs/services/trust/13/windowstransport and 2005/): Kerberos for rich clients and the hybrid Entra join of domain-joined computers, listed in MEX. 'intranet': served to clients inside the corporate network only (others get a SOAP fault), as ADFS advises: on the extranet it would bypass lockout. 'off': not served. Needs kerberos.enabled.",
    }),
    computerDomain: Type.Optional(
      Type.String({
        minLength: 1,
        description:
          "The Microsoft 365 domain whose IssuerUri the tokens of domain-joined computers carry as issuerid (and as Issuer with several federated domains), as ADFS's device rule does with one verified domain. Default: the first of federatedDomains (must be one of them when they are listed); neither set: no issuerid.",
      }),
    ),
    maxTokenBytes: Type.Integer({
      minimum: 1024,
      maximum: 65536,
      default: 16384,
      description:
        'Largest Negotiate token accepted (bytes after base64 decoding). A ticket with many group SIDs is bigger; AD\'s own limit (MaxTokenSize) is 48000.',
    }),
  },
  { additionalProperties: false, default: {} },
);
