// Smoke test of the Samba AD DC fixture itself: if this fails, nothing else in the suite means much.
import { readFileSync } from 'node:fs';
import tls from 'node:tls';
import { describe, expect, it } from 'vitest';
import { DC, USERS, ldapBind, objectGuidBase64, samba, searchAsService, unlockUser } from './support/directory.js';
import { freshUser } from './support/users.js';

describe('Samba AD DC fixture', () => {
  it('finds alice as the service account', () => {
    const ldif = searchAsService(`(sAMAccountName=${USERS.alice.sam})`, ['userPrincipalName', 'mail', 'givenName', 'sn']);
    expect(ldif).toContain(`dn: ${USERS.alice.dn}\n`);
    expect(ldif).toContain(`userPrincipalName: ${USERS.alice.upn}\n`);
    expect(ldif).toContain(`mail: ${USERS.alice.mail}\n`);
    expect(ldif).toContain(`sn: ${USERS.alice.surname}\n`);
    expect(Buffer.from(objectGuidBase64('alice'), 'base64')).toHaveLength(16);
  });

  it('answers simple binds like AD', () => {
    expect(ldapBind(USERS.bob.upn, USERS.bob.password)).toMatchObject({ ok: true });
    // A wrong password to a user of its own (see freshUser).
    const user = freshUser('fixture-wrongpw', 'Passw0rd!Temp1x');
    try {
      expect(ldapBind(user.upn, 'not-the-password')).toMatchObject({ ok: false, data: '52e' });
    } finally {
      samba('user', 'delete', user.sam);
    }
    expect(ldapBind(USERS.carol.upn, USERS.carol.password)).toMatchObject({ ok: false, data: '533' });
  });

  it('locks erin after 3 bad binds, and unlockUser frees her', () => {
    unlockUser(USERS.erin.sam); // in case a kept DC (GATEHOUSE_TEST_KEEP_DC=1) left her locked
    for (let i = 0; i < 3; i++) expect(ldapBind(USERS.erin.upn, 'wrong').data).toBe('52e');
    expect(ldapBind(USERS.erin.upn, USERS.erin.password).data).toBe('775');
    unlockUser(USERS.erin.sam);
    expect(ldapBind(USERS.erin.upn, USERS.erin.password).ok).toBe(true);
  });

  it('serves LDAPS with a certificate from DC.caFile for DC.tlsServerName', async () => {
    const authorized = await new Promise<boolean>((resolve, reject) => {
      const s = tls.connect(
        { host: '127.0.0.1', port: 636, ca: readFileSync(DC.caFile), servername: DC.tlsServerName },
        () => {
          resolve(s.authorized);
          s.end();
        },
      );
      s.on('error', reject);
    });
    expect(authorized).toBe(true);
  });
});
