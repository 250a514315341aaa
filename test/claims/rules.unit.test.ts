// The rule engine on its own: resolved claims in, released claims out. No directory, no XML.
import { describe, expect, it } from 'vitest';
import { releaseClaims } from '../../src/claims/release.js';
import { resolveClaims, resolveClaimsFor } from '../../src/claims/resolve.js';
import type { ResolvedClaims } from '../../src/claims/resolved.js';
import { applyRule, claimNeeds, transformValue } from '../../src/claims/rules.js';
import type { ClaimRule } from '../../src/config/schema/claim-rules.js';
import type { RelyingPartyConfig, RelyingPartyInput } from '../../src/config/schema/relying-party.js';
import { checkRelyingParty } from '../../src/config/relying-parties.js';
import type { DirectoryUser } from '../../src/directory/directory.js';
import { loadConfig } from '../../src/config/load.js';
import { ConfigError } from '../../src/errors.js';
import { saml11AttributeName } from '../../src/tokens/assertion.js';

const GUID = Buffer.from('00112233445566778899aabbccddeeff', 'hex');
const USER: DirectoryUser = {
  dn: 'CN=Alice Liddell,OU=Staff,DC=corp,DC=example,DC=test',
  sAMAccountName: 'alice',
  userPrincipalName: 'alice@corp.example.test',
  objectGUID: GUID,
  consistencyGuid: undefined,
  displayName: 'Alice Liddell',
  givenName: 'Alice',
  surname: 'Liddell',
  mail: 'Alice.Liddell@Corp.Example.Test',
  userAccountControl: 512,
  passwordExpires: undefined,
};
const STAFF = 'CN=Staff,OU=Groups,DC=corp,DC=example,DC=test';
const ADMINS = 'CN=Admins,OU=Groups,DC=corp,DC=example,DC=test';

function withExtra(extra: Record<string, (string | Buffer)[]>, memberOf: Record<string, boolean> = {}): ResolvedClaims {
  const base = resolveClaims(USER);
  const attributes = new Map(base.attributes);
  for (const [k, v] of Object.entries(extra)) attributes.set(k.toLowerCase(), v);
  return { ...base, attributes, memberOf: new Map(Object.entries(memberOf)) };
}

function rp(claims?: RelyingPartyInput['claims'], more: Partial<RelyingPartyInput> = {}): RelyingPartyConfig {
  return checkRelyingParty({ id: 'urn:test:rules', replyUrls: ['https://rp.test.invalid/acs'], ...(claims ? { claims } : {}), ...more }, 'rp');
}

const rule = (r: Partial<ClaimRule> & { type: string }): ClaimRule => ({ transform: [], ...r }) as ClaimRule;

describe('the microsoft365 preset (the default)', () => {
  it("is today's Microsoft 365 set: persistent ImmutableID NameID, UPN and ImmutableID, nothing else", () => {
    const out = releaseClaims(rp(), resolveClaims(USER));
    expect(out.subject).toEqual({ nameId: GUID.toString('base64'), format: 'urn:oasis:names:tc:SAML:2.0:nameid-format:persistent' });
    expect(out.attributes).toEqual([
      { type: 'http://schemas.xmlsoap.org/claims/UPN', values: ['alice@corp.example.test'], name: 'IDPEmail' },
      { type: 'http://schemas.microsoft.com/LiveID/Federation/2008/05/ImmutableID', values: [GUID.toString('base64')] },
    ]);
  });

  it('adds the password-expiry claims inside the notification window only', () => {
    const now = new Date('2030-01-01T00:00:00Z');
    const soon = { ...resolveClaims(USER), passwordExpires: new Date('2030-01-04T12:00:00Z') };
    const opts = { expiryNotifyDays: 14, passwordChangeUrl: 'https://sts.test/adfs/portal/updatepassword', now };
    expect(releaseClaims(rp(), soon, opts).attributes.slice(2)).toEqual([
      { type: 'http://schemas.microsoft.com/ws/2012/01/passwordexpirationtime', values: ['2030-01-04T12:00:00.000Z'] },
      { type: 'http://schemas.microsoft.com/ws/2012/01/passwordexpirationdays', values: ['3'] },
      { type: 'http://schemas.microsoft.com/ws/2012/01/passwordchangeurl', values: ['https://sts.test/adfs/portal/updatepassword'] },
    ]);
    expect(releaseClaims(rp(), soon, { ...opts, expiryNotifyDays: 2 }).attributes).toHaveLength(2);
  });

  it('refuses a user without a UPN (Microsoft 365 could not match the account)', () => {
    const noUpn = resolveClaims({ ...USER, userPrincipalName: undefined });
    expect(() => releaseClaims(rp(), noUpn)).toThrow(expect.objectContaining({ code: 'GH_USER_INCOMPLETE' }));
    // Without the preset the UPN is not needed.
    expect(releaseClaims(rp({ preset: 'none', rules: [] }), noUpn).attributes).toEqual([]);
  });

  it('custom rules come after the preset, merged by claim type', () => {
    const out = releaseClaims(
      rp({ preset: 'microsoft365', rules: [rule({ type: 'http://schemas.xmlsoap.org/claims/UPN', attribute: 'mail', transform: ['lowercase'] })] }),
      resolveClaims(USER),
    );
    expect(out.attributes[0]).toEqual({
      type: 'http://schemas.xmlsoap.org/claims/UPN',
      values: ['alice@corp.example.test', 'alice.liddell@corp.example.test'],
      name: 'IDPEmail',
    });
  });
});

