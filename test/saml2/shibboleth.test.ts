// End to end through a SAML 2.0 SP written by others: Debian's Shibboleth SP (apache2 + mod_shib +
// shibd, test/fixtures/shibboleth-sp.sh) registered at Gatehouse by its metadata file, Gatehouse's
// metadata given to the SP, and headless Chromium going through it all: the SP's protected page, the
// redirect to Gatehouse, alice's password, the POST back, and the attributes Shibboleth exposes, whose
// values come from the relying party's claim rules (users' groups made with samba-tool).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, watch } from '../support/chromium.js';
import { DC, USERS, objectGuidBase64, samba } from '../support/directory.js';
import { startGatehouse, type RunningGatehouse } from '../support/gatehouse.js';
import { parseSecurePage, prepareShibbolethSp, installShibboleth, type ShibbolethSp } from '../support/shibboleth.js';

const WAIT = { timeout: 15_000 };
const alice = USERS.alice;

// alice is in the team group, which is in the staff group: staff only through nesting.
const GROUPS = { staff: 'gh-shib-staff', team: 'gh-shib-team', admins: 'gh-shib-admins' };
const groupDn = (cn: string) => `CN=${cn},CN=Users,${DC.baseDn}`;

/** SAML 2.0 Attribute Names (what the rules set as `name`) and the ids Shibboleth exposes them under. */
const ATTR = {
  mail: 'urn:oid:0.9.2342.19200300.100.1.3',
  displayName: 'urn:oid:2.16.840.1.113730.3.1.241',
  upn: 'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn',
  role: 'http://schemas.microsoft.com/ws/2008/06/identity/claims/role',
  login: 'urn:test:shibboleth:login',
  tenant: 'urn:test:shibboleth:tenant',
  phone: 'urn:oid:2.5.4.20',
  guid: 'urn:test:shibboleth:objectguid',
};

function recreateGroup(name: string): void {
  try {
    samba('group', 'delete', name);
  } catch {
    // not there
  }
  samba('group', 'add', name);
}

let sp: ShibbolethSp;
let spSigned: ShibbolethSp;
let spNoEncryption: ShibbolethSp;
let gh: RunningGatehouse;
let chromium: Browser;
/** The browser context alice signed in with, for the single sign-on test. */
let signedIn: BrowserContext | undefined;

/** Opens `sp`'s /secure in a fresh context, signs in as alice at Gatehouse, and returns what /secure shows. */
async function signInAt(target: ShibbolethSp): Promise<{ attrs: Record<string, string[]>; navigations: string[] }> {
  const context = await chromium.newContext();
  const page = await context.newPage();
  const log = watch(page);
  let text = '';
  try {
    await page.goto(`${target.url}/secure`);
    await page.waitForURL((u) => u.origin === gh.url && u.pathname.startsWith('/adfs/ls'), WAIT);
    await page.locator('#UserName').fill(alice.upn);
    await page.locator('#Password').fill(alice.password);
    const acs = page.waitForResponse((r) => r.url() === `${target.url}/Shibboleth.sso/SAML2/POST`, WAIT);
    await page.locator('#Password').press('Enter');
    // Shibboleth answers a response it refuses with an error page (500): fail at once, with its logs.
    const acsStatus = (await acs).status();
    if (acsStatus !== 302) throw new Error(`the SP's ACS answered ${acsStatus}`);
    await page.waitForURL(`${target.url}/secure`, WAIT);
    text = (await page.textContent('body')) ?? '';
    return { attrs: parseSecurePage(text), navigations: log.navigations };
  } catch (err) {
    throw new Error(`${(err as Error).message}\n\n/secure:\n${text}\n\nnavigations:\n${log.navigations.join('\n')}\n\n${target.logs()}`, { cause: err });
  } finally {
    await context.close();
  }
}

