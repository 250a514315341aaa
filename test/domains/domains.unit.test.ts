// Several federated domains and the alternate login ID, without a directory: the issuer each user's
// token gets, the claims Microsoft 365 receives, and the look-up filter (every value escaped).
import { describe, expect, it } from 'vitest';
import { federatedDomainOf, issuerUriOf } from '../../src/config/federated-domains.js';
import { MICROSOFT_365, checkRelyingParty } from '../../src/config/relying-parties.js';
import { microsoft365Issuer } from '../../src/claims/federated-issuer.js';
import { releaseClaims } from '../../src/claims/release.js';
import { resolveClaims } from '../../src/claims/resolve.js';
import type { DirectoryUser } from '../../src/directory/directory.js';
import { parseLoginName, userFilter } from '../../src/directory/login-name.js';
import { issuerUriForDomain } from '../../src/tenant/federation.js';

const TWO = { issuer: 'http://sts.corp.example.com/adfs/services/trust', federatedDomains: ['corp.example.com', 'corp.example.co.uk'] };
const ONE = { issuer: TWO.issuer, federatedDomains: ['corp.example.com'] };
const NONE = { issuer: TWO.issuer, federatedDomains: [] };
const BASE = '(&(objectCategory=person)(objectClass=user))';

const user = (more: Partial<DirectoryUser>): DirectoryUser => ({
  dn: 'CN=x,DC=corp,DC=local',
  sAMAccountName: 'x',
  userPrincipalName: 'x@corp.local',
  objectGUID: Buffer.alloc(16, 7),
  consistencyGuid: undefined,
  displayName: undefined,
  givenName: undefined,
  surname: undefined,
  mail: undefined,
  userAccountControl: 512,
  passwordExpires: undefined,
  ...more,
});
const m365 = checkRelyingParty(MICROSOFT_365, 'built-in');
const other = checkRelyingParty({ id: 'urn:app', replyUrls: ['https://app.test.invalid/'] }, 'rp');
const opts = (domains: typeof TWO) => ({ expiryNotifyDays: 0, passwordChangeUrl: 'https://sts.test/x', domains });

describe('the federated domain of a sign-in name', () => {
  it('is its suffix when listed, else the closest listed parent; case does not matter', () => {
    const d = ['corp.example.com', 'eu.corp.example.com', 'corp.example.co.uk'];
    expect(federatedDomainOf(d, 'a@Corp.Example.COM')).toBe('corp.example.com');
    expect(federatedDomainOf(d, 'a@sales.corp.example.com')).toBe('corp.example.com');
    expect(federatedDomainOf(d, 'a@x.eu.corp.example.com')).toBe('eu.corp.example.com');
    expect(federatedDomainOf(d, 'a@corp.example.co.uk')).toBe('corp.example.co.uk');
    // A suffix that only ends with the same letters is another domain.
    expect(federatedDomainOf(d, 'a@evilcorp.example.com')).toBeUndefined();
    expect(federatedDomainOf(d, 'a@corp.local')).toBeUndefined();
    expect(federatedDomainOf(d, 'no-suffix')).toBeUndefined();
  });

  it('gives its own IssuerUri (ADFS -SupportMultipleDomain) only with several domains', () => {
    expect(issuerUriOf(TWO, 'corp.example.co.uk')).toBe('http://corp.example.co.uk/adfs/services/trust/');
    expect(issuerUriOf(ONE, 'corp.example.com')).toBe(TWO.issuer);
  });
});

describe("Microsoft 365's token Issuer per user", () => {
  it('several domains: the user\'s domain\'s IssuerUri and the issuerid claim; a subdomain takes its parent\'s', () => {
    expect(microsoft365Issuer('a@corp.example.co.uk', TWO)).toEqual({
      issuer: 'http://corp.example.co.uk/adfs/services/trust/',
      issuerId: { type: 'http://schemas.microsoft.com/ws/2008/06/identity/claims/issuerid', values: ['http://corp.example.co.uk/adfs/services/trust/'] },
    });
    expect(microsoft365Issuer('b@sales.corp.example.com', TWO).issuer).toBe('http://corp.example.com/adfs/services/trust/');
  });

  it('one domain or none: `issuer`, no issuerid claim', () => {
    expect(microsoft365Issuer('a@corp.example.com', ONE)).toEqual({ issuer: TWO.issuer });
    expect(microsoft365Issuer('a@corp.local', NONE)).toEqual({ issuer: TWO.issuer });
  });

  it('a user outside every listed domain is refused, with a message naming the account', () => {
    for (const domains of [ONE, TWO]) {
      expect(() => microsoft365Issuer('a@corp.local', domains)).toThrow(
        expect.objectContaining({ code: 'GH_DOMAIN_NOT_FEDERATED', message: expect.stringContaining('a@corp.local') }),
      );
    }
  });

  it('is applied to Microsoft 365 only; another relying party keeps `issuer` and gets no issuerid', () => {
    const claims = resolveClaims(user({ userPrincipalName: 'x@corp.example.co.uk' }));
    const out = releaseClaims(m365, claims, opts(TWO));
    expect(out.issuer).toBe('http://corp.example.co.uk/adfs/services/trust/');
    expect(out.attributes.map((a) => a.type)).toContain('http://schemas.microsoft.com/ws/2008/06/identity/claims/issuerid');
    const forOther = releaseClaims(other, resolveClaims(user({})), opts(TWO));
    expect(forOther.issuer).toBeUndefined();
    expect(forOther.attributes.map((a) => a.type)).not.toContain('http://schemas.microsoft.com/ws/2008/06/identity/claims/issuerid');
  });
});

