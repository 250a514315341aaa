// Claim rules end to end: users and (nested) groups made in the Samba DC with samba-tool, a relying party
// with its own rules, a WS-Federation sign-in, and the claims read back out of the signed SAML 1.1 token.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Browser } from '../support/http.js';
import { startGatehouse, type RunningGatehouse } from '../support/gatehouse.js';
import { DC, objectGuidBase64, samba } from '../support/directory.js';
import { attributes, AUTHN_INSTANT, INSIDE_CORPORATE_NETWORK, value } from '../support/wsfed.js';
import { parseXml, SAML11_ID, xmlsecVerify } from '../support/xml.js';

const RP = { id: 'urn:test:claim-rules', name: 'Claim rules RP', replyUrls: ['https://claims.test.invalid/acs'] };
// Parentheses in a group name: the in-chain filter must escape them (RFC 4515).
const GROUPS = { staff: 'gh-claims-staff (all)', engineers: 'gh-claims-engineers', admins: 'gh-claims-admins' };
const groupDn = (cn: string) => `CN=${cn},CN=Users,${DC.baseDn}`;
const PASSWORD = 'Passw0rd!Claims1';
const USERS = {
  // Member of engineers, which is a member of staff: staff only through nesting.
  full: { sam: 'gh-claims-full', given: 'Grace', surname: 'Hopper', mail: 'Grace.Hopper@Corp.Example.Test', department: 'Research' },
  // No department, no mail, no group.
  sparse: { sam: 'gh-claims-sparse', given: 'Sam', surname: 'Sparse' },
};

const T = {
  email: 'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress',
  given: 'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/givenname',
  dept: 'http://schemas.example.test/claims/department',
  login: 'http://schemas.example.test/claims/login',
  guid: 'http://schemas.example.test/claims/objectguid',
  role: 'http://schemas.microsoft.com/ws/2008/06/identity/claims/role',
  tenant: 'http://schemas.example.test/claims/tenant',
};

function recreateGroup(name: string): void {
  try {
    samba('group', 'delete', name);
  } catch {
    // not there (a fresh DC)
  }
  samba('group', 'add', name);
}

function recreateUser(u: { sam: string; given: string; surname: string; mail?: string; department?: string }): void {
  try {
    samba('user', 'delete', u.sam);
  } catch {
    // not there
  }
  samba(
    'user', 'create', u.sam, PASSWORD, `--given-name=${u.given}`, `--surname=${u.surname}`,
    ...(u.mail ? [`--mail-address=${u.mail}`] : []), ...(u.department ? [`--department=${u.department}`] : []),
  );
}

let gh: RunningGatehouse;

beforeAll(async () => {
  for (const g of Object.values(GROUPS)) recreateGroup(g);
  for (const u of Object.values(USERS)) recreateUser(u);
  samba('group', 'addmembers', GROUPS.staff, GROUPS.engineers);
  samba('group', 'addmembers', GROUPS.engineers, USERS.full.sam);

  gh = await startGatehouse((cfg) => {
    cfg.relyingParties = [
      ...cfg.relyingParties,
      {
        ...RP,
        claims: {
          preset: 'none',
          rules: [
            // rename + transform
            { type: T.email, attribute: 'mail', transform: ['lowercase'] },
            // pass-through
            { type: T.given, attribute: 'givenName' },
            // an attribute the sign-in look-up does not read, so resolution fetches it
            { type: T.dept, attribute: 'department' },
            // regex replace with a capture group
            { type: T.login, attribute: 'userPrincipalName', transform: [{ replace: '^([^@]+)@.*$', with: 'CORP\\$1' }, 'uppercase'] },
            // base64 of a binary attribute
            { type: T.guid, attribute: 'objectGUID', transform: ['base64'] },
            // group conditions, nested and direct, and one the user is not in
            { type: T.role, value: 'staff', ifMemberOf: groupDn(GROUPS.staff) },
            { type: T.role, value: 'engineer', ifMemberOf: groupDn(GROUPS.engineers) },
            { type: T.role, value: 'admin', ifMemberOf: groupDn(GROUPS.admins) },
            // constant
            { type: T.tenant, value: 'corp' },
          ],
        },
      },
    ];
  });
});
afterAll(async () => gh?.close());

