import { LocalCredentialLimiter, type CredentialAllowance } from '../../src/state/credential-limits.js';
import Database from 'better-sqlite3';
import { SmartLockout } from '../../src/lockout/lockout.js';
import { LockoutStore } from '../../src/lockout/lockout-store.js';
import { SqliteReplayCache } from '../../src/state/replay-cache.js';
import { PasswordVerifier } from '../../src/authn/password-check.js';
import { Writable } from 'node:stream';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { XMLSerializer } from '@xmldom/xmldom';
import pino from 'pino';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGatehouse, baseConfig, type RunningGatehouse } from '../support/gatehouse.js';
import { DC, USERS, objectGuidBase64, samba, searchAsService } from '../support/directory.js';
import { freshUser } from '../support/users.js';
import { attributes, expectMicrosoft365Subject, metadataSigningCert } from '../support/wsfed.js';
import { SAML11_ID, xmlsecVerify } from '../support/xml.js';
import Fastify, { type FastifyInstance } from 'fastify';
import { loadConfig } from '../../src/config/load.js';
import { Directory } from '../../src/directory/directory.js';
import { loadSigningKey } from '../../src/keys/keystore.js';
import { wsTrustRoutes } from '../../src/protocols/wstrust/routes.js';
import { RelyingPartyRegistry } from '../../src/relying-parties/registry.js';
import { V13, V2005, buildRst, count, fault, postSoap, value, type Version } from './soap-client.js';

const M365 = 'urn:federation:MicrosoftOnline';
const MINUTE = 60_000;

let gh: RunningGatehouse;
let metadataCert: string;

beforeAll(async () => {
  gh = await startGatehouse();
  metadataCert = await metadataSigningCert(gh.url);
});
afterAll(async () => gh?.close());

const endpoint = (v: Version, base = gh.url) => `${base}${v.path}`;

function send(v: Version, opts: Partial<Parameters<typeof buildRst>[1]> & { username: string; password: string }) {
  return postSoap(endpoint(v), buildRst(v, { baseUrl: gh.url, ...opts }));
}

/** The RSTR inside the answer: wrapped in a collection for 1.3, bare for 2005. */
function rstrPath(v: Version): string {
  const p = v === V13 ? 'trust' : 't';
  return v === V13
    ? `/s:Envelope/s:Body/${p}:RequestSecurityTokenResponseCollection/${p}:RequestSecurityTokenResponse`
    : `/s:Envelope/s:Body/${p}:RequestSecurityTokenResponse`;
}

async function expectFault(
  res: Awaited<ReturnType<typeof postSoap>>,
  v: Version,
  subcode: 'FailedAuthentication' | 'InvalidRequest',
): Promise<void> {
  expect(res.status, res.body).toBe(500);
  expect(res.contentType).toMatch(/^application\/soap\+xml/);
  expect(fault(res.doc)).toMatchObject({ code: 's:Sender', subcode, subcodeNs: v.trustNs });
  expect(res.body).not.toContain('Assertion');
}