describe('alternate login ID (directory.loginAttribute)', () => {
  const alt = (value: string | undefined) => user({ mail: value, alternateLogin: { attribute: 'mail', value } });

  it('the login attribute is the UPN claim (IDPEmail) and alternateloginid; the issuer follows its suffix', () => {
    const out = releaseClaims(m365, resolveClaims(alt('x@corp.example.com')), opts(TWO));
    expect(out.attributes).toEqual([
      { type: 'http://schemas.xmlsoap.org/claims/UPN', values: ['x@corp.example.com'], name: 'IDPEmail' },
      { type: 'http://schemas.microsoft.com/LiveID/Federation/2008/05/ImmutableID', values: [Buffer.alloc(16, 7).toString('base64')] },
      { type: 'http://schemas.microsoft.com/ws/2013/11/alternateloginid', values: ['x@corp.example.com'] },
      { type: 'http://schemas.microsoft.com/ws/2008/06/identity/claims/issuerid', values: ['http://corp.example.com/adfs/services/trust/'] },
    ]);
    expect(out.issuer).toBe('http://corp.example.com/adfs/services/trust/');
  });

  it('only the Microsoft 365 claims change: the NameID source upn is still the AD userPrincipalName', () => {
    const upnNameId = checkRelyingParty({ id: 'urn:app', replyUrls: ['https://app.test.invalid/'], nameId: { source: 'upn' } }, 'rp');
    expect(releaseClaims(upnNameId, resolveClaims(alt('x@corp.example.com'))).subject.nameId).toBe('x@corp.local');
  });

  it('a user without the attribute cannot sign in to Microsoft 365 (not with the .local UPN instead)', () => {
    expect(() => releaseClaims(m365, resolveClaims(alt(undefined)), opts(NONE))).toThrow(
      expect.objectContaining({ code: 'GH_USER_INCOMPLETE', message: expect.stringContaining('it has no mail') }),
    );
  });

  it('the look-up matches the attribute or the UPN in one filter, the value escaped; DOMAIN\\name and sAMAccountName are unchanged', () => {
    expect(userFilter(parseLoginName('a*)(x=1@corp.example.com'), BASE, 'mail')).toBe(
      `(&${BASE}(|(mail=a\\2a\\29\\28x=1@corp.example.com)(userPrincipalName=a\\2a\\29\\28x=1@corp.example.com)))`,
    );
    expect(userFilter(parseLoginName('alice@corp.example.com'), BASE)).toBe(`(&${BASE}(userPrincipalName=alice@corp.example.com))`);
    expect(userFilter(parseLoginName('CORP\\al*ce', 'CORP'), BASE, 'mail')).toBe(`(&${BASE}(sAMAccountName=al\\2ace))`);
    expect(userFilter(parseLoginName('alice'), BASE, 'mail')).toBe(`(&${BASE}(sAMAccountName=alice))`);
  });
});

describe('tenant-setup --domain', () => {
  it("each domain's own IssuerUri with several; a subdomain or an unlisted domain is refused with what to do", () => {
    expect(issuerUriForDomain(TWO, 'corp.example.co.uk')).toBe('http://corp.example.co.uk/adfs/services/trust/');
    expect(issuerUriForDomain(ONE, 'corp.example.com')).toBe(TWO.issuer);
    expect(issuerUriForDomain(NONE, 'anything.example.org')).toBe(TWO.issuer);
    expect(() => issuerUriForDomain(TWO, 'eu.corp.example.com')).toThrow(/subdomain of corp.example.com.*--domain corp.example.com/);
    expect(() => issuerUriForDomain(TWO, 'fabrikam.example')).toThrow(/not in federatedDomains \(corp.example.com, corp.example.co.uk\)/);
  });
});