describe('rules', () => {
  const claims = withExtra(
    {
      department: ['Research'],
      employeeID: ['E-0042'],
      objectSid: [Buffer.from('010500000000000515000000', 'hex')],
      proxyAddresses: ['SMTP:alice@corp.example.test', 'smtp:al@corp.example.test', 'X500:/o=x'],
    },
    { [STAFF]: true, [ADMINS]: false },
  );

  it('pass-through: an attribute as stored, under a claim type', () => {
    expect(applyRule(rule({ type: 'urn:oid:2.5.4.11', attribute: 'department' }), claims)).toEqual({ type: 'urn:oid:2.5.4.11', values: ['Research'] });
  });

  it('rename: the SAML 2.0 name and name format travel with the claim', () => {
    expect(
      applyRule(
        rule({ type: 'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress', attribute: 'MAIL', name: 'email', nameFormat: 'urn:oasis:names:tc:SAML:2.0:attrname-format:basic' }),
        claims,
      ),
    ).toEqual({
      type: 'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress',
      values: ['Alice.Liddell@Corp.Example.Test'],
      name: 'email',
      nameFormat: 'urn:oasis:names:tc:SAML:2.0:attrname-format:basic',
    });
  });

  it('constant', () => {
    expect(applyRule(rule({ type: 'urn:test:tier', value: 'gold' }), claims)?.values).toEqual(['gold']);
  });

  it('transforms: lowercase, uppercase, regex replace with groups, in order', () => {
    expect(applyRule(rule({ type: 'urn:test:m', attribute: 'mail', transform: ['lowercase'] }), claims)?.values).toEqual(['alice.liddell@corp.example.test']);
    expect(applyRule(rule({ type: 'urn:test:d', attribute: 'department', transform: ['uppercase'] }), claims)?.values).toEqual(['RESEARCH']);
    expect(
      applyRule(rule({ type: 'urn:test:u', attribute: 'userPrincipalName', transform: [{ replace: '^([^@]+)@.*$', with: 'CORP\\$1' }, 'uppercase'] }), claims)?.values,
    ).toEqual(['CORP\\ALICE']);
    // Every value; values that end up empty are dropped, and so are duplicates.
    expect(
      applyRule(
        rule({ type: 'urn:test:smtp', attribute: 'proxyAddresses', transform: [{ replace: '^(?!smtp:).*$', ignoreCase: true }, { replace: '^smtp:', ignoreCase: true }, 'lowercase'] }),
        claims,
      )?.values,
    ).toEqual(['alice@corp.example.test', 'al@corp.example.test']);
  });

  it('base64 of a binary attribute is of its raw bytes; a binary attribute without it is sent in base64 too', () => {
    expect(applyRule(rule({ type: 'urn:test:guid', attribute: 'objectGUID', transform: ['base64'] }), claims)?.values).toEqual([GUID.toString('base64')]);
    expect(applyRule(rule({ type: 'urn:test:sid', attribute: 'objectSid' }), claims)?.values).toEqual(['AQUAAAAAAAUVAAAA']);
    expect(transformValue('é', ['base64'])).toBe(Buffer.from('é', 'utf8').toString('base64'));
  });

  it('immutableId is a computed attribute', () => {
    expect(applyRule(rule({ type: 'urn:test:anchor', attribute: 'immutableId' }), claims)?.values).toEqual([GUID.toString('base64')]);
  });

  it('issues a group-conditional claim only to members; an unchecked group counts as not a member', () => {
    expect(applyRule(rule({ type: 'urn:test:role', value: 'staff', ifMemberOf: STAFF }), claims)?.values).toEqual(['staff']);
    expect(applyRule(rule({ type: 'urn:test:role', value: 'admin', ifMemberOf: ADMINS }), claims)).toBeUndefined();
    expect(applyRule(rule({ type: 'urn:test:role', value: 'x', ifMemberOf: 'CN=Never,DC=x' }), claims)).toBeUndefined();
    expect(applyRule(rule({ type: 'urn:test:dept', attribute: 'department', ifMemberOf: STAFF }), claims)?.values).toEqual(['Research']);
  });

  it('leaves out a claim whose attribute the user lacks, or whose value transforms to nothing', () => {
    expect(applyRule(rule({ type: 'urn:test:phone', attribute: 'telephoneNumber' }), claims)).toBeUndefined();
    expect(applyRule(rule({ type: 'urn:test:empty', attribute: 'department', transform: [{ replace: '.+' }] }), claims)).toBeUndefined();
  });

  it('releases only what the rules name, with the NameID from the relying party', () => {
    const out = releaseClaims(
      rp(
        {
          preset: 'none',
          rules: [
            rule({ type: 'urn:test:role', value: 'staff', ifMemberOf: STAFF }),
            rule({ type: 'urn:test:role', value: 'admin', ifMemberOf: ADMINS }),
            rule({ type: 'urn:test:role', value: 'member' }),
            rule({ type: 'urn:test:phone', attribute: 'telephoneNumber' }),
          ],
        },
        { nameId: { source: 'mail' } },
      ),
      claims,
    );
    expect(out).toEqual({
      subject: { nameId: 'Alice.Liddell@Corp.Example.Test', format: 'urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress' },
      attributes: [{ type: 'urn:test:role', values: ['staff', 'member'] }],
    });
  });

  it('refuses a NameID whose source the user lacks', () => {
    expect(() => releaseClaims(rp({ preset: 'none', rules: [] }, { nameId: { source: 'mail' } }), resolveClaims({ ...USER, mail: undefined }))).toThrow(
      expect.objectContaining({ code: 'GH_USER_INCOMPLETE' }),
    );
  });
});

