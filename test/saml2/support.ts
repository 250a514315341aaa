// Helpers for the SAML 2.0 tests: decoding what Gatehouse sends, encoding what an SP (or an attacker)
// sends, and reading SAML 2.0 XML with XPath. Independent of src/ except for the running server.
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { expect } from 'vitest';
import { Browser, Page } from '../support/http.js';
import { USERS } from '../support/directory.js';
import type { RunningGatehouse } from '../support/gatehouse.js';
import { parseXml, xpathReader } from '../support/xml.js';
import type { TestSp } from './sp.js';

export const SAML2_ASSERTION_ID = ['ID', 'urn:oasis:names:tc:SAML:2.0:assertion:Assertion'] as const;
export const SAML2_RESPONSE_ID = ['ID', 'urn:oasis:names:tc:SAML:2.0:protocol:Response'] as const;
export const SAML2_LOGOUT_RESPONSE_ID = ['ID', 'urn:oasis:names:tc:SAML:2.0:protocol:LogoutResponse'] as const;

export const NS = {
  samlp: 'urn:oasis:names:tc:SAML:2.0:protocol',
  saml: 'urn:oasis:names:tc:SAML:2.0:assertion',
  md: 'urn:oasis:names:tc:SAML:2.0:metadata',
  ds: 'http://www.w3.org/2000/09/xmldsig#',
  xenc: 'http://www.w3.org/2001/04/xmlenc#',
};
export const STATUS = {
  success: 'urn:oasis:names:tc:SAML:2.0:status:Success',
  requester: 'urn:oasis:names:tc:SAML:2.0:status:Requester',
  responder: 'urn:oasis:names:tc:SAML:2.0:status:Responder',
  requestDenied: 'urn:oasis:names:tc:SAML:2.0:status:RequestDenied',
  noPassive: 'urn:oasis:names:tc:SAML:2.0:status:NoPassive',
  invalidNameIdPolicy: 'urn:oasis:names:tc:SAML:2.0:status:InvalidNameIDPolicy',
};
export const PERSISTENT = 'urn:oasis:names:tc:SAML:2.0:nameid-format:persistent';
export const POST_BINDING = 'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST';

/** XPath over SAML 2.0 (`saml` is the SAML 2.0 assertion namespace here). */
export const { value: val, count } = xpathReader(NS);

/** The XML of a base64 SAML message (inflated when it is DEFLATEd, as in the Redirect binding). */
export function decodeSaml(b64: string): string {
  const raw = Buffer.from(b64, 'base64');
  return raw.subarray(0, 64).toString('utf8').trimStart().startsWith('<') ? raw.toString('utf8') : inflateRawSync(raw).toString('utf8');
}

/** Redirect binding: DEFLATE + base64 (the caller URL-encodes through URLSearchParams). */
export const deflate64 = (xml: string) => deflateRawSync(Buffer.from(xml, 'utf8')).toString('base64');
/** POST binding: plain base64. */
export const base64 = (xml: string) => Buffer.from(xml, 'utf8').toString('base64');

/** The base64 SAMLRequest node-saml puts in its auto-posting form (HTTP-POST binding). */
export async function postRequestOf(sp: TestSp, relayState = '', extra: Record<string, unknown> = {}): Promise<{ SAMLRequest: string; RelayState?: string }> {
  const changes = { authnRequestBinding: 'HTTP-POST', ...extra };
  const saved = { ...sp.saml.options };
  Object.assign(sp.saml.options, changes);
  try {
    const html = await sp.saml.getAuthorizeFormAsync(relayState, undefined, {});
    const fields = new Page(200, new Headers(), html).form().fields;
    return { SAMLRequest: fields.SAMLRequest!, ...(fields.RelayState ? { RelayState: fields.RelayState } : {}) };
  } finally {
    for (const k of Object.keys(changes)) delete (sp.saml.options as unknown as Record<string, unknown>)[k];
    Object.assign(sp.saml.options, saved);
  }
}

/** node-saml's Redirect sign-in URL, with some options changed for this one request. */
export async function redirectUrlOf(sp: TestSp, relayState = '', extra: Record<string, unknown> = {}): Promise<string> {
  const saved = { ...sp.saml.options };
  Object.assign(sp.saml.options, extra);
  try {
    return await sp.saml.getAuthorizeUrlAsync(relayState, undefined, {});
  } finally {
    for (const k of Object.keys(extra)) delete (sp.saml.options as unknown as Record<string, unknown>)[k];
    Object.assign(sp.saml.options, saved);
  }
}

/**
 * Follows a SAML sign-in in `browser`: the redirect to Gatehouse's sign-in page, alice's password when it
 * is asked for, and returns the page that auto-posts to the SP (or whatever came instead).
 */
export async function follow(gh: RunningGatehouse, browser: Browser, first: Page, user: { upn: string; password: string } = USERS.alice): Promise<{ page: Page; prompted: boolean }> {
  let page = first;
  let prompted = false;
  for (let hops = 0; hops < 3 && (page.status === 303 || page.status === 302); hops++) {
    const to = new URL(page.headers.get('location')!, gh.url);
    if (to.origin !== gh.url) break;
    page = await browser.get(to.toString());
  }
  if (page.body.includes('name="Password"')) {
    prompted = true;
    const form = page.form();
    page = await browser.post(new URL(form.action, gh.url).toString(), { ...form.fields, UserName: user.upn, Password: user.password });
  }
  return { page, prompted };
}

/** A page that auto-posts a SAML message: its target, the decoded XML and the parsed document. */
export function posted(page: Page, param: 'SAMLResponse' | 'SAMLRequest' = 'SAMLResponse') {
  expect(page.status, page.body.slice(0, 300)).toBe(200);
  const form = page.form();
  const b64 = form.fields[param];
  expect(b64, `no ${param} in the page`).toBeTruthy();
  const xml = decodeSaml(b64!);
  return { action: form.action, fields: form.fields, b64: b64!, xml, doc: parseXml(xml) };
}

/** A refusal shown as Gatehouse's error page: no redirect, no SAML message, no token. */
export function expectErrorPage(page: Page, status: number, message?: RegExp) {
  expect(page.status, page.body.slice(0, 300)).toBe(status);
  expect(page.headers.get('location')).toBeNull();
  expect(page.body).not.toMatch(/SAMLResponse|SAMLRequest|wresult/);
  expect(page.body).not.toMatch(/Assertion/);
  if (message) expect(page.text('#error') ?? page.body).toMatch(message);
}

/** The status of a samlp:Response / LogoutResponse: top-level and second-level codes. */
export function statusOf(doc: Node): { code?: string | undefined; subCode?: string | undefined } {
  return {
    code: val(doc, '/*/samlp:Status/samlp:StatusCode/@Value'),
    subCode: val(doc, '/*/samlp:Status/samlp:StatusCode/samlp:StatusCode/@Value'),
  };
}

/** The saml:Assertion element of a Response, as the exact text sent (exc-c14n makes it verifiable alone). */
export function assertionXml(responseXml: string): string {
  const start = responseXml.indexOf('<saml:Assertion ');
  const end = responseXml.indexOf('</saml:Assertion>');
  expect(start).toBeGreaterThan(0);
  return responseXml.slice(start, end + '</saml:Assertion>'.length);
}
