// The passkey ceremonies of src/mfa/webauthn.ts with a key made in the test (test/support/soft-authenticator.ts,
// which the farm test uses to finish ceremonies without a browser): registration, then sign-in, the
// counter moving on; another origin, a wrong challenge or an unknown key refused.
import { describe, expect, it } from 'vitest';
import { authenticationOptions, registrationOptions, verifyAuthentication, verifyRegistration, webAuthnRp } from '../../src/mfa/webauthn.js';
import { SoftAuthenticator } from '../support/soft-authenticator.js';

const rp = webAuthnRp('http://127.0.0.1:8443', 'Gatehouse');
const user = { account: '00112233445566778899aabbccddeeff', upn: 'kim@corp.example.test' };

describe('WebAuthn ceremonies with a software authenticator', () => {
  it('registers a key and signs in with it twice; the stored counter follows', async () => {
    const a = new SoftAuthenticator();
    const reg = await registrationOptions(rp, user, []);
    const key = await verifyRegistration(rp, reg.challenge, a.register(reg, rp.origin) as never, 'Soft key');
    expect(key).toMatchObject({ name: 'Soft key', counter: 1 });
    let stored = key!;
    for (const expected of [2, 3]) {
      const auth = await authenticationOptions(rp, [stored]);
      const used = await verifyAuthentication(rp, auth.challenge, a.authenticate(auth, rp.origin) as never, [stored]);
      expect(used?.counter).toBe(expected);
      stored = used!;
    }
  });

  it('refuses another origin, another challenge, and a key the user does not have', async () => {
    const a = new SoftAuthenticator();
    const reg = await registrationOptions(rp, user, []);
    await expect(verifyRegistration(rp, reg.challenge, a.register(reg, 'http://evil.test') as never, 'x')).rejects.toThrow(/origin/i);
    const key = (await verifyRegistration(rp, reg.challenge, a.register(reg, rp.origin) as never, 'x'))!;
    const auth = await authenticationOptions(rp, [key]);
    await expect(verifyAuthentication(rp, 'another-challenge', a.authenticate(auth, rp.origin) as never, [key])).rejects.toThrow(/challenge/i);
    expect(await verifyAuthentication(rp, auth.challenge, new SoftAuthenticator().authenticate(auth, rp.origin) as never, [key])).toBeUndefined();
  });
});
