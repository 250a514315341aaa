import type { AuthenticationResponseJSON, AuthenticatorTransport, RegistrationResponseJSON } from '@simplewebauthn/server';

// Loaded at the first ceremony, not at start-up: the library and its ASN.1 dependencies take most of a
// second to load, which every command and server process would pay otherwise.
const lib = () => import('@simplewebauthn/server');

/** One passkey or security key, as stored (sealed with the other factors). */
export interface StoredKey {
  /** Credential ID, base64url. */
  id: string;
  /** COSE public key, base64url. */
  publicKey: string;
  counter: number;
  transports?: AuthenticatorTransport[] | undefined;
  /** The user's name for it ("work laptop", "YubiKey"). */
  name: string;
  added: number;
  /** The last sign-in with it (ms since epoch); absent until the first. */
  lastUsed?: number | undefined;
}

/** The relying party of the ceremonies: the host of publicUrl, and its origin. */
export interface WebAuthnRp {
  id: string;
  origin: string;
  name: string;
}

export function webAuthnRp(publicUrl: string, name: string): WebAuthnRp {
  const u = new URL(publicUrl);
  return { id: u.hostname, origin: u.origin, name };
}

const b64url = (b: Uint8Array) => Buffer.from(b).toString('base64url');

/** Options for a new key: user verification required, the user's keys excluded (no duplicates). */
export async function registrationOptions(rp: WebAuthnRp, user: { account: string; upn: string; displayName?: string | undefined }, keys: StoredKey[]) {
  return (await lib()).generateRegistrationOptions({
    rpName: rp.name,
    rpID: rp.id,
    userName: user.upn,
    userID: Buffer.from(user.account, 'hex'),
    userDisplayName: user.displayName ?? user.upn,
    attestationType: 'none',
    excludeCredentials: keys.map((k) => ({ id: k.id, transports: k.transports })),
    authenticatorSelection: { residentKey: 'preferred', userVerification: 'required' },
  });
}

/** The new key when the browser's answer is right for this challenge, origin and relying party; else undefined. */
export async function verifyRegistration(rp: WebAuthnRp, challenge: string, response: RegistrationResponseJSON, name: string): Promise<StoredKey | undefined> {
  const v = await (await lib()).verifyRegistrationResponse({ response, expectedChallenge: challenge, expectedOrigin: rp.origin, expectedRPID: rp.id, requireUserVerification: true });
  if (!v.verified || !v.registrationInfo) return undefined;
  const c = v.registrationInfo.credential;
  return { id: c.id, publicKey: b64url(c.publicKey), counter: c.counter, transports: (c.transports ?? response.response.transports) as AuthenticatorTransport[] | undefined, name, added: Date.now() };
}

export async function authenticationOptions(rp: WebAuthnRp, keys: StoredKey[]) {
  return (await lib()).generateAuthenticationOptions({ rpID: rp.id, allowCredentials: keys.map((k) => ({ id: k.id, transports: k.transports })), userVerification: 'required' });
}

/** The key that signed, with its new counter, when the assertion is right; else undefined. */
export async function verifyAuthentication(rp: WebAuthnRp, challenge: string, response: AuthenticationResponseJSON, keys: StoredKey[]): Promise<StoredKey | undefined> {
  const key = keys.find((k) => k.id === response.id);
  if (!key) return undefined;
  const v = await (await lib()).verifyAuthenticationResponse({
    response,
    expectedChallenge: challenge,
    expectedOrigin: rp.origin,
    expectedRPID: rp.id,
    credential: { id: key.id, publicKey: Buffer.from(key.publicKey, 'base64url'), counter: key.counter, transports: key.transports },
    requireUserVerification: true,
  });
  return v.verified ? { ...key, counter: v.authenticationInfo.newCounter } : undefined;
}