async function signIn(sam: string, realm = RP.id): Promise<{ claims: Record<string, string[]>; wresult: string; doc: Document }> {
  const browser = new Browser();
  const login = await browser.get(`${gh.url}/adfs/ls/?${new URLSearchParams({ wa: 'wsignin1.0', wtrealm: realm })}`);
  expect(login.status).toBe(200);
  const form = login.form();
  const page = await browser.post(new URL(form.action, gh.url).toString(), { ...form.fields, UserName: `${sam}@${DC.realm}`, Password: PASSWORD });
  expect(page.status).toBe(200);
  const wresult = page.form().fields.wresult!;
  const doc = parseXml(wresult);
  return { claims: attributes(doc), wresult, doc };
}

describe('claim rules through WS-Federation, against the Samba DC', () => {
  it('releases exactly what the rules give: renamed, transformed, binary, constant and nested-group claims', async () => {
    const { claims, wresult, doc } = await signIn(USERS.full.sam);
    expect(claims).toEqual({
      [T.email]: ['grace.hopper@corp.example.test'],
      [T.given]: ['Grace'],
      [T.dept]: ['Research'],
      [T.login]: ['CORP\\GH-CLAIMS-FULL'],
      [T.guid]: [objectGuidBase64(USERS.full.sam)],
      [T.role]: ['staff', 'engineer'],
      [T.tenant]: ['corp'],
    });
    // No preset: no UPN or ImmutableID attribute. The NameID is still the persistent ImmutableID.
    expect(value(doc, '//saml:AttributeStatement/saml:Subject/saml:NameIdentifier')).toBe(objectGuidBase64(USERS.full.sam));
    expect(value(doc, '//saml:Attribute[@AttributeName="department"]/@AttributeNamespace')).toBe('http://schemas.example.test/claims');
    expect(xmlsecVerify(wresult, gh.certPem, SAML11_ID).ok).toBe(true);
  });

  it('leaves out claims whose attribute the user lacks and group claims of groups they are not in; never an empty claim', async () => {
    const { claims, wresult } = await signIn(USERS.sparse.sam);
    expect(claims).toEqual({
      [T.given]: ['Sam'],
      [T.login]: ['CORP\\GH-CLAIMS-SPARSE'],
      [T.guid]: [objectGuidBase64(USERS.sparse.sam)],
      [T.tenant]: ['corp'],
    });
    expect(wresult).not.toMatch(/<saml:AttributeValue><\/saml:AttributeValue>|<saml:AttributeValue\/>/);
  });

  it('follows a membership change at the next sign-in (nothing is cached)', async () => {
    samba('group', 'addmembers', GROUPS.admins, USERS.sparse.sam);
    try {
      expect((await signIn(USERS.sparse.sam)).claims[T.role]).toEqual(['admin']);
    } finally {
      samba('group', 'removemembers', GROUPS.admins, USERS.sparse.sam);
    }
    expect((await signIn(USERS.sparse.sam)).claims[T.role]).toBeUndefined();
  });

  it('leaves the other relying parties on the Microsoft 365 preset', async () => {
    const { claims } = await signIn(USERS.full.sam, 'urn:federation:MicrosoftOnline');
    // The claims about the sign-in (entra-claims.test.ts) aside.
    delete claims[INSIDE_CORPORATE_NETWORK];
    delete claims[AUTHN_INSTANT];
    expect(claims).toEqual({
      'http://schemas.xmlsoap.org/claims/UPN': [`${USERS.full.sam}@${DC.realm}`],
      'http://schemas.microsoft.com/LiveID/Federation/2008/05/ImmutableID': [objectGuidBase64(USERS.full.sam)],
    });
  });
});