describe('Shibboleth SP 3 signs alice in through Gatehouse (SAML 2.0, headless Chromium)', () => {
  beforeAll(async () => {
    installShibboleth();
    for (const g of Object.values(GROUPS)) recreateGroup(g);
    samba('group', 'addmembers', GROUPS.staff, GROUPS.team);
    samba('group', 'addmembers', GROUPS.team, alice.sam);

    sp = await prepareShibbolethSp({
      attributes: {
        [ATTR.mail]: 'mail',
        [ATTR.displayName]: 'displayName',
        [ATTR.upn]: 'upn',
        [ATTR.role]: 'role',
        [ATTR.login]: 'login',
        [ATTR.tenant]: 'tenant',
        [ATTR.phone]: 'telephoneNumber',
        [ATTR.guid]: 'objectGUID',
      },
    });
    // A second SP that signs its AuthnRequests and has no rules; a third whose metadata has a signing key only.
    spSigned = await prepareShibbolethSp({ signRequests: true });
    spNoEncryption = await prepareShibbolethSp({ encryption: false });
    gh = await startGatehouse((cfg) => {
      cfg.relyingParties.push({ id: spSigned.entityId, name: 'Shibboleth SP (signed requests)', protocol: 'saml2', metadataFile: spSigned.metadataFile });
      cfg.relyingParties.push({ id: spNoEncryption.entityId, name: 'Shibboleth SP (no encryption key)', protocol: 'saml2', metadataFile: spNoEncryption.metadataFile });
      cfg.relyingParties.push({
        id: sp.entityId,
        name: 'Shibboleth SP',
        protocol: 'saml2',
        metadataFile: sp.metadataFile,
        claims: {
          preset: 'none',
          rules: [
            { type: 'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress', name: ATTR.mail, attribute: 'mail', transform: ['uppercase'] },
            { type: 'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name', name: ATTR.displayName, attribute: 'displayName' },
            { type: ATTR.upn, attribute: 'userPrincipalName' },
            { type: ATTR.role, value: 'staff', ifMemberOf: groupDn(GROUPS.staff) },
            { type: ATTR.role, value: 'team', ifMemberOf: groupDn(GROUPS.team) },
            { type: ATTR.role, value: 'admin', ifMemberOf: groupDn(GROUPS.admins) },
            { type: ATTR.login, attribute: 'userPrincipalName', transform: [{ replace: '@.*$' }] },
            { type: ATTR.tenant, value: 'corp' },
            // alice has no telephoneNumber: no claim at all, not an empty one.
            { type: ATTR.phone, attribute: 'telephoneNumber' },
            { type: ATTR.guid, attribute: 'objectGUID', transform: ['base64'] },
          ],
        },
      });
    });
    const md = await fetch(`${gh.url}/saml/metadata`);
    expect(md.status, 'Gatehouse serves its SAML 2.0 metadata').toBe(200);
    const idpMetadata = join(gh.dir, 'idp-metadata.xml');
    writeFileSync(idpMetadata, await md.text());
    sp.start(idpMetadata);
    spSigned.start(idpMetadata);
    spNoEncryption.start(idpMetadata);
    chromium = await launchChromium();
  }, 300_000);

  afterAll(async () => {
    await signedIn?.close();
    await chromium?.close();
    sp?.stop();
    spSigned?.stop();
    spNoEncryption?.stop();
    await gh?.close();
  });

  it('opens the protected page, signs in at Gatehouse, comes back, and reads the attributes from the claim rules', async () => {
    const context = await chromium.newContext();
    const page = await context.newPage();
    const log = watch(page);
    let text = '';
    try {
      await page.goto(`${sp.url}/secure`);
      // Shibboleth sent the browser to Gatehouse's SSO endpoint with an AuthnRequest.
      await page.waitForURL((u) => u.origin === gh.url && u.pathname.startsWith('/adfs/ls'), WAIT);
      await page.locator('#UserName').fill(alice.upn);
      await page.locator('#Password').fill(alice.password);
      await page.locator('#Password').press('Enter');
      await page.waitForURL(`${sp.url}/secure`, WAIT);
      text = (await page.textContent('body')) ?? '';
      const attrs = parseSecurePage(text);

      const guid = objectGuidBase64(alice.sam);
      expect(attrs.mail).toEqual([alice.mail.toUpperCase()]);
      expect(attrs.displayName).toEqual(['Alice Liddell']);
      expect(attrs.upn).toEqual([alice.upn]);
      expect(attrs.role?.sort()).toEqual(['staff', 'team']);
      expect(attrs.login).toEqual(['alice']);
      expect(attrs.tenant).toEqual(['corp']);
      expect(attrs.objectGUID).toEqual([guid]);
      expect(attrs).not.toHaveProperty('telephoneNumber');
      // The persistent NameID (ImmutableID by default), which the fixture also makes REMOTE_USER. CGI
      // turns '-' in variable names into '_'.
      expect(attrs.persistent_id).toEqual([guid]);
      expect(attrs.REMOTE_USER).toEqual([guid]);
      expect(attrs.Shib_Identity_Provider).toEqual([gh.config.issuer]);
      expect(attrs.Shib_AuthnContext_Class).toEqual(['urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport']);

      // The journey: SP page, Gatehouse (AuthnRequest by HTTP-Redirect), the password post, the
      // auto-post to the SP's ACS, and back to the page; nothing off loopback, no CSP violation.
      expect(log.navigations[0]).toBe(`GET ${sp.url}/secure`);
      expect(log.navigations.some((n) => n.startsWith(`GET ${gh.url}/adfs/ls/`) && n.includes('SAMLRequest='))).toBe(true);
      expect(log.navigations).toContain(`POST ${sp.url}/Shibboleth.sso/SAML2/POST`);
      expect(log.navigations.at(-1)).toBe(`GET ${sp.url}/secure`);
      expect(log.offLoopback).toEqual([]);
      expect(log.cspViolations).toEqual([]);
      signedIn = context;
    } catch (err) {
      await context.close();
      throw new Error(`${(err as Error).message}\n\n/secure:\n${text}\n\nnavigations:\n${log.navigations.join('\n')}\n\n${sp.logs()}`, { cause: err });
    }
  });

  it('signs in again without a password once the SP session is gone (Gatehouse single sign-on)', async () => {
    const context = signedIn!;
    // Both servers are on 127.0.0.1, and cookies do not care about ports: drop only Shibboleth's.
    await context.clearCookies({ name: /^_shib/ });
    const page = await context.newPage();
    const log = watch(page);
    try {
      await page.goto(`${sp.url}/secure`);
      await page.waitForURL(`${sp.url}/secure`, WAIT);
      expect(parseSecurePage((await page.textContent('body')) ?? '').upn).toEqual([alice.upn]);
      expect(log.navigations.some((n) => n.startsWith(`GET ${gh.url}/adfs/ls/`))).toBe(true);
      expect(log.navigations.filter((n) => n.startsWith(`POST ${gh.url}`))).toEqual([]);
    } catch (err) {
      throw new Error(`${(err as Error).message}\n\nnavigations:\n${log.navigations.join('\n')}\n\n${sp.logs()}`, { cause: err });
    }
  });

  it('accepts the AuthnRequests an SP signs (HTTP-Redirect), and gives an SP without rules the microsoft365 preset', async () => {
    const { attrs, navigations } = await signInAt(spSigned);
    const request = new URL(navigations.find((n) => n.includes('SAMLRequest='))!.slice('GET '.length));
    expect(request.searchParams.get('SigAlg')).toBe('http://www.w3.org/2001/04/xmldsig-more#rsa-sha256');
    expect(request.searchParams.get('Signature')).toBeTruthy();
    const guid = objectGuidBase64(alice.sam);
    // The preset: IDPEmail = UPN (Microsoft's SAML 2.0 name for it) and the ImmutableID, nothing else.
    expect(attrs.IDPEmail).toEqual([alice.upn]);
    expect(attrs.ImmutableID).toEqual([guid]);
    expect(attrs.persistent_id).toEqual([guid]);
    expect(Object.keys(attrs).filter((k) => !k.startsWith('Shib_')).sort()).toEqual(['IDPEmail', 'ImmutableID', 'REMOTE_USER', 'persistent_id']);
  });

  // The metadata's only KeyDescriptor says use="signing": Gatehouse must not encrypt to that key (it once
  // did, through samlify's getX509Certificate('encryption')), so the assertion goes out signed, unencrypted.
  it('signs alice in at an SP whose metadata has a signing key only (no encryption)', async () => {
    const { attrs } = await signInAt(spNoEncryption);
    expect(attrs.IDPEmail).toEqual([alice.upn]);
    const issued = gh.logs.filter((l) => l.event === 'token_issued' && l.realm === spNoEncryption.entityId);
    expect(issued.at(-1)?.encrypted).toBe(false);
  });
});