describe.each([V13, V2005])('WS-Trust $name usernamemixed', (v) => {
  const p = v === V13 ? 'trust' : 't';

  it('issues a signed SAML 1.1 token for alice that xmlsec1 verifies, with the same claims as WS-Federation', async () => {
    const before = Date.now();
    const messageId = `urn:uuid:${crypto.randomUUID()}`;
    const res = await send(v, { username: USERS.alice.upn, password: USERS.alice.password, messageId });
    expect(res.status, res.body).toBe(200);
    expect(res.contentType).toBe('application/soap+xml; charset=utf-8');
    expect(res.headers.get('cache-control')).toBe('no-store');
    const doc = res.doc;

    // SOAP header: Action, RelatesTo, Security/Timestamp
    expect(value(doc, '/s:Envelope/s:Header/a:Action')).toBe(v.responseAction);
    expect(value(doc, '/s:Envelope/s:Header/a:Action/@s:mustUnderstand')).toBe('1');
    expect(value(doc, '/s:Envelope/s:Header/a:RelatesTo')).toBe(messageId);
    const tsCreated = Date.parse(value(doc, '/s:Envelope/s:Header/o:Security/u:Timestamp/u:Created')!);
    const tsExpires = Date.parse(value(doc, '/s:Envelope/s:Header/o:Security/u:Timestamp/u:Expires')!);
    expect(tsCreated).toBeGreaterThanOrEqual(before - 1000);
    expect(tsExpires).toBeGreaterThan(tsCreated);

    // The RSTR
    const R = rstrPath(v);
    expect(count(doc, R)).toBe(1);
    expect(value(doc, `${R}/${p}:TokenType`)).toBe('urn:oasis:names:tc:SAML:1.0:assertion');
    expect(value(doc, `${R}/${p}:RequestType`)).toBe(v.requestType);
    expect(value(doc, `${R}/${p}:KeyType`)).toBe(v.keyType);
    expect(value(doc, `${R}/wsp:AppliesTo/a:EndpointReference/a:Address`)).toBe(M365);
    const lifeCreated = Date.parse(value(doc, `${R}/${p}:Lifetime/u:Created`)!);
    const lifeExpires = Date.parse(value(doc, `${R}/${p}:Lifetime/u:Expires`)!);
    expect(lifeExpires - lifeCreated).toBe(3600_000);
    expect(count(doc, '//saml:Assertion')).toBe(1);
    const A = `${R}/${p}:RequestedSecurityToken/saml:Assertion`;
    const assertionId = value(doc, `${A}/@AssertionID`)!;
    expect(assertionId).toMatch(/^_[0-9a-f]{32}$/);
    for (const ref of ['RequestedAttachedReference', 'RequestedUnattachedReference']) {
      const K = `${R}/${p}:${ref}/o:SecurityTokenReference/o:KeyIdentifier`;
      expect(value(doc, K)).toBe(assertionId);
      expect(value(doc, `${K}/@ValueType`)).toBe('http://docs.oasis-open.org/wss/oasis-wss-saml-token-profile-1.0#SAMLAssertionID');
      expect(value(doc, `${R}/${p}:${ref}/o:SecurityTokenReference/@k:TokenType`)).toBe(
        'http://docs.oasis-open.org/wss/oasis-wss-saml-token-profile-1.1#SAMLV1.1',
      );
    }

    // The signature verifies in place, and on the assertion cut out of the envelope (what MSAL forwards).
    const inPlace = xmlsecVerify(res.body, metadataCert, SAML11_ID);
    expect(inPlace.ok, inPlace.output).toBe(true);
    const assertionXml = new XMLSerializer().serializeToString((doc.getElementsByTagNameNS('urn:oasis:names:tc:SAML:1.0:assertion', 'Assertion')[0]!) as never);
    const alone = xmlsecVerify(assertionXml, metadataCert, SAML11_ID);
    expect(alone.ok, alone.output).toBe(true);
    expect(xmlsecVerify(res.body.replace(USERS.alice.upn, USERS.bob.upn), metadataCert, SAML11_ID).ok).toBe(false);

    // Claim by claim, as in test/wsfed-signin
    expect(value(doc, `${A}/@Issuer`)).toBe('http://127.0.0.1/adfs/services/trust');
    expect(value(doc, `${A}/@MajorVersion`)).toBe('1');
    expect(value(doc, `${A}/@MinorVersion`)).toBe('1');
    const issued = Date.parse(value(doc, `${A}/@IssueInstant`)!);
    expect(issued).toBeGreaterThanOrEqual(before - 1000);
    expect(issued).toBeLessThanOrEqual(Date.now() + 1000);
    expect(Date.parse(value(doc, `${A}/saml:Conditions/@NotOnOrAfter`)!) - issued).toBe(3600_000);
    expect(Date.parse(value(doc, `${A}/saml:Conditions/@NotBefore`)!)).toBeLessThanOrEqual(issued);
    expect(value(doc, `${A}/saml:Conditions/saml:AudienceRestrictionCondition/saml:Audience`)).toBe(M365);
    const immutableId = objectGuidBase64('alice');
    expectMicrosoft365Subject((path) => value(doc, path), doc, A, USERS.alice.upn, immutableId);
    // The password travelled in the message: SAML's password method, as ADFS writes for usernamemixed.
    expect(value(doc, `${A}/saml:AuthenticationStatement/@AuthenticationMethod`)).toBe('urn:oasis:names:tc:SAML:1.0:am:password');
    expect(Date.parse(value(doc, `${A}/saml:AuthenticationStatement/@AuthenticationInstant`)!)).toBeGreaterThanOrEqual(before - 1000);
    expect(count(doc, '//ds:Signature')).toBe(1);
    expect(value(doc, `${A}/ds:Signature/ds:SignedInfo/ds:Reference/@URI`)).toBe(`#${assertionId}`);
  });

  it('accepts the DOMAIN\\name form and answers with the UPN (content type with an action parameter)', async () => {
    const body = buildRst(v, { baseUrl: gh.url, username: `CORP\\${USERS.alice.sam}`, password: USERS.alice.password });
    const res = await postSoap(endpoint(v), body, `application/soap+xml; charset=utf-8; action="${v.action}"`);
    expect(res.status, res.body).toBe(200);
    expect(attributes(res.doc)['http://schemas.xmlsoap.org/claims/UPN']).toEqual([USERS.alice.upn]);
  });
});

