// The three protocols run through the same sign-in pipeline (src/pipeline/chain.ts): one browser signs
// alice in over WS-Federation with the password, then into a SAML 2.0 SP by single sign-on, and a rich
// client gets a token over WS-Trust. Each token leaves one token_issued line of the same shape; the
// authentication methods of the chain are the ones each request brings; and the error policy sends a
// refusal to the SP only once its ACS is chosen from the metadata. Against the Samba DC.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Browser } from '../support/http.js';
import { USERS } from '../support/directory.js';
import { startGatehouse, testKeys, type RunningGatehouse } from '../support/gatehouse.js';
import { makeSp, type TestSp } from '../saml2/sp.js';
import { expectErrorPage, follow, posted, redirectUrlOf, STATUS, statusOf } from '../saml2/support.js';
import { V13, buildRst, postSoap } from '../wstrust/soap-client.js';

const M365 = 'urn:federation:MicrosoftOnline';

let gh: RunningGatehouse;
let sp: TestSp;

beforeAll(async () => {
  sp = makeSp(mkdtempSync(join(tmpdir(), 'pipeline-sp-')), 'pipeline', testKeys().certPem, 'http://placeholder/adfs/ls/');
  gh = await startGatehouse((cfg) => {
    cfg.relyingParties.push({ id: sp.entityId, name: 'Pipeline SP', protocol: 'saml2', metadataFile: sp.metadataFile });
  });
  sp.saml.options.entryPoint = `${gh.url}/adfs/ls/`;
});
afterAll(async () => gh?.close());

const issued = () => gh.logs.filter((l) => l.event === 'token_issued');

describe('one pipeline for WS-Federation, SAML 2.0 and WS-Trust', () => {
  it('writes one token_issued line of one shape per token, naming the method of the chain that authenticated', async () => {
    const before = issued().length;
    const browser = new Browser();
    // WS-Federation: no session, so the login page (the adapter's challenge); a name nobody has (the form
    // again, with the reason); then alice's password (form-password), which starts the session.
    const login = await browser.get(`${gh.url}/adfs/ls/?${new URLSearchParams({ wa: 'wsignin1.0', wtrealm: M365 })}`);
    expect(login.status).toBe(200);
    const refused = await browser.post(new URL(login.form().action, gh.url).toString(), { ...login.form().fields, UserName: 'nobody@corp.example.test', Password: 'x' });
    expect(refused.status).toBe(401);
    const form = refused.form();
    const wsfed = await browser.post(new URL(form.action, gh.url).toString(), { ...form.fields, UserName: USERS.alice.upn, Password: USERS.alice.password });
    expect(wsfed.form().fields.wresult).toBeTruthy();
    // SAML 2.0 in the same browser: single sign-on (session), no password asked.
    const { page, prompted } = await follow(gh, browser, await browser.get(await redirectUrlOf(sp, 'relay')));
    expect(prompted).toBe(false);
    expect(posted(page).action).toBe(sp.acs);
    // WS-Trust: the password in the message (message-password).
    const soap = await postSoap(`${gh.url}${V13.path}`, buildRst(V13, { baseUrl: gh.url, username: USERS.alice.upn, password: USERS.alice.password }));
    expect(soap.status, soap.body).toBe(200);

    const lines = issued().slice(before);
    expect(lines.map((l) => [l.protocol, l.authnMethod, l.realm])).toEqual([
      ['wsfed', 'form-password', M365],
      ['saml2', 'session', sp.entityId],
      ['ws-trust', 'message-password', M365],
    ]);
    const shape = (l: Record<string, unknown>) =>
      Object.keys(l).filter((k) => !['level', 'time', 'pid', 'hostname', 'correlationId', 'msg', 'sid', 'inResponseTo'].includes(k)).sort();
    expect(shape(lines[1]!)).toEqual(shape(lines[0]!));
    expect(shape(lines[2]!)).toEqual(shape(lines[0]!));
    expect(lines[0]).toMatchObject({ user: USERS.alice.upn, endpoint: 'wsfed', encrypted: false });
    expect(lines[2]).toMatchObject({ user: USERS.alice.upn, endpoint: 'ws-trust-1.3', encrypted: false });
    // The browser's two tokens are in one session; WS-Trust has none.
    expect(lines[0]!.sid).toBeTruthy();
    expect(lines[1]!.sid).toBe(lines[0]!.sid);
    expect(lines[2]!.sid).toBeUndefined();
    expect(lines[1]!.inResponseTo).toMatch(/^_/);
    // A step that answered (the login page, the form again, the token) ends the run: nothing runs after it.
    expect(gh.logs.filter((l) => l.level >= 50)).toEqual([]);
  });

  it('error policy: a refusal goes to the ACS the metadata registers, a request whose ACS is not registered gets the error page', async () => {
    // IsPassive without a session: the refusal (NoPassive) is the SP's, at its registered ACS.
    const passive = posted((await new Browser().get(await redirectUrlOf(sp, 'p', { passive: true }))));
    expect(passive.action).toBe(sp.acs);
    expect(statusOf(passive.doc)).toEqual({ code: STATUS.responder, subCode: STATUS.noPassive });
    // The same refusal with an ACS the metadata does not register: the ACS is never chosen, so the browser
    // gets the error page and nothing is posted anywhere.
    const rogue = await new Browser().get(await redirectUrlOf(sp, 'p', { passive: true, callbackUrl: 'https://evil.test.invalid/acs' }));
    expectErrorPage(rogue, 400, /answer address that is not registered/);
    expect(gh.logs.filter((l) => l.level >= 50)).toEqual([]);
  });
});