describe('resolution reads only what the rules need', () => {
  it('needs nothing for the preset, and asks for extra attributes (binary ones as bytes) and groups', () => {
    expect(claimNeeds(undefined)).toEqual({ attributes: [], binary: [], groups: [] });
    const needs = claimNeeds({
      preset: 'none',
      rules: [
        rule({ type: 'urn:a', attribute: 'department' }),
        rule({ type: 'urn:b', attribute: 'DEPARTMENT', transform: ['lowercase'] }),
        rule({ type: 'urn:c', attribute: 'objectSid' }),
        rule({ type: 'urn:d', attribute: 'msDS-cloudExtensionAttribute1', transform: ['base64'] }),
        rule({ type: 'urn:e', attribute: 'immutableId' }),
        rule({ type: 'urn:f', value: 'x', ifMemberOf: STAFF }),
        rule({ type: 'urn:g', value: 'y', ifMemberOf: STAFF }),
      ],
    });
    expect(needs).toEqual({
      attributes: ['department', 'objectSid', 'msDS-cloudExtensionAttribute1'],
      binary: ['objectSid', 'msDS-cloudExtensionAttribute1'],
      groups: [STAFF],
    });
  });

  it('makes no directory call for the preset, and one read plus one check per group otherwise', async () => {
    const calls: string[] = [];
    const dir = {
      async readAttributes(dn: string, names: readonly string[], binary: readonly string[] = []) {
        calls.push(`read ${dn} ${names.join(',')} binary=${binary.join(',')}`);
        return new Map<string, (string | Buffer)[]>(names.includes('department') ? [['department', ['Research']]] : []);
      },
      async isMemberOf(dn: string, group: string) {
        calls.push(`member ${dn} ${group}`);
        return group === STAFF;
      },
    };
    await resolveClaimsFor(dir, USER, rp());
    expect(calls).toEqual(['read CN=Alice Liddell,OU=Staff,DC=corp,DC=example,DC=test  binary=']);
    calls.length = 0;
    const resolved = await resolveClaimsFor(
      dir,
      USER,
      rp({ preset: 'none', rules: [rule({ type: 'urn:a', attribute: 'department' }), rule({ type: 'urn:b', attribute: 'mail' }), rule({ type: 'urn:c', value: 'x', ifMemberOf: STAFF }), rule({ type: 'urn:d', value: 'x', ifMemberOf: ADMINS })] }),
    );
    expect(calls).toEqual([`read ${USER.dn} department binary=`, `member ${USER.dn} ${STAFF}`, `member ${USER.dn} ${ADMINS}`]);
    expect(resolved.attributes.get('department')).toEqual(['Research']);
    expect([...resolved.memberOf]).toEqual([[STAFF, true], [ADMINS, false]]);
  });
});