describe('credentials refused: FailedAuthentication, the same answer whatever the reason', () => {
  // Wrong passwords go to users of this file only (see freshUser), so bob and ivan, whom other files
  // sign in as, never carry a bad-password count (this file used to clear theirs with an unlock).
  const own = ['wstrust-wrongpw13', 'wstrust-wrongpw05'];
  beforeAll(() => own.forEach((sam) => freshUser(sam, 'Passw0rd!Temp1x')));
  afterAll(() => own.forEach((sam) => samba('user', 'delete', sam)));
  const reasons: string[] = [];
  it.each([
    ['wrong password (1.3)', V13, `${own[0]}@${DC.realm}`, 'not-the-password'],
    ['wrong password (2005)', V2005, `${own[1]}@${DC.realm}`, 'not-the-password'],
    ['disabled account with its right password (carol, 1.3)', V13, USERS.carol.upn, USERS.carol.password],
    ['disabled account with its right password (carol, 2005)', V2005, USERS.carol.upn, USERS.carol.password],
    ['unknown user (1.3)', V13, 'nobody@corp.example.test', 'whatever1!'],
    ['unknown user (2005)', V2005, 'nobody@corp.example.test', 'whatever1!'],
    ['empty password (2005)', V2005, USERS.alice.upn, ''],
  ] as const)('%s', async (_name, v, username, password) => {
    const messageId = `urn:uuid:${crypto.randomUUID()}`;
    const res = await send(v, { username, password, messageId });
    await expectFault(res, v, 'FailedAuthentication');
    expect(value(res.doc, '/s:Envelope/s:Header/a:RelatesTo')).toBe(messageId);
    expect(value(res.doc, '/s:Envelope/s:Header/a:Action')).toBe('http://www.w3.org/2005/08/addressing/soap/fault');
    reasons.push(fault(res.doc).reason!);
  });

  it('gave one and the same reason text for all of them', () => {
    expect(reasons).toHaveLength(7);
    expect(new Set(reasons).size).toBe(1);
    expect(reasons[0]).not.toMatch(/disabled|unknown|password/i);
  });
});

