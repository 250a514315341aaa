// Single logout across two SAML 2.0 SPs (two @node-saml/node-saml instances registered from their
// metadata), started by one of them (HTTP-Redirect) or by WS-Federation sign-out, against the Samba DC.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Browser, type Page } from '../support/http.js';
import { objectGuidBase64 } from '../support/directory.js';
import { startGatehouse, testKeys, TEST_RP, type RunningGatehouse } from '../support/gatehouse.js';
import { xmlsecVerify, parseXml } from '../support/xml.js';
import { makeSp, type TestSp } from './sp.js';
import { decodeSaml, deflate64, expectErrorPage, follow, posted, redirectUrlOf, SAML2_LOGOUT_RESPONSE_ID, STATUS, statusOf, val } from './support.js';

let gh: RunningGatehouse;
let sp1: TestSp;
let sp2: TestSp;
/** A SAML application without a SingleLogoutService in its metadata: Gatehouse cannot tell it of a logout. */
let sp3: TestSp;
const idpCert = () => testKeys().certPem;

beforeAll(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'saml2-slo-'));
  // SP1 takes logout messages by HTTP-POST (node-saml's metadata), SP2 by HTTP-Redirect.
  sp1 = makeSp(dir, 'sp-one', idpCert(), 'http://placeholder/adfs/ls/', { signRequests: true });
  sp2 = makeSp(dir, 'sp-two', idpCert(), 'http://placeholder/adfs/ls/', {
    signRequests: true,
    editMetadata: (xml) => xml.replace('<SingleLogoutService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"', '<SingleLogoutService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect"'),
  });
  sp3 = makeSp(dir, 'sp-three', idpCert(), 'http://placeholder/adfs/ls/', {
    editMetadata: (xml) => {
      const without = xml.replace(/<SingleLogoutService\b[^>]*?(\/>|>[\s\S]*?<\/SingleLogoutService>)/g, '');
      expect(without).not.toContain('SingleLogoutService');
      return without;
    },
  });
  gh = await startGatehouse((cfg) => {
    cfg.relyingParties.push({ id: sp1.entityId, name: 'SP one', protocol: 'saml2', metadataFile: sp1.metadataFile });
    cfg.relyingParties.push({ id: sp2.entityId, name: 'SP two', protocol: 'saml2', metadataFile: sp2.metadataFile });
    cfg.relyingParties.push({ id: sp3.entityId, name: 'SP three', protocol: 'saml2', metadataFile: sp3.metadataFile });
  });
  for (const sp of [sp1, sp2, sp3]) {
    sp.saml.options.entryPoint = `${gh.url}/adfs/ls/`;
    sp.saml.options.logoutUrl = `${gh.url}/adfs/ls/`;
    sp.saml.options.idpIssuer = gh.config.issuer;
  }
});
afterAll(async () => gh?.close());

/** alice signs in at both SPs in one browser (one Gatehouse session); each SP's profile (for its logout). */
async function signInBoth(b: Browser) {
  const p1 = posted((await follow(gh, b, await b.get(await redirectUrlOf(sp1)))).page);
  const { profile: profile1 } = await sp1.saml.validatePostResponseAsync({ SAMLResponse: p1.b64 });
  const second = await follow(gh, b, await b.get(await redirectUrlOf(sp2)));
  expect(second.prompted).toBe(false);
  const { profile: profile2 } = await sp2.saml.validatePostResponseAsync({ SAMLResponse: posted(second.page).b64 });
  expect(profile1?.sessionIndex).toBeTruthy();
  expect(profile2?.sessionIndex).toBe(profile1?.sessionIndex);
  return { profile1: profile1!, profile2: profile2! };
}

const location = (page: Page) => {
  expect([302, 303], page.body.slice(0, 200)).toContain(page.status);
  return new URL(page.headers.get('location')!, gh.url).toString();
};
const queryOf = (url: string) => Object.fromEntries(new URL(url).searchParams) as Record<string, string>;
const rawQuery = (url: string) => url.slice(url.indexOf('?') + 1);

