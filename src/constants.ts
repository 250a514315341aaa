/** Protocol URIs, named once. */
export const NS = {
  saml11: 'urn:oasis:names:tc:SAML:1.0:assertion',
  ds: 'http://www.w3.org/2000/09/xmldsig#',
  trust2005: 'http://schemas.xmlsoap.org/ws/2005/02/trust',
  wsu: 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd',
  wsp: 'http://schemas.xmlsoap.org/ws/2004/09/policy',
  wsa: 'http://www.w3.org/2005/08/addressing',
  md: 'urn:oasis:names:tc:SAML:2.0:metadata',
  fed: 'http://docs.oasis-open.org/wsfed/federation/200706',
  auth: 'http://docs.oasis-open.org/wsfed/authorization/200706',
  xsi: 'http://www.w3.org/2001/XMLSchema-instance',
  soap12: 'http://www.w3.org/2003/05/soap-envelope',
  trust13: 'http://docs.oasis-open.org/ws-sx/ws-trust/200512',
  wsse: 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd',
  wsse11: 'http://docs.oasis-open.org/wss/oasis-wss-wssecurity-secext-1.1.xsd',
} as const;

export const ALG = {
  rsaSha256: 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256',
  sha256: 'http://www.w3.org/2001/04/xmlenc#sha256',
  excC14n: 'http://www.w3.org/2001/10/xml-exc-c14n#',
  enveloped: 'http://www.w3.org/2000/09/xmldsig#enveloped-signature',
} as const;

/** Microsoft's names for multi-factor authentication (what Entra asks for and reads in the token). */
export const MFA = {
  /** The authentication method / AuthnContextClassRef after MFA, and what wauth or RequestedAuthnContext asks for. */
  multipleAuthn: 'http://schemas.microsoft.com/claims/multipleauthn',
  /** The claim ADFS passes on the Office 365 trust, with multipleAuthn as its value. */
  authnMethodsReferences: 'http://schemas.microsoft.com/claims/authnmethodsreferences',
  /**
   * What Entra asks for when Windows authentication or MFA will do (device registration; ADFS's
   * AllowedAuthenticationClassReferences wiaormultiauthn).
   */
  wiaOrMultipleAuthn: 'http://schemas.microsoft.com/claims/wiaormultiauthn',
  /** The authnmethodsreferences value ADFS issues after Windows authentication. */
  windowsMethodReference: 'http://schemas.microsoft.com/ws/2008/06/identity/authenticationmethod/windows',
} as const;

/** What ADFS writes for Windows Integrated Authentication (Kerberos), as SAML 1.1 AuthenticationMethod and SAML 2.0 AuthnContextClassRef alike. */
export const WINDOWS_AUTHN = 'urn:federation:authentication:windows';

export const SAML11 = {
  tokenType: 'urn:oasis:names:tc:SAML:1.0:assertion',
  bearer: 'urn:oasis:names:tc:SAML:1.0:cm:bearer',
  passwordProtectedTransport: 'urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport',
  password: 'urn:oasis:names:tc:SAML:1.0:am:password',
  nameIdUnspecified: 'urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified',
  /** The format Azure AD Connect's claim rules give the ImmutableID nameidentifier. */
  nameIdPersistent: 'urn:oasis:names:tc:SAML:2.0:nameid-format:persistent',
} as const;

export const WSTRUST2005 = {
  issue: 'http://schemas.xmlsoap.org/ws/2005/02/trust/Issue',
  noProofKey: 'http://schemas.xmlsoap.org/ws/2005/05/identity/NoProofKey',
  /** WS-Addressing Action of the request and of the answer. */
  rstIssue: 'http://schemas.xmlsoap.org/ws/2005/02/trust/RST/Issue',
  rstrIssue: 'http://schemas.xmlsoap.org/ws/2005/02/trust/RSTR/Issue',
} as const;

export const WSTRUST13 = {
  issue: 'http://docs.oasis-open.org/ws-sx/ws-trust/200512/Issue',
  bearer: 'http://docs.oasis-open.org/ws-sx/ws-trust/200512/Bearer',
  rstIssue: 'http://docs.oasis-open.org/ws-sx/ws-trust/200512/RST/Issue',
  rstrcIssueFinal: 'http://docs.oasis-open.org/ws-sx/ws-trust/200512/RSTRC/IssueFinal',
} as const;