describe('malformed, stale or misdirected messages: InvalidRequest, and the directory is never asked', () => {
  const now = Date.now();
  const badPwdCount = () => /badPwdCount: (\d+)/.exec(searchAsService('(sAMAccountName=bob)', ['badPwdCount']))?.[1];

  it.each([
    ['expired timestamp', { created: new Date(now - 20 * MINUTE), expires: new Date(now - 10 * MINUTE) }],
    ['timestamp created in the future', { created: new Date(now + 10 * MINUTE), expires: new Date(now + 20 * MINUTE) }],
    ['timestamp too old, however long it claims to last', { created: new Date(now - 60 * MINUTE), expires: new Date(now + 60 * MINUTE) }],
    ['no timestamp', { noTimestamp: true }],
    ['no Security header', { noSecurity: true }],
    ['wsa:To another host', { to: 'https://sts.evil.example/adfs/services/trust/13/usernamemixed' }],
    ['unknown AppliesTo', { appliesTo: 'urn:not:registered' }],
  ] as const)('%s (both versions)', async (_name, opts) => {
    const before = badPwdCount();
    for (const v of [V13, V2005]) {
      // bob's wrong password: had the message reached the directory, badPwdCount would move.
      const res = await send(v, { username: USERS.bob.upn, password: 'not-the-password', ...opts });
      await expectFault(res, v, 'InvalidRequest');
    }
    expect(badPwdCount()).toBe(before);
  });

  it('a message for the other version\'s endpoint (wsa:To, Action) is refused', async () => {
    const res = await postSoap(endpoint(V13), buildRst(V2005, { baseUrl: gh.url, username: USERS.alice.upn, password: USERS.alice.password }));
    await expectFault(res, V13, 'InvalidRequest');
    const to13 = await send(V2005, { username: USERS.alice.upn, password: USERS.alice.password, to: endpoint(V13) });
    await expectFault(to13, V2005, 'InvalidRequest');
  });

  it('malformed XML, a SOAP 1.1 envelope, a wrong content type and an oversized body', async () => {
    const good = buildRst(V13, { baseUrl: gh.url, username: USERS.alice.upn, password: USERS.alice.password });
    await expectFault(await postSoap(endpoint(V13), good.slice(0, -20)), V13, 'InvalidRequest');
    await expectFault(await postSoap(endpoint(V13), 'not xml at all'), V13, 'InvalidRequest');
    const soap11 = good.replaceAll('http://www.w3.org/2003/05/soap-envelope', 'http://schemas.xmlsoap.org/soap/envelope/');
    await expectFault(await postSoap(endpoint(V13), soap11, 'text/xml; charset=utf-8'), V13, 'InvalidRequest');
    await expectFault(await postSoap(endpoint(V13), JSON.stringify({ a: 1 }), 'application/json'), V13, 'InvalidRequest');
    await expectFault(await postSoap(endpoint(V13), 'x', 'application/x-www-form-urlencoded'), V13, 'InvalidRequest');
    const huge = good.replace('<s:Body>', `<s:Body><!--${'x'.repeat(70 * 1024)}-->`);
    await expectFault(await postSoap(endpoint(V2005), huge), V2005, 'InvalidRequest');
    // A duplicated UsernameToken is ambiguous: refused, not "first one wins".
    const twice = good.replace(/(<o:UsernameToken[\s\S]*<\/o:UsernameToken>)/, '$1$1');
    await expectFault(await postSoap(endpoint(V13), twice), V13, 'InvalidRequest');
  });

  it('an unknown header marked mustUnderstand gets a MustUnderstand fault', async () => {
    const res = await send(V13, {
      username: USERS.alice.upn,
      password: USERS.alice.password,
      extraHeaders: '<x:Mystery xmlns:x="urn:mystery" s:mustUnderstand="1">?</x:Mystery>',
    });
    expect(res.status).toBe(500);
    expect(fault(res.doc).code).toBe('s:MustUnderstand');
    expect(res.body).not.toContain('Assertion');
  });

  it('XXE: a DOCTYPE with an external entity is refused and nothing is read or expanded', async () => {
    for (const v of [V13, V2005]) {
      const rst = buildRst(v, { baseUrl: gh.url, username: 'PLACEHOLDER', password: USERS.alice.password });
      const xxe =
        '<?xml version="1.0"?><!DOCTYPE s:Envelope [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>' + rst.replace('PLACEHOLDER', '&xxe;');
      const res = await postSoap(endpoint(v), xxe);
      await expectFault(res, v, 'InvalidRequest');
      expect(res.body).not.toMatch(/root:|\/bin\//);
      // Lower case, parameter entities: still a DTD.
      const sneaky = '<!doctype x [<!ENTITY % p SYSTEM "file:///etc/passwd"> %p;]>' + rst;
      await expectFault(await postSoap(endpoint(v), sneaky), v, 'InvalidRequest');
    }
  });

  it('billion laughs is refused at once, nothing expanded', async () => {
    let dtd = '<!ENTITY lol0 "lol">';
    for (let i = 1; i <= 9; i++) dtd += `<!ENTITY lol${i} "${`&lol${i - 1};`.repeat(10)}">`;
    const rst = buildRst(V13, { baseUrl: gh.url, username: 'PLACEHOLDER', password: 'x' });
    const bomb = `<?xml version="1.0"?><!DOCTYPE s:Envelope [${dtd}]>${rst.replace('PLACEHOLDER', '&lol9;')}`;
    const started = performance.now();
    const res = await postSoap(endpoint(V13), bomb);
    expect(performance.now() - started).toBeLessThan(1000);
    await expectFault(res, V13, 'InvalidRequest');
    expect(res.body.length).toBeLessThan(2000);
    expect(res.body).not.toContain('lollol');
  });
});

describe('directory down', () => {
  it('answers a Receiver fault saying the directory is unavailable, with Retry-After', async () => {
    const down = await startGatehouse((c) => {
      c.directory.urls = ['ldap://127.0.0.1:1'];
      c.directory.timeoutMs = 500;
    });
    try {
      for (const v of [V13, V2005]) {
        const res = await postSoap(endpoint(v, down.url), buildRst(v, { baseUrl: down.url, username: USERS.alice.upn, password: USERS.alice.password }));
        expect(res.status).toBe(500);
        expect(fault(res.doc)).toMatchObject({ code: 's:Receiver', subcode: undefined });
        expect(fault(res.doc).reason).toMatch(/directory is unavailable/i);
        expect(res.headers.get('retry-after')).toBe('30');
        expect(res.body).not.toContain('Assertion');
      }
    } finally {
      await down.close();
    }
  });
});

describe('logging', () => {
  it('never writes the password, in success, refusal or malformed messages', async () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk, _enc, cb) {
        lines.push(String(chunk));
        cb();
      },
    });
    const dir = mkdtempSync(join(tmpdir(), 'gatehouse-wstrust-log-'));
    const file = join(dir, 'gatehouse.yaml');
    writeFileSync(file, stringify(baseConfig(dir)));
    const config = loadConfig({ file, env: {} });
    const log = pino({ level: 'trace' }, sink);
    const directory = new Directory(config.directory, log);
    // Only the WS-Trust plugin, and without the app's log redaction: it must not log the password itself.
    const app = Fastify({ loggerInstance: log });
    const lockout = new SmartLockout('enforce', { threshold: 2, familiarThreshold: 2, observationWindowMs: 60_000, maxFamiliarAddresses: 20, adThreshold: 0, adObservationWindowMs: 0 }, new LockoutStore(new Database(':memory:')));
    app.decorate('gatehouse', {
      config,
      directory,
      signingKey: loadSigningKey(config.signing.certFile, config.signing.keyFile),
      relyingParties: new RelyingPartyRegistry(config.relyingParties),
      lockout,
      passwords: new PasswordVerifier(directory, lockout),
      state: { replay: new SqliteReplayCache(new Database(':memory:')), credentialLimiter: (a: CredentialAllowance) => new LocalCredentialLimiter(a) },
    } as unknown as FastifyInstance['gatehouse']);
    await app.register(wsTrustRoutes);
    const secret = 'S3cret-Pa55word-Never-Logged';
    try {
      const post = (v: Version, payload: string) =>
        app.inject({ method: 'POST', url: v.path, headers: { 'content-type': 'application/soap+xml; charset=utf-8' }, payload });
      const base = config.publicUrl;
      const ok = await post(V13, buildRst(V13, { baseUrl: base, username: USERS.alice.upn, password: USERS.alice.password }));
      expect(ok.statusCode, ok.body).toBe(200);
      // Unknown user (no bind, so nobody's bad-password count moves) with the secret as password.
      await post(V2005, buildRst(V2005, { baseUrl: base, username: 'nobody@corp.example.test', password: secret }));
      await post(V13, buildRst(V13, { baseUrl: base, username: 'nobody@corp.example.test', password: secret, noTimestamp: true }));
      await post(V13, buildRst(V13, { baseUrl: base, username: 'nobody', password: secret }).slice(0, -30));
      // A bare '&' (a client that forgot to escape) makes the XML malformed around the password itself.
      await post(V13, buildRst(V13, { baseUrl: base, username: 'nobody', password: 'PLACEHOLDER' }).replace('PLACEHOLDER', `${secret}&broken`));
      // An unescaped '<' inside the password: xmldom's complaint quotes the text after it.
      await post(V13, buildRst(V13, { baseUrl: base, username: 'nobody', password: 'PLACEHOLDER' }).replace('PLACEHOLDER', 'Hunter2<Zq9Secretfrag'));
    } finally {
      await app.close();
      await directory.close();
    }
    const all = lines.join('');
    expect(all).toContain('WS-Trust token issued');
    expect(all).toContain('wstrust_fault');
    expect(all).not.toContain(secret);
    expect(all).not.toContain(USERS.alice.password);
    expect(all).not.toContain('Zq9Secretfrag');
  });
});