/** SP2 receives Gatehouse's LogoutRequest (HTTP-Redirect), validates it and answers with its LogoutResponse URL. */
async function sp2Answers(toSp2: string): Promise<string> {
  expect(toSp2.startsWith(`${sp2.slo}?`)).toBe(true);
  const q = queryOf(toSp2);
  expect(q.SigAlg).toBe('http://www.w3.org/2001/04/xmldsig-more#rsa-sha256');
  expect(q.Signature).toBeTruthy();
  const request = parseXml(decodeSaml(q.SAMLRequest!));
  expect(val(request, '/samlp:LogoutRequest/saml:Issuer')).toBe(gh.config.issuer);
  expect(val(request, '/samlp:LogoutRequest/saml:NameID')).toBe(objectGuidBase64('alice'));
  expect(val(request, '/samlp:LogoutRequest/@Destination')).toBe(sp2.slo);
  // node-saml checks the query signature against the IdP certificate, the issuer and the timestamps.
  const { profile, loggedOut } = await sp2.saml.validateRedirectAsync(q, rawQuery(toSp2));
  expect(loggedOut).toBe(true);
  expect(profile?.nameID).toBe(objectGuidBase64('alice'));
  return sp2.saml.getLogoutResponseUrlAsync(profile!, q.RelayState ?? '', {}, true);
}

/** SP1 starts a logout by HTTP-Redirect; returns where Gatehouse sends the browser next (SP2's LogoutRequest). */
async function sp1StartsLogout(b: Browser, relayState: string) {
  const { profile1 } = await signInBoth(b);
  const logoutUrl = await sp1.saml.getLogoutUrlAsync(profile1, relayState, {});
  const sp1RequestId = val(parseXml(decodeSaml(queryOf(logoutUrl).SAMLRequest!)), '/samlp:LogoutRequest/@ID');
  const toSp2 = location(await b.get(logoutUrl));
  expect(b.cookies.has(gh.config.session.cookieName)).toBe(false);
  return { toSp2, sp1RequestId };
}

/** The final LogoutResponse Gatehouse POSTs to SP1: signed, answering SP1's request, with this status. */
function expectFinalAnswer(page: Page, sp1RequestId: string | undefined, relayState: string, status: ReturnType<typeof statusOf>) {
  const final = posted(page, 'SAMLResponse');
  expect(final.action).toBe(sp1.slo);
  expect(final.fields.RelayState).toBe(relayState);
  expect(val(final.doc, '/samlp:LogoutResponse/@InResponseTo')).toBe(sp1RequestId);
  expect(statusOf(final.doc)).toEqual(status);
  const v = xmlsecVerify(final.xml, idpCert(), SAML2_LOGOUT_RESPONSE_ID);
  expect(v.ok, v.output).toBe(true);
}

const PARTIAL = { code: STATUS.success, subCode: 'urn:oasis:names:tc:SAML:2.0:status:PartialLogout' };

