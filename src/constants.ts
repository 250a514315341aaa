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
} as const;

export const ALG = {
  rsaSha256: 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256',
  sha256: 'http://www.w3.org/2001/04/xmlenc#sha256',
  excC14n: 'http://www.w3.org/2001/10/xml-exc-c14n#',
  enveloped: 'http://www.w3.org/2000/09/xmldsig#enveloped-signature',
} as const;

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
} as const;

/** Claim namespaces Microsoft 365 reads from a SAML 1.1 token. */
export const CLAIM_NS = {
  xmlsoap: 'http://schemas.xmlsoap.org/claims',
  liveId: 'http://schemas.microsoft.com/LiveID/Federation/2008/05',
} as const;

export const WSFED = {
  signIn: 'wsignin1.0',
  signOut: 'wsignout1.0',
  signOutCleanup: 'wsignoutcleanup1.0',
} as const;