/** WS-Security: UsernameToken and SAML token profiles. */
export const WSSE = {
  passwordText: 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0#PasswordText',
  samlAssertionId: 'http://docs.oasis-open.org/wss/oasis-wss-saml-token-profile-1.0#SAMLAssertionID',
  saml11TokenType: 'http://docs.oasis-open.org/wss/oasis-wss-saml-token-profile-1.1#SAMLV1.1',
} as const;

export const WSA = {
  anonymous: 'http://www.w3.org/2005/08/addressing/anonymous',
  soapFault: 'http://www.w3.org/2005/08/addressing/soap/fault',
} as const;

/** Claim namespaces Microsoft 365 reads from a SAML 1.1 token. */
export const CLAIM_NS = {
  xmlsoap: 'http://schemas.xmlsoap.org/claims',
  liveId: 'http://schemas.microsoft.com/LiveID/Federation/2008/05',
  /** ADFS's password-expiry claims (passwordexpirationtime, passwordexpirationdays, passwordchangeurl). */
  ws2012: 'http://schemas.microsoft.com/ws/2012/01',
} as const;

export const WSFED = {
  signIn: 'wsignin1.0',
  signOut: 'wsignout1.0',
  signOutCleanup: 'wsignoutcleanup1.0',
} as const;

/** SAML 2.0 (OASIS saml-core, saml-bindings, saml-profiles). */
export const SAML2 = {
  assertion: 'urn:oasis:names:tc:SAML:2.0:assertion',
  protocol: 'urn:oasis:names:tc:SAML:2.0:protocol',
  xenc: 'http://www.w3.org/2001/04/xmlenc#',
  bindingRedirect: 'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect',
  bindingPost: 'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST',
  bearer: 'urn:oasis:names:tc:SAML:2.0:cm:bearer',
  passwordProtectedTransport: 'urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport',
  password: 'urn:oasis:names:tc:SAML:2.0:ac:classes:Password',
  nameIdPersistent: 'urn:oasis:names:tc:SAML:2.0:nameid-format:persistent',
  nameIdTransient: 'urn:oasis:names:tc:SAML:2.0:nameid-format:transient',
  nameIdEmail: 'urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress',
  nameIdUnspecified: 'urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified',
  attrNameUri: 'urn:oasis:names:tc:SAML:2.0:attrname-format:uri',
  attrNameBasic: 'urn:oasis:names:tc:SAML:2.0:attrname-format:basic',
  attrNameUnspecified: 'urn:oasis:names:tc:SAML:2.0:attrname-format:unspecified',
  logoutUser: 'urn:oasis:names:tc:SAML:2.0:logout:user',
} as const;

/** samlp:StatusCode values (saml-core 3.2.2.2). */
export const SAML2_STATUS = {
  success: 'urn:oasis:names:tc:SAML:2.0:status:Success',
  requester: 'urn:oasis:names:tc:SAML:2.0:status:Requester',
  responder: 'urn:oasis:names:tc:SAML:2.0:status:Responder',
  versionMismatch: 'urn:oasis:names:tc:SAML:2.0:status:VersionMismatch',
  authnFailed: 'urn:oasis:names:tc:SAML:2.0:status:AuthnFailed',
  invalidNameIdPolicy: 'urn:oasis:names:tc:SAML:2.0:status:InvalidNameIDPolicy',
  noPassive: 'urn:oasis:names:tc:SAML:2.0:status:NoPassive',
  requestDenied: 'urn:oasis:names:tc:SAML:2.0:status:RequestDenied',
  requestUnsupported: 'urn:oasis:names:tc:SAML:2.0:status:RequestUnsupported',
  partialLogout: 'urn:oasis:names:tc:SAML:2.0:status:PartialLogout',
  unknownPrincipal: 'urn:oasis:names:tc:SAML:2.0:status:UnknownPrincipal',
} as const;

export const ALG_SAML2 = {
  rsaSha1: 'http://www.w3.org/2000/09/xmldsig#rsa-sha1',
  rsaSha512: 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha512',
  sha1: 'http://www.w3.org/2000/09/xmldsig#sha1',
  sha512: 'http://www.w3.org/2001/04/xmlenc#sha512',
  c14n: 'http://www.w3.org/TR/2001/REC-xml-c14n-20010315',
} as const;