describe('single logout', () => {
  it('SP1 logs out by HTTP-Redirect: the session ends, SP2 is told (Redirect) and answers, SP1 gets the final LogoutResponse (POST, signed)', async () => {
    const b = new Browser();
    const { profile1 } = await signInBoth(b);
    const logoutUrl = await sp1.saml.getLogoutUrlAsync(profile1, 'slo-relay', {});
    expect(queryOf(logoutUrl).Signature).toBeTruthy();
    const sp1RequestId = val(parseXml(decodeSaml(queryOf(logoutUrl).SAMLRequest!)), '/samlp:LogoutRequest/@ID');

    // 1. Gatehouse ends its session and sends SP2 a LogoutRequest.
    const toSp2 = location(await b.get(logoutUrl));
    expect(b.cookies.has(gh.config.session.cookieName)).toBe(false);
    // 2. SP2 answers; 3. Gatehouse answers SP1.
    const sp2Response = await sp2Answers(toSp2);
    expect(sp2Response.startsWith(`${gh.url}/adfs/ls/?SAMLResponse=`)).toBe(true);
    const final = posted(await b.get(sp2Response), 'SAMLResponse');
    expect(final.action).toBe(sp1.slo);
    expect(final.fields.RelayState).toBe('slo-relay');
    expect(val(final.doc, '/samlp:LogoutResponse/@InResponseTo')).toBe(sp1RequestId);
    expect(val(final.doc, '/samlp:LogoutResponse/@Destination')).toBe(sp1.slo);
    expect(statusOf(final.doc)).toEqual({ code: STATUS.success, subCode: undefined });
    const v = xmlsecVerify(final.xml, idpCert(), SAML2_LOGOUT_RESPONSE_ID);
    expect(v.ok, v.output).toBe(true);
    // node-saml looks for InResponseTo on a root named Response only, so with 'always' it calls every POSTed
    // LogoutResponse "missing InResponseTo"; checked above instead, and node-saml checks the rest (signature, status).
    sp1.saml.options.validateInResponseTo = 'ifPresent' as never;
    try {
      const { loggedOut } = await sp1.saml.validatePostResponseAsync({ SAMLResponse: final.b64 });
      expect(loggedOut).toBe(true);
    } finally {
      sp1.saml.options.validateInResponseTo = 'always' as never;
    }

    // The Gatehouse session is gone: the next sign-in asks for the password.
    expect((await follow(gh, b, await b.get(await redirectUrlOf(sp1)))).prompted).toBe(true);
    expect(gh.logs.filter((l) => l.event === 'slo_done').at(-1)).toMatchObject({ origin: sp1.entityId, partial: false });
  });

  it('a LogoutRequest whose signature does not verify is refused and the session stays', async () => {
    const b = new Browser();
    const { profile1 } = await signInBoth(b);
    const url = await sp1.saml.getLogoutUrlAsync(profile1, 'r', {});
    const tampered = url.replace(/RelayState=r(&|$)/, 'RelayState=evil$1');
    expect(tampered).not.toBe(url);
    const page = await b.get(tampered);
    // A logout error is called one: never "the sign-in request".
    expectErrorPage(page, 400, /sign-out request is not correctly signed/);
    expect(page.body).not.toMatch(/sign-in request/);
    expect((await follow(gh, b, await b.get(await redirectUrlOf(sp1)))).prompted).toBe(false);
  });

  it.each([
    ['another NameID', (p: Record<string, any>) => ({ ...p, nameID: objectGuidBase64('bob') })],
    ['another SessionIndex', (p: Record<string, any>) => ({ ...p, sessionIndex: '_0123456789abcdef0123456789abcdef' })],
  ])('a signed LogoutRequest naming %s keeps the session and answers Requester/UnknownPrincipal', async (_what, change) => {
    const b = new Browser();
    const { profile1 } = await signInBoth(b);
    const url = await sp1.saml.getLogoutUrlAsync(change(profile1) as typeof profile1, 'not-mine', {});
    const answer = posted(await b.get(url), 'SAMLResponse');
    expect(answer.action).toBe(sp1.slo);
    expect(answer.fields.RelayState).toBe('not-mine');
    expect(statusOf(answer.doc)).toEqual({ code: STATUS.requester, subCode: 'urn:oasis:names:tc:SAML:2.0:status:UnknownPrincipal' });
    expect(b.cookies.has(gh.config.session.cookieName)).toBe(true);
    expect((await follow(gh, b, await b.get(await redirectUrlOf(sp1)))).prompted).toBe(false);
    expect(gh.logs.some((l) => l.event === 'slo_not_this_session')).toBe(true);
  });

  it('WS-Federation sign-out (wsignout1.0) logs the session out of its SAML SPs too, then returns to wreply', async () => {
    const b = new Browser();
    await signInBoth(b);
    // A WS-Fed sign-in in the same session.
    const wsfed = await b.get(`${gh.url}/adfs/ls/?wa=wsignin1.0&wtrealm=${encodeURIComponent(TEST_RP.id)}`);
    expect(wsfed.form().fields.wresult).toBeTruthy();

    const wreply = TEST_RP.replyUrls[0]!;
    const logged = gh.logs.length;
    let page = await b.get(`${gh.url}/adfs/ls/?wa=wsignout1.0&wreply=${encodeURIComponent(wreply)}`);
    expect(b.cookies.has(gh.config.session.cookieName)).toBe(false);
    // The first hop of the chain is the whole answer: no second answer (wreply, the signed-out page) tried.
    expect(gh.logs.slice(logged).filter((l) => l.err?.code === 'FST_ERR_REP_ALREADY_SENT')).toEqual([]);
    // The chain visits each SAML SP of the session: SP1 by a signed POST, SP2 by a signed Redirect.
    const told: string[] = [];
    let next = '';
    for (let hop = 0; hop < 4; hop++) {
      if (page.status === 200) {
        const req = posted(page, 'SAMLRequest');
        expect(req.action).toBe(sp1.slo);
        told.push('sp1');
        const { profile } = await sp1.saml.validatePostRequestAsync({ SAMLRequest: req.b64 });
        expect(profile?.nameID).toBe(objectGuidBase64('alice'));
        page = await b.get(await sp1.saml.getLogoutResponseUrlAsync(profile!, '', {}, true));
        continue;
      }
      next = location(page);
      if (next === wreply) break;
      told.push('sp2');
      page = await b.get(await sp2Answers(next));
    }
    expect(told.sort()).toEqual(['sp1', 'sp2']);
    expect(next).toBe(wreply);
    expect((await follow(gh, b, await b.get(await redirectUrlOf(sp2)))).prompted).toBe(true);
  });

  // An answer Gatehouse refuses for its form (pysaml2 7's XML-signed HTTP-Redirect LogoutResponse) is
  // tested with pysaml2 itself in pysaml2.test.ts.
  describe('one relying party failing does not stop the logout: the initiator gets PartialLogout', () => {
    it('SP2 answers with a failure status (Responder)', async () => {
      const b = new Browser();
      const { toSp2, sp1RequestId } = await sp1StartsLogout(b, 'relay-responder');
      const q = queryOf(toSp2);
      const { profile } = await sp2.saml.validateRedirectAsync(q, rawQuery(toSp2));
      const failed = await sp2.saml.getLogoutResponseUrlAsync(profile!, '', {}, false);
      expect(statusOf(parseXml(decodeSaml(queryOf(failed).SAMLResponse!))).code).not.toBe(STATUS.success);
      expectFinalAnswer(await b.get(failed), sp1RequestId, 'relay-responder', PARTIAL);
    });

    it('SP2 sends back something unreadable, or an answer to another request (its own answer is missing)', async () => {
      for (const broken of [
        (_url: string) => `${gh.url}/adfs/ls/?SAMLResponse=${encodeURIComponent(deflate64('<not-saml/>'))}`,
        (url: string) => url.replace(/SAMLResponse=[^&]+/, `SAMLResponse=${encodeURIComponent(deflate64(decodeSaml(queryOf(url).SAMLResponse!).replace(/InResponseTo="[^"]+"/, 'InResponseTo="_someone_else"')))}`),
      ]) {
        const b = new Browser();
        const { toSp2, sp1RequestId } = await sp1StartsLogout(b, 'relay-broken');
        const logged = gh.logs.length;
        expectFinalAnswer(await b.get(broken(await sp2Answers(toSp2))), sp1RequestId, 'relay-broken', PARTIAL);
        expect(gh.logs.slice(logged).some((l) => l.event === 'slo_response_refused' && l.realm === sp2.entityId)).toBe(true);
      }
    });

    it('a SAML application of the session that has no SingleLogoutService: the others are told, the initiator gets PartialLogout', async () => {
      const b = new Browser();
      const { profile1 } = await signInBoth(b);
      const third = await follow(gh, b, await b.get(await redirectUrlOf(sp3)));
      expect(third.prompted).toBe(false);
      expect(posted(third.page).action).toBe(sp3.acs);
      const logged = gh.logs.length;
      const logoutUrl = await sp1.saml.getLogoutUrlAsync(profile1, 'relay-no-slo', {});
      const sp1RequestId = val(parseXml(decodeSaml(queryOf(logoutUrl).SAMLRequest!)), '/samlp:LogoutRequest/@ID');
      const toSp2 = location(await b.get(logoutUrl));
      expect(b.cookies.has(gh.config.session.cookieName)).toBe(false);
      expectFinalAnswer(await b.get(await sp2Answers(toSp2)), sp1RequestId, 'relay-no-slo', PARTIAL);
      const logs = gh.logs.slice(logged);
      expect(logs.find((l) => l.event === 'slo_not_told')).toMatchObject({ realm: sp3.entityId });
      expect(logs.filter((l) => l.event === 'slo_done').at(-1)).toMatchObject({ origin: sp1.entityId, partial: true });
    });

    it('an unreadable LogoutResponse outside any logout chain is a sign-out error, never called a sign-in error', async () => {
      const page = await new Browser().get(`${gh.url}/adfs/ls/?SAMLResponse=${encodeURIComponent(deflate64('<not-saml/>'))}`);
      expect(page.status).toBe(400);
      expect(page.body).toMatch(/sign-out request is not valid/);
      expect(page.body).not.toMatch(/sign-in request/);
    });
  });
});