describe('SAML 1.1 names', () => {
  it('splits a claim type at the last "/", a URN at its last ":"', () => {
    expect(saml11AttributeName('http://schemas.xmlsoap.org/claims/UPN')).toEqual({ namespace: 'http://schemas.xmlsoap.org/claims', name: 'UPN' });
    expect(saml11AttributeName('http://schemas.microsoft.com/ws/2012/01/passwordexpirationtime')).toEqual({
      namespace: 'http://schemas.microsoft.com/ws/2012/01',
      name: 'passwordexpirationtime',
    });
    expect(saml11AttributeName('urn:oid:2.5.4.11')).toEqual({ namespace: 'urn:oid', name: '2.5.4.11' });
  });
});

describe('configuration', () => {
  const base = {
    publicUrl: 'https://sts.test',
    directory: { urls: ['ldap://127.0.0.1'], baseDn: 'DC=x', bindDn: 'CN=svc,DC=x', bindPassword: 'pw' },
  };
  function configWith(claims: unknown) {
    const env: Record<string, string> = {
      GATEHOUSE_PUBLIC_URL: base.publicUrl,
      GATEHOUSE_DIRECTORY_URLS: base.directory.urls.join(','),
      GATEHOUSE_DIRECTORY_BASE_DN: base.directory.baseDn,
      GATEHOUSE_DIRECTORY_BIND_DN: base.directory.bindDn,
      GATEHOUSE_DIRECTORY_BIND_PASSWORD: base.directory.bindPassword,
      GATEHOUSE_RELYING_PARTIES: JSON.stringify([{ id: 'urn:test:cfg', replyUrls: ['https://rp.test/acs'], claims }]),
    };
    return { env };
  }
  const tryLoad = (claims: unknown) => loadConfig(configWith(claims));

  it('accepts rules and fills in the defaults', () => {
    const cfg = tryLoad({ rules: [{ type: 'urn:oid:2.5.4.11', attribute: 'department' }] });
    expect(cfg.relyingParties.get('urn:test:cfg')!.claims).toEqual({
      preset: 'microsoft365',
      rules: [{ type: 'urn:oid:2.5.4.11', attribute: 'department', transform: [] }],
    });
  });

  it.each([
    ['no source', { rules: [{ type: 'urn:a' }] }, /rules\[0\]/],
    ['two sources', { rules: [{ type: 'urn:a', attribute: 'mail', value: 'x' }] }, /rules\[0\]: must match exactly one schema/],
    ['a claim type that is not a URI', { rules: [{ type: 'mail', attribute: 'mail' }] }, /rules\[0\]\.type: must match/],
    ['a bad regex', { rules: [{ type: 'urn:a', attribute: 'mail', transform: [{ replace: '(' }] }] }, /transform\[0\]/],
    ['an unknown transform', { rules: [{ type: 'urn:a', attribute: 'mail', transform: ['reverse'] }] }, /transform\[0\]/],
    ['an unknown key', { rules: [{ type: 'urn:a', attribute: 'mail', when: 'x' }] }, /rules\[0\]\.when: unknown key/],
    ['an unknown preset', { preset: 'adfs' }, /claims\.preset: must be equal to one of the allowed values/],
  ])('refuses %s when the configuration loads', (_what, claims, message) => {
    expect(() => tryLoad(claims)).toThrow(ConfigError);
    expect(() => tryLoad(claims)).toThrow(message);
  });
});
